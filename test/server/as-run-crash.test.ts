// The as-run log across a crash: a child process records rows while the database cannot be
// reached (they go to the journal only), prints how many are durable and is killed with
// SIGKILL. The restarted recorder writes every row exactly once — also the ones a crash caught
// between the database commit and the journal's acknowledgement (written, never acknowledged).
//
// The same file is the child: with LOA_AS_RUN_CHILD set it runs the recorder instead of tests.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { ProgrammeCatalog } from '../../server/broadcast/programme-catalog.js';
import { startAsRunRecorder } from '../../server/as-run/recorder.js';
import { createLogger } from '../../server/logger.js';
import type { EngineEvents } from '../../engine/engine.js';
import type { DB } from '../../server/db/types.js';

const ROWS = 12;
const T0 = Date.parse('2026-11-23T17:00:00+07:00');

async function child(dir: string): Promise<void> {
  const engine = new EventEmitter<EngineEvents>();
  const catalog = new ProgrammeCatalog();
  catalog.register({ programmeId: 'prg_news', title: 'Thời sự', kind: 'media', priority: 200, zoneIds: ['z1'], by: 'usr_1', requestedAtMs: T0 });
  const unreachable = {
    get db(): Kysely<DB> {
      throw new Error('database unreachable');
    },
  };
  const recorder = await startAsRunRecorder({
    engine,
    catalog,
    database: unreachable,
    config: { dataDir: dir },
    logger: createLogger({ level: 'silent' }),
    writer: { retryMinMs: 1000, retryMaxMs: 1000 },
  });
  for (let i = 0; i < ROWS; i++) {
    engine.emit('programme', { type: 'programme', programmeId: 'prg_news', zoneId: 'z1', state: i % 2 === 0 ? 'on-air' : 'ended', atMs: T0 + i * 1000, frame: i * 50, positionMs: 0 });
  }
  while (recorder.journal.durableSeq < ROWS) await new Promise((r) => setTimeout(r, 5));
  process.stdout.write(`durable ${recorder.journal.durableSeq}\n`);
  setInterval(() => {}, 1000); // wait for the kill
}

if (process.env.LOA_AS_RUN_CHILD) {
  await child(process.env.LOA_AS_RUN_CHILD);
} else {
  const { default: t } = await import('tap');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { openTestDatabase } = await import('../helpers/database.js');
  const { AsRunJournal } = await import('../../scheduler/as-run-journal.js');
  const { writeAsRunRecords } = await import('../../server/as-run/store.js');
  const { asRunDir } = await import('../../server/as-run/recorder.js');
  const { timetableDb } = await import('../../server/timetable/tables.js');

  t.test('kill -9 after journaling, before the database write: the restart writes each row once', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-as-run-crash-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, LOA_AS_RUN_CHILD: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    const durable = await new Promise<number>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /durable (\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
    });
    t.equal(durable, ROWS, 'the child made every row durable');
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));

    const database = await openTestDatabase(t);
    // A crash between commit and acknowledge: the first five rows are in the table, the journal does not know.
    const journal = await AsRunJournal.open(asRunDir({ dataDir: dir }));
    t.equal(journal.pendingCount, ROWS, 'the journal reopens with every unwritten row');
    await writeAsRunRecords(database.db, journal.id, journal.pending(5));
    await journal.close();

    const recorder = await startAsRunRecorder({
      engine: new EventEmitter<EngineEvents>(),
      catalog: new ProgrammeCatalog(),
      database,
      config: { dataDir: dir },
      logger: createLogger({ level: 'silent' }),
    });
    t.teardown(() => recorder.close());
    await recorder.flushed();
    const rows = await timetableDb(database.db).selectFrom('as_run').select(['seq', 'event', 'programme', 'at']).orderBy('seq').execute();
    t.same(rows.map((r) => r.seq), Array.from({ length: ROWS }, (_, i) => i + 1), 'each row exactly once');
    t.equal(rows[0].programme, 'Thời sự', 'described from the catalog of the process that crashed');
    t.equal(rows[ROWS - 1].at.getTime(), T0 + (ROWS - 1) * 1000);
    t.equal(recorder.journal.pendingCount, 0);
  });
}
