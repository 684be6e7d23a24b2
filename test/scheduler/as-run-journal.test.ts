import t from 'tap';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsRunJournal } from '../../scheduler/as-run-journal.js';
import type { AsRunRow } from '../../scheduler/as-run.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-journal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const row = (i: number, extra: Partial<AsRunRow> = {}): AsRunRow => ({
  zoneId: 'xa-an-binh',
  programme: `Chương trình ${i}`,
  programmeKind: 'media',
  event: 'start',
  atUtcMs: 1_795_000_000_000 + i,
  by: 'timetable',
  reason: `r${i}`,
  ...extra,
});
const segmentsOf = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('seg-')).sort();

t.test('append, pending, acknowledge, reopen', async (t) => {
  const dir = await tempDir(t);
  const j = await AsRunJournal.open(dir);
  t.same(await j.append([row(1), row(2)]), [1, 2]);
  t.same(await j.append([row(3)]), [3]);
  t.same(j.pending().map((r) => [r.seq, r.row.reason]), [[1, 'r1'], [2, 'r2'], [3, 'r3']]);
  await j.acknowledge(2);
  t.same(j.pending().map((r) => r.seq), [3]);
  await t.rejects(j.acknowledge(9), RangeError, 'cannot acknowledge rows that are not durable');
  await t.rejects(j.append([{ ...row(4), event: 'paused' as never }]), /as-run row 0: event must be one of/);
  const id = j.id;
  await j.close();

  const k = await AsRunJournal.open(dir);
  t.equal(k.id, id, 'the journal keeps its id');
  t.equal(k.ackedSeq, 2);
  t.same(k.pending().map((r) => [r.seq, r.row]), [[3, row(3)]], 'the unacknowledged row, exactly once, intact');
  t.same(await k.append([row(4)]), [4], 'sequence numbers continue');
  await k.acknowledge(4);
  await k.close();
  const l = await AsRunJournal.open(dir);
  t.same(l.pending(), []);
  t.same(await l.append([row(5)]), [5], 'numbers never go back, even with nothing pending');
  await l.close();
});

t.test('group commit: appends within the window share one write and sync', async (t) => {
  const dir = await tempDir(t);
  const j = await AsRunJournal.open(dir, { groupCommitMs: 5 });
  t.teardown(() => j.close());
  let flushes = 0;
  j.on('durable', () => flushes++);
  const all = await Promise.all(Array.from({ length: 50 }, (_, i) => j.append([row(i)])));
  t.same(all.flat(), Array.from({ length: 50 }, (_, i) => i + 1));
  t.equal(flushes, 1);
  t.equal(j.durableSeq, 50);
});

t.test('a torn last record is dropped, earlier rows kept', async (t) => {
  const dir = await tempDir(t);
  const j = await AsRunJournal.open(dir);
  await j.append([row(1), row(2), row(3)]);
  await j.close();
  const [seg] = await segmentsOf(dir);
  const text = await readFile(join(dir, seg), 'utf8');
  const firstLine = text.slice(0, text.indexOf('\n') + 1);
  // A crash in the middle of writing record 4: half a line, no newline.
  await appendFile(join(dir, seg), firstLine.slice(0, 40));
  const k = await AsRunJournal.open(dir);
  t.equal(k.openReport.tornBytes, 40);
  t.same(k.pending().map((r) => r.row.reason), ['r1', 'r2', 'r3']);
  t.same(await k.append([row(4)]), [4]);
  await k.close();
  t.equal((await readFile(join(dir, seg), 'utf8')).split('\n').length, 5, 'tail truncated, new record on its own line');

  // A whole last line with a bad checksum (torn inside a multi-record write) is dropped too.
  const broken = firstLine.replace('Chương trình 1', 'Chương trình X');
  await appendFile(join(dir, seg), broken);
  const l = await AsRunJournal.open(dir);
  t.equal(l.openReport.tornBytes, Buffer.byteLength(broken));
  t.same(l.pending().map((r) => r.row.reason), ['r1', 'r2', 'r3', 'r4']);
  await l.close();
});

t.test('a corrupt record in the middle is skipped and counted, the rest kept', async (t) => {
  const dir = await tempDir(t);
  const j = await AsRunJournal.open(dir);
  await j.append([row(1), row(2), row(3)]);
  await j.close();
  const [seg] = await segmentsOf(dir);
  const lines = (await readFile(join(dir, seg), 'utf8')).split('\n');
  lines[1] = lines[1].replace('"r2"', '"R2"');
  await writeFile(join(dir, seg), lines.join('\n'));
  const k = await AsRunJournal.open(dir);
  t.equal(k.openReport.corruptLines, 1);
  t.equal(k.openReport.tornBytes, 0);
  t.same(k.pending().map((r) => r.row.reason), ['r1', 'r3']);
  await k.close();
});

t.test('segments roll, and compact() removes only acknowledged ones', async (t) => {
  const dir = await tempDir(t);
  const j = await AsRunJournal.open(dir, { segmentBytes: 600 });
  for (let i = 1; i <= 20; i++) await j.append([row(i)]);
  const before = await segmentsOf(dir);
  t.ok(before.length >= 4, `several segments (${before.length})`);
  await j.acknowledge(12);
  const removed = await j.compact();
  t.ok(removed >= 1);
  t.same((await segmentsOf(dir)).length, before.length - removed);
  await j.close();
  const k = await AsRunJournal.open(dir, { segmentBytes: 600 });
  t.same(k.pending().map((r) => r.seq), [13, 14, 15, 16, 17, 18, 19, 20]);
  await k.acknowledge(20);
  await k.compact();
  t.same(k.pending(), []);
  t.equal((await segmentsOf(dir)).length, 1, 'only the fresh active segment is left');
  t.same(await k.append([row(21)]), [21]);
  await k.close();
});

t.test('kill -9 mid-stream: every durable row is there exactly once', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/journal-child.ts', import.meta.url)), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      // Let it run through several segments and acknowledgements, then pull the plug mid-stream.
      if ((out.match(/^D /gm)?.length ?? 0) >= 400 && child.signalCode === null) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  t.equal(await exited, 'SIGKILL');
  const lines = out.split('\n').slice(0, -1); // the last piece may be cut mid-line
  const durable = new Map<number, string>();
  let lastAck = 0;
  for (const line of lines) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'D') {
      const seqs = a.split(',').map(Number);
      const reasons = b.split(',');
      seqs.forEach((s, i) => durable.set(s, reasons[i]));
    } else if (kind === 'A') lastAck = Number(a);
  }
  t.ok(durable.size >= 800 && lastAck > 0, `child wrote ${durable.size} durable rows, acknowledged up to ${lastAck}`);

  const j = await AsRunJournal.open(dir);
  t.teardown(() => j.close());
  t.ok(j.ackedSeq >= lastAck, 'acknowledgements survive');
  const pending = j.pending();
  const seqs = pending.map((r) => r.seq);
  t.ok(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1), 'pending rows are contiguous and in order (no duplicates)');
  t.ok(seqs.length === 0 || seqs[0] === j.ackedSeq + 1, 'pending starts right after the acknowledged ones');
  const bySeq = new Map(pending.map((r) => [r.seq, r.row]));
  let missing = 0;
  let wrong = 0;
  for (const [seq, reason] of durable) {
    if (seq <= j.ackedSeq) continue;
    const r = bySeq.get(seq);
    if (!r) missing++;
    else if (r.reason !== reason) wrong++;
  }
  t.equal(missing, 0, 'no durable unacknowledged row lost');
  t.equal(wrong, 0, 'each row is the one that was appended');
  t.ok(pending.every((r) => r.row.programme.startsWith('Bản tin thời sự số')), 'Vietnamese text intact');
});
