// programmeStarted: once per programme, on the frame that first runs it, with each zone's state
// there (on-air, or waiting behind a higher priority); what the API answers a play with.
import t from 'tap';
import { PRIORITY } from '../../domain/priority.js';
import type { ProgrammeStartedEvent } from '../../engine/protocol.js';
import { harness } from './helpers.js';

const started = (events: readonly { type: string }[], id: string) =>
  events.filter((e): e is ProgrammeStartedEvent => e.type === 'programmeStarted' && (e as ProgrammeStartedEvent).programmeId === id);

t.test('on the first frame: on-air where it wins, waiting where a higher priority holds the zone', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.plane.handle({ type: 'play', programmeId: 'alert', zones: ['v1'], priority: PRIORITY.emergency, source: { kind: 'tone', freqHz: 1000 } });
  t.same(started(h.events, 'alert'), [], 'not before a frame ran it');
  h.frames(1);
  const a = started(h.events, 'alert');
  t.equal(a.length, 1);
  t.same(a[0].zones, [{ zoneId: 'v1', state: 'on-air' }]);
  const onAir = h.zoneEvents('alert', 'v1')[0];
  t.equal(a[0].frame, onAir.frame, 'the frame it went on air');
  t.equal(a[0].atMs, onAir.atMs);

  h.plane.handle({ type: 'play', programmeId: 'music', zones: ['c1'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 440 } });
  h.frames(1);
  const m = started(h.events, 'music');
  t.equal(m.length, 1);
  const states = Object.fromEntries(m[0].zones.map((z) => [z.zoneId, z.state]));
  t.same(states, { v1: 'waiting', v2: 'on-air' }, 'v1 held by the alert, v2 free');
  h.frames(20);
  t.equal(started(h.events, 'music').length + started(h.events, 'alert').length, 2, 'once per programme');
});

t.test('a scheduled programme is announced on its start frame; a refused or stopped one never', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  const at = h.plane.clock.frameWallMs(h.plane.clock.upcomingFrame() + 10);
  h.plane.handle({ type: 'play', programmeId: 'later', zones: ['v3'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 500 }, startAt: at });
  h.plane.handle({ type: 'play', programmeId: 'nowhere', zones: ['no-such-zone'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 500 } });
  h.plane.handle({ type: 'play', programmeId: 'gone', zones: ['v2'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 500 }, startAt: at });
  h.plane.handle({ type: 'stop', programmeId: 'gone' });
  h.frames(15);
  const l = started(h.events, 'later');
  t.equal(l.length, 1);
  t.equal(l[0].atMs, at, 'on the frame asked for');
  t.same(l[0].zones, [{ zoneId: 'v3', state: 'on-air' }]);
  t.same(started(h.events, 'nowhere'), [], 'refused: an error, no start');
  t.same(started(h.events, 'gone'), [], 'stopped before its frame: no start');
});
