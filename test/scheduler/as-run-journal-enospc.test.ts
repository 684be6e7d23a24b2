// Disk full, for real: the journal runs in a child process inside a private mount namespace
// (`unshare -m`) whose journal directory is a 256 KiB tmpfs; the child fills it until the kernel
// answers ENOSPC. No fake file system: this needs root (mount) and util-linux's unshare, and is
// skipped, saying so, where they are missing.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const canMount = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

t.test('ENOSPC: rows are held, the journal recovers by itself when space returns, nothing is lost', { skip: canMount ? false : 'needs root and unshare -m for a real tmpfs' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-enospc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = fileURLToPath(new URL('./fixtures/journal-enospc-child.ts', import.meta.url));
  // The mount lives and dies with the namespace: nothing to unmount afterwards.
  const script = `mount -t tmpfs -o size=256k loa-enospc "$1" && exec "$2" --import tsx "$3" "$1"`;
  const proc = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', dir, process.execPath, child], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  t.equal(code, 0, `child ran (${err.slice(-2000)})`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as {
    fillError: string;
    durableBefore: number;
    whileFull: { degraded: { code: string; heldRows: number } | null; durableSeq: number; resolved: number; rejected: string[] };
    failures: { code: string | null; heldRows: number }[];
    recoveries: { rows: number }[];
    appendsResolved: number[] | null;
    afterFree: { degraded: unknown; durableSeq: number; pending: [number, string][] };
    replay: { pending: [number, string][]; report: { tornBytes: number; corruptLines: number } };
    dropped: number;
  };
  t.equal(r.fillError, 'ENOSPC', 'the file system really was full');
  t.equal(r.durableBefore, 5);
  t.equal(r.whileFull.degraded?.code, 'ENOSPC', 'degraded while full, with the reason');
  // The last page of the segment file may still hold a few rows after the filler took the rest.
  const held = r.whileFull.degraded?.heldRows ?? 0;
  t.ok(held >= 20, `rows of the full period held in memory (${held})`);
  t.same(r.whileFull.rejected, [], 'no append refused');
  t.equal(r.whileFull.durableSeq - 5, r.whileFull.resolved, 'an append resolves only once its row is durable');
  t.equal(r.whileFull.resolved + held, 60, 'every row is either durable or held');
  t.ok(r.failures.length >= 2, `it kept retrying (${r.failures.length} failed writes)`);
  t.ok(r.failures.every((f) => f.code === 'ENOSPC'));
  t.same(r.recoveries.map((x) => x.rows), [held], 'recovered once, by itself, writing the held rows');
  const all = Array.from({ length: 65 }, (_, k) => [k + 1, `r${k + 1}`]);
  t.same(r.appendsResolved, all.slice(5).map(([s]) => s), 'each held append resolved with its own sequence number');
  t.equal(r.afterFree.degraded, null);
  t.equal(r.afterFree.durableSeq, 65);
  t.same(r.afterFree.pending, all, 'all 65 rows pending for the database, in order, once each');
  t.same(r.replay.pending, all, 'and the same after reopening: the failed writes left no partial line');
  t.same(r.replay.report, { records: 65, tornBytes: 0, corruptLines: 0 });
  t.equal(r.dropped, 0, 'nothing dropped');
});

t.test('beyond maxHeldRows new rows are refused and counted, earlier ones kept', async (t) => {
  const { AsRunJournal, JournalFullError } = await import('../../scheduler/as-run-journal.js');
  const dir = mkdtempSync(join(tmpdir(), 'loa-journal-bound-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const j = await AsRunJournal.open(dir, { maxHeldRows: 3, groupCommitMs: 50 });
  t.teardown(() => j.close());
  const row = (i: number) => ({ zoneId: 'z', programme: `p${i}`, programmeKind: 'media' as const, event: 'start' as const, atUtcMs: 1_795_000_000_000 + i, by: 'manual' as const });
  // Within one group-commit window the rows wait in memory like held rows do.
  const kept = j.append([row(1), row(2)]);
  await t.rejects(j.append([row(3), row(4)]), JournalFullError, 'a fourth waiting row is refused');
  t.equal(j.droppedRows, 2, 'and counted');
  t.same(await kept, [1, 2], 'the earlier rows are written');
  t.same(await j.append([row(5)]), [3], 'no gap in sequence numbers');
});
