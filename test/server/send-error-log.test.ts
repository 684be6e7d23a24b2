import t from 'tap';
import type { StreamStatsEvent } from '../../engine/protocol.js';
import { SendErrorLog } from '../../server/broadcast/send-error-log.js';

const stats = (over: Partial<StreamStatsEvent>): StreamStatsEvent => ({
  type: 'streamStats',
  zoneId: 'z',
  codec: 'pcmu',
  ssrc: 1,
  packets: 0,
  octets: 0,
  destinations: 2,
  encodes: 0,
  atMs: 0,
  sendErrors: 0,
  sendDropped: 0,
  failing: [],
  ...over,
});

t.test('send failures are logged once per interval per stream, with what happened since the last line', (t) => {
  const lines: [Record<string, unknown>, string][] = [];
  let now = 0;
  const log = new SendErrorLog({ warn: ((o: Record<string, unknown>, m: string) => void lines.push([o, m])) as never }, 60_000, () => now);
  const failing = [{ key: 'ep1', host: '198.51.100.7', port: 4000, errors: 250, dropped: 0, lastError: 'ENETUNREACH' }];
  log.onStreamStats(stats({}));
  t.equal(lines.length, 0, 'nothing failed: nothing logged');
  log.onStreamStats(stats({ sendErrors: 250, failing }));
  t.equal(lines.length, 1);
  t.match(lines[0][0], { zoneId: 'z', codec: 'pcmu', sendErrors: 250, totalSendErrors: 250, destinations: failing });
  t.match(lines[0][1], /could not send/);
  for (let i = 1; i <= 11; i++) {
    now = i * 5000;
    log.onStreamStats(stats({ sendErrors: 250 + i * 250, failing }));
  }
  t.equal(lines.length, 1, 'a minute of failures every 5 s: no new line yet');
  t.equal(log.suppressed, 11);
  now = 60_000;
  log.onStreamStats(stats({ sendErrors: 3250, sendDropped: 7, failing }));
  t.equal(lines.length, 2, 'the next line after a minute');
  t.match(lines[1][0], { sendErrors: 3000, sendDropped: 7, totalSendErrors: 3250 }, 'it counts everything since the last line');
  now = 200_000;
  log.onStreamStats(stats({ sendErrors: 3250, sendDropped: 7, failing }));
  t.equal(lines.length, 2, 'no new failure: no line');
  log.onStreamStats(stats({ zoneId: 'other', sendDropped: 3 }));
  t.equal(lines.length, 3, 'another stream has its own interval');
  log.onStreamStats(stats({ ssrc: 2, sendErrors: 5 }));
  t.match(lines[3][0], { sendErrors: 5 }, 'a new stream (SSRC) counts from zero');
  t.end();
});
