import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsRunJournal, type JournalRecord } from '../../scheduler/as-run-journal.js';
import { AsRunWriter } from '../../scheduler/as-run-writer.js';
import type { AsRunRow } from '../../scheduler/as-run.js';

const row = (i: number): AsRunRow => ({
  zoneId: 'xa-an-binh', programme: `Chương trình ${i}`, programmeKind: 'media', event: 'start',
  atUtcMs: 1_795_000_000_000 + i, by: 'timetable', reason: `r${i}`,
});

async function openJournal(t: { teardown(fn: () => Promise<void>): void }): Promise<{ dir: string; journal: AsRunJournal }> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-writer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { dir, journal: await AsRunJournal.open(dir, { groupCommitMs: 1 }) };
}

t.test('retries when the database is down, then delivers everything in order', async (t) => {
  const { journal } = await openJournal(t);
  t.teardown(() => journal.close());
  await journal.append([row(1), row(2), row(3)]);
  const stored: JournalRecord[] = [];
  const attempts: number[] = [];
  let failuresLeft = 4;
  const writer = new AsRunWriter({
    journal,
    batchSize: 2,
    retryMinMs: 1,
    retryMaxMs: 4,
    write: async (records) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      }
      stored.push(...records);
    },
    onError: (_err, attempt) => attempts.push(attempt),
  });
  writer.start();
  t.teardown(() => writer.close());
  // Rows keep arriving while the database is down.
  await journal.append([row(4)]);
  await journal.append([row(5), row(6), row(7)]);
  await writer.drained();
  t.same(attempts, [1, 2, 3, 4], 'each failure is reported with its attempt number');
  t.same(stored.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7], 'order preserved, nothing twice, nothing skipped');
  t.same(stored.map((r) => r.row.reason), ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
  t.equal(journal.ackedSeq, 7);
  t.same(journal.pending(), []);
  t.match(writer.stats, { written: 7, failures: 4, attempt: 0 });
  // Later rows flow without delay once healthy.
  await journal.append([row(8)]);
  await writer.drained();
  t.same(stored.map((r) => r.seq).at(-1), 8);
});

t.test('backoff grows and is capped', async (t) => {
  const { journal } = await openJournal(t);
  t.teardown(() => journal.close());
  await journal.append([row(1)]);
  const delays: number[] = [];
  let fail = 6;
  const writer = new AsRunWriter({
    journal, retryMinMs: 1, retryMaxMs: 8,
    write: async () => { if (fail-- > 0) throw new Error('down'); },
    onError: (_e, _a, retryInMs) => delays.push(retryInMs),
  });
  writer.start();
  t.teardown(() => writer.close());
  await writer.drained();
  t.same(delays, [1, 2, 4, 8, 8, 8]);
});

t.test('rows left by a writer stopped during an outage are replayed after a restart', async (t) => {
  const { dir, journal } = await openJournal(t);
  await journal.append([row(1), row(2)]);
  const first = new AsRunWriter({ journal, retryMinMs: 1000, write: async () => { throw new Error('down'); } });
  first.start();
  await journal.append([row(3)]);
  await first.close();
  await journal.close();

  const reopened = await AsRunJournal.open(dir);
  t.teardown(() => reopened.close());
  const stored: number[] = [];
  const second = new AsRunWriter({ journal: reopened, write: async (rs) => { stored.push(...rs.map((r) => r.seq)); } });
  second.start();
  t.teardown(() => second.close());
  await second.drained();
  t.same(stored, [1, 2, 3]);
});
