// The pieces that put a programme back where it was: the playhead kept from engine events
// (moving while on air, held while preempted), a source moved to an offset (files seek,
// generators keep what is left of their duration), the ledger that survives a kill -9
// (a torn temp file never shadows the last whole list), and the as-run rows that close what
// a crash left open (never before their own start, with the media position moved along).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import { PlayheadTracker, playheadPosition } from '../../server/broadcast/playheads.js';
import { sourceAtOffset } from '../../server/broadcast/resume-source.js';
import { ProgrammeLedger, type DurableProgramme } from '../../server/broadcast/programme-ledger.js';
import { OpenIntervals, closingRows, readOnAirMark, writeOnAirMark } from '../../server/as-run/on-air-marks.js';
import type { AsRunRow } from '../../scheduler/as-run.js';

const ev = (programmeId: string, zoneId: string, state: ProgrammeZoneEvent['state'], atMs: number, positionMs: number): ProgrammeZoneEvent => ({
  type: 'programme',
  programmeId,
  zoneId,
  state,
  atMs,
  frame: Math.round(atMs / 20),
  positionMs,
});

t.test('playhead: moves on air, holds when preempted everywhere, follows the furthest zone', async (t) => {
  const p = new PlayheadTracker();
  t.equal(p.get('a'), undefined);
  p.apply(ev('a', 'z1', 'on-air', 1000, 0));
  p.apply(ev('a', 'z2', 'on-air', 1000, 0));
  t.equal(playheadPosition(p.get('a')!, 4000), 3000, 'on air: one ms per ms');
  t.equal(p.get('a')!.firstAirAtMs, 1000);
  p.apply(ev('a', 'z1', 'preempted', 3000, 2000));
  t.equal(playheadPosition(p.get('a')!, 5000), 4000, 'z2 still airs it: its position counts');
  p.apply(ev('a', 'z2', 'preempted', 3500, 2500));
  t.equal(playheadPosition(p.get('a')!, 9000), 2500, 'preempted everywhere: held');
  // Replayed from 2500 ms as a generator that reports positions from 0.
  p.setBase('a', 2500, p.get('a'));
  t.equal(playheadPosition(p.get('a')!, 9000), 2500, 'until the new worker reports, the carried playhead');
  p.apply(ev('a', 'z1', 'on-air', 10_000, 0));
  t.equal(playheadPosition(p.get('a')!, 11_000), 3500, 'then its positions plus the base');
  t.equal(p.get('a')!.firstAirAtMs, 1000, 'max duration still counts from the first air');
  p.forget('a');
  t.equal(p.get('a'), undefined);
});

t.test('a source at an offset', async (t) => {
  t.same(sourceAtOffset({ kind: 'file', path: '/m.wav' }, 12_345.4), { spec: { kind: 'file', path: '/m.wav', startMs: 12_345 }, positionBaseMs: 0 });
  t.same(sourceAtOffset({ kind: 'file', path: '/m.wav', startMs: 500 }, undefined), { spec: { kind: 'file', path: '/m.wav', startMs: 500 }, positionBaseMs: 0 }, 'never played: as is');
  t.same(sourceAtOffset({ kind: 'tone', freqHz: 440, durationMs: 5000 }, 2000), { spec: { kind: 'tone', freqHz: 440, durationMs: 3000 }, positionBaseMs: 2000 });
  t.equal(sourceAtOffset({ kind: 'siren', lowHz: 600, highHz: 1200, periodMs: 4000, durationMs: 5000 }, 5000), null, 'nothing left');
  t.same(sourceAtOffset({ kind: 'siren', lowHz: 600, highHz: 1200, periodMs: 4000 }, 60_000)?.positionBaseMs, 60_000, 'endless: goes on');
  t.same(sourceAtOffset({ kind: 'gain', gainDb: -6, source: { kind: 'file', path: '/m.wav' } }, 1000)?.spec, { kind: 'gain', gainDb: -6, source: { kind: 'file', path: '/m.wav', startMs: 1000 } });
});

t.test('the ledger survives a reopen; a torn temp file does not shadow it', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-ledger-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const errors: unknown[] = [];
  const { ledger, recovered } = await ProgrammeLedger.open(dir, (e) => errors.push(e));
  t.same(recovered, []);
  const p: DurableProgramme = { programmeId: 'prg_1', zoneIds: ['z1'], priority: 500, source: { kind: 'siren', lowHz: 600, highHz: 1200, periodMs: 4000 }, title: 'Báo động', kind: 'siren', by: 'usr_1', requestedAtMs: 1000 };
  ledger.put(p);
  ledger.put({ ...p, programmeId: 'prg_2' });
  ledger.setPlayhead('prg_1', { atMs: 2000, positionMs: 1000, running: true, firstAirAtMs: 1000 });
  ledger.remove('prg_2');
  await ledger.flushed();
  writeFileSync(path.join(dir, 'active.json.tmp'), '{"v":1,"programmes":[{"progr');
  const again = await ProgrammeLedger.open(dir, (e) => errors.push(e));
  t.same(again.recovered, [{ ...p, playhead: { atMs: 2000, positionMs: 1000, running: true, firstAirAtMs: 1000 } }]);
  t.same(errors, []);
  writeFileSync(path.join(dir, 'active.json'), 'not json');
  const broken = await ProgrammeLedger.open(dir, (e) => errors.push(e));
  t.same(broken.recovered, [], 'an unreadable ledger recovers nothing');
  t.equal(errors.length, 1, 'and says so');
});

t.test('intervals a crash left open close at the last mark, never before they started', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-marks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const row = (event: AsRunRow['event'], atUtcMs: number, manualProgrammeId: string, mediaPositionMs = 0): AsRunRow => ({
    zoneId: 'z1',
    programme: 'x',
    programmeKind: 'media',
    event,
    atUtcMs,
    manualProgrammeId,
    mediaPositionMs,
    by: 'usr_1',
  });
  const open = new OpenIntervals();
  open.apply(row('start', 1000, 'a'));
  open.apply(row('start', 1000, 'b'));
  open.apply(row('preempted', 3000, 'b', 2000));
  open.apply(row('start', 9000, 'c'));
  t.same(open.rows().map((r) => r.manualProgrammeId), ['a', 'c']);
  await writeOnAirMark(dir, { atMs: 8000, open: open.rows() });
  const mark = await readOnAirMark(dir);
  const closed = closingRows(mark!.open, mark!.atMs, 'interrupted');
  t.same(
    closed.map((r) => [r.manualProgrammeId, r.event, r.reason, r.atUtcMs, r.mediaPositionMs]),
    [
      ['a', 'end', 'interrupted', 8000, 7000],
      ['c', 'end', 'interrupted', 9000, 0],
    ],
  );
  t.equal(await readOnAirMark(path.join(dir, 'missing')), undefined);
});
