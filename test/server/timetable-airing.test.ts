// From a planned airing to the engine's play command: files, playlists (as a sequence of
// files, entered mid-way on recovery), relays, the duration cap, startAt, and nothing to play
// when the offset is past the end.
import t from 'tap';
import { airingPlay } from '../../server/timetable/airing-source.js';
import type { Airing } from '../../scheduler/planner.js';
import type { MediaFileInfo } from '../../server/timetable/media-catalog.js';

const files: Record<string, MediaFileInfo> = {
  a: { id: 'a', path: '/m/a', title: 'Tin sáng', durationMs: 60_000, zoneId: 'z' },
  b: { id: 'b', path: '/m/b', title: 'Nhạc', durationMs: 120_000, zoneId: 'z' },
};
const media = (id: string) => files[id];
const base: Airing = { airingId: 'e@t', entryId: 'e', zoneIds: ['z'], programme: { kind: 'media', mediaId: 'a' }, priority: 200, startUtcMs: 1_000_000, policy: 'cut-in' };

t.test('a file ahead of its start: startAt is the airing start, cap from the end', async (t) => {
  const r = airingPlay({ ...base, endUtcMs: 1_030_000 }, 0, media);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.value.play, { programmeId: 'e@t', zones: ['z'], priority: 200, source: { kind: 'file', path: '/m/a' }, maxDurationMs: 30_000, startAt: 1_000_000 });
  t.equal(r.value.title, 'Tin sáng');
});

t.test('recovery: the file seeks to the offset, the cap shrinks by it', async (t) => {
  const r = airingPlay({ ...base, endUtcMs: 1_030_000, maxDurationMs: 20_000 }, 12_000, media, 'e@t', 1_012_000);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.value.play.source, { kind: 'file', path: '/m/a', startMs: 12_000 });
  t.equal(r.value.play.maxDurationMs, 8_000, 'the earlier of end and max duration');
  t.equal(r.value.play.startAt, 1_012_000);
  t.notOk(airingPlay({ ...base, endUtcMs: 1_030_000 }, 30_000, media).ok, 'nothing left at its end');
  t.notOk(airingPlay(base, 60_000, media).ok, 'nothing left past the file');
});

t.test('a playlist is a sequence of files; recovery enters it mid-way', async (t) => {
  const p: Airing = { ...base, programme: { kind: 'playlist', mediaIds: ['a', 'b'] } };
  const r0 = airingPlay(p, 0, media);
  t.same(r0.ok && r0.value.play.source, { kind: 'sequence', items: [{ kind: 'file', path: '/m/a' }, { kind: 'file', path: '/m/b' }] });
  t.equal(r0.ok && r0.value.title, 'Tin sáng + Nhạc');
  const r1 = airingPlay(p, 75_000, media);
  t.same(r1.ok && r1.value.play.source, { kind: 'sequence', items: [{ kind: 'file', path: '/m/b', startMs: 15_000 }] });
  t.notOk(airingPlay(p, 180_000, media).ok);
  const missing = airingPlay({ ...base, programme: { kind: 'playlist', mediaIds: ['a', 'gone'] } }, 0, media);
  t.same(missing, { ok: false, reason: 'media gone is unknown' });
});

t.test('a relay plays the station live, from wherever it is', async (t) => {
  const r = airingPlay({ ...base, programme: { kind: 'relay', url: 'http://radio.example.vn/vov1' }, maxDurationMs: 3_600_000 }, 600_000, media, 'e@t', 1_600_000);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.value.play.source, { kind: 'relay', url: 'http://radio.example.vn/vov1' });
  t.equal(r.value.play.maxDurationMs, 3_000_000);
  t.equal(r.value.title, 'http://radio.example.vn/vov1');
});
