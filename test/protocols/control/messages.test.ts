import t from 'tap';
import {
  CONTROL_PROTOCOL_VERSION,
  MAX_CONTROL_MESSAGE_BYTES,
  RejectCounter,
  decodeMessage,
  encodeMessage,
  type ControlMessage,
  type Outgoing,
} from '../../../protocols/control/messages.js';

const stats = {
  packetsLost: 3,
  packetsReceived: 997,
  lossFraction: 0.003,
  jitterMs: 1.25,
  bufferDelayMs: 148.5,
  underruns: 1,
  late: 2,
  concealed: 3,
  dropped: 0,
  clockOffsetMs: -180_000.25,
  clockRttMs: 0.4,
  clockDriftPpm: 12.5,
  clockSynced: true,
  playoutDelayMs: 150,
  playing: true,
  controlRejected: 0,
};

const agentMessages: Outgoing<ControlMessage>[] = [
  { type: 'hello', endpointId: 'ep-1', token: 's3cret', codecs: ['opus', 'pcmu'], agentVersion: '0.1.0', capabilities: ['clock-sync'] },
  { type: 'time-sync', id: 7, t0: 1_763_900_000_123.456 },
  { type: 'stats', stats },
  { type: 'pong', nonce: 42 },
  { type: 'played', programmeId: 'prg_alert1', atMs: 1_763_900_000_150.5 },
];
const serverMessages: Outgoing<ControlMessage>[] = [
  {
    type: 'welcome',
    sessionId: 'sess-1',
    zoneId: 'zone-9',
    codec: 'opus',
    payloadType: 111,
    rtp: { host: 'media.example', port: 40000 },
    mediaToken: 'AbC_12-x',
    playoutDelayMs: 150,
    keepaliveIntervalMs: 5000,
    statsIntervalMs: 10000,
    heartbeatIntervalMs: 10000,
  },
  { type: 'reject', code: 'bad-credentials', message: 'unknown endpoint or wrong token' },
  { type: 'time-sync-reply', id: 7, t0: 1.5, t1: 1_763_900_000_000.25, t2: 1_763_900_000_000.5 },
  { type: 'config', playoutDelayMs: 300 },
  { type: 'config', zoneId: 'zone-2', codec: 'pcmu', payloadType: 0, rtp: { host: '10.0.0.1', port: 5004 } },
  { type: 'ping', nonce: 43 },
  { type: 'watch', programmeId: 'prg_alert1', fromMs: 1_763_900_000_000 },
];

t.test('every message type round trips and is accepted from its own side only', async (t) => {
  for (const m of agentMessages) {
    const text = encodeMessage(m);
    const r = decodeMessage(text, 'agent');
    t.ok(r.ok, `${m.type} decodes`);
    if (r.ok) t.same(r.msg, { v: CONTROL_PROTOCOL_VERSION, ...m });
    const wrongSide = decodeMessage(text, 'server');
    t.notOk(wrongSide.ok, `${m.type} is not a server message`);
    t.ok(decodeMessage(text).ok, 'any side');
  }
  for (const m of serverMessages) {
    const r = decodeMessage(encodeMessage(m), 'server');
    t.ok(r.ok, `${m.type} decodes`);
    if (r.ok) t.same(r.msg, { v: CONTROL_PROTOCOL_VERSION, ...m });
    t.notOk(decodeMessage(encodeMessage(m), 'agent').ok);
  }
  t.ok(decodeMessage(Buffer.from(encodeMessage(agentMessages[1])), 'agent').ok, 'Buffer input');
});

t.test('bad input is rejected with a reason and counted, never thrown', async (t) => {
  const counter = new RejectCounter();
  const cases: [unknown, string][] = [
    ['{"v":1,"type":"ping"', 'not-json'],
    ['', 'not-json'],
    ['[1,2]', 'not-object'],
    ['null', 'not-object'],
    ['"hello"', 'not-object'],
    ['{"type":"pong","nonce":1}', 'unsupported-version'],
    ['{"v":2,"type":"pong","nonce":1}', 'unsupported-version'],
    ['{"v":1}', 'unknown-type'],
    ['{"v":1,"type":"reboot"}', 'unknown-type'],
    ['{"v":1,"type":"pong","nonce":"1"}', 'invalid'],
    ['{"v":1,"type":"pong","nonce":-1}', 'invalid'],
    ['{"v":1,"type":"pong","nonce":1,"extra":true}', 'invalid'],
    ['{"v":1,"type":"time-sync","id":1}', 'invalid'],
    ['{"v":1,"type":"hello","endpointId":"","token":"x","codecs":["opus"],"agentVersion":"1","capabilities":[]}', 'invalid'],
    ['{"v":1,"type":"hello","endpointId":"a","token":"x","codecs":[],"agentVersion":"1","capabilities":[]}', 'invalid'],
    [JSON.stringify({ v: 1, type: 'stats', stats: { ...stats, lossFraction: 2 } }), 'invalid'],
    [JSON.stringify({ v: 1, type: 'stats', stats: { ...stats, underruns: 1.5 } }), 'invalid'],
    [JSON.stringify({ v: 1, type: 'time-sync', id: 1, t0: '1' }), 'invalid'],
    [JSON.stringify({ v: 1, type: 'pong', nonce: 1, pad: 'x'.repeat(MAX_CONTROL_MESSAGE_BYTES) }), 'too-large'],
  ];
  for (const [text, code] of cases) {
    const r = decodeMessage(text as string, 'agent');
    t.notOk(r.ok, `${String(text).slice(0, 60)} rejected`);
    if (!r.ok) {
      t.equal(r.reason.split(':')[0], code, r.reason.slice(0, 120));
      counter.count(r.reason);
    }
  }
  const welcome = JSON.parse(encodeMessage(serverMessages[0])) as Record<string, unknown>;
  for (const bad of [
    { ...welcome, rtp: { host: 'h', port: 70000 } },
    { ...welcome, mediaToken: 'has space' },
    { ...welcome, payloadType: 128 },
    { ...welcome, codec: 'OPUS;drop' },
  ]) {
    const r = decodeMessage(JSON.stringify(bad), 'server');
    t.notOk(r.ok, 'bad welcome rejected');
    if (!r.ok) counter.count(r.reason);
  }
  t.equal(counter.total, cases.length + 4);
  t.equal(counter.byCode['invalid'], 9 + 4);
  t.equal(counter.byCode['not-json'], 2);
  t.equal(counter.byCode['too-large'], 1);
});
