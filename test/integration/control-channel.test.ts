// The endpoint control channel on the real server: credentials checked against the database,
// online/offline and last-seen stored, stats stored (throttled), and live changes of the
// endpoint (moved, disabled, deleted, new credential) reach a connected agent.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import WebSocket from 'ws';
import { SpeakerAgent } from '../../endpoint/agent.js';
import { CONTROL_PATH } from '../../protocols/control/messages.js';
import { startBroadcastServer, until, type BroadcastServer } from './harness.js';

// One server for the file (starting the engine and a database costs seconds on a busy machine).
const s = await startBroadcastServer(t, {
  control: { statsIntervalMs: 200, heartbeatIntervalMs: 1000, keepaliveIntervalMs: 1000 },
  statsWriteIntervalMs: 0,
});

async function setup(t: Test) {
  const root = await s.api('POST', '/api/v1/zones', { parentId: null, kind: 'commune', name: 'Xã A' });
  const village = await s.api('POST', '/api/v1/zones', { parentId: root.body.id, kind: 'village', name: 'Thôn 1' });
  const created = await s.api('POST', '/api/v1/endpoints', { name: 'loa-1', zoneId: village.body.id, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(created.status, 201);
  return { s, rootId: root.body.id as string, villageId: village.body.id as string, endpointId: created.body.endpoint.id as string, token: created.body.credential as string };
}

function agentFor(t: { teardown(fn: () => unknown): void }, s: BroadcastServer, id: string, token: string) {
  const agent = new SpeakerAgent({ server: s.wsUrl, endpointId: id, token, codecs: ['pcmu'], reconnectMinMs: 50, reconnectMaxMs: 200, rtcpIntervalMs: 300 });
  t.teardown(() => agent.close());
  return agent;
}

const endpoint = async (s: BroadcastServer, id: string) => (await s.api('GET', `/api/v1/endpoints/${id}`)).body;

t.test('wrong token, unknown endpoint and disabled endpoint are refused', async (t) => {
  const { s, endpointId, token } = await setup(t);

  const wrong = agentFor(t, s, endpointId, 'not-the-token');
  const rejected = once(wrong, 'rejected');
  await wrong.start();
  t.equal((await rejected)[0].code, 'bad-credentials', 'wrong token rejected');
  await wrong.close();

  const unknown = agentFor(t, s, 'ept_doesnotexist00000', token);
  const rejected2 = once(unknown, 'rejected');
  await unknown.start();
  t.equal((await rejected2)[0].code, 'bad-credentials', 'unknown endpoint rejected');
  await unknown.close();

  t.equal((await s.api('PATCH', `/api/v1/endpoints/${endpointId}`, { enabled: false })).status, 200);
  const disabled = agentFor(t, s, endpointId, token);
  const rejected3 = once(disabled, 'rejected');
  await disabled.start();
  t.equal((await rejected3)[0].code, 'bad-credentials', 'disabled endpoint rejected');
  await disabled.close();

  // Garbage before hello closes the connection with a reason, and the server keeps serving.
  const ws = new WebSocket(`${s.wsUrl}${CONTROL_PATH}`);
  await once(ws, 'open');
  ws.send('{"v":1,"type":"hello"');
  const [code] = (await once(ws, 'close')) as [number];
  t.equal(code, 4001, 'malformed hello closes with the rejected code');

  const row = await endpoint(s, endpointId);
  t.equal(row.online, false, 'never marked online');
  t.equal(s.host.onlineEndpoints().length, 0);
});

t.test('an agent comes online, its stats arrive, it follows a move, and goes offline when closed', async (t) => {
  const { s, rootId, villageId, endpointId, token } = await setup(t);
  const agent = agentFor(t, s, endpointId, token);
  const connected = once(agent, 'connected');
  await agent.start();
  const [welcome] = await connected;
  t.equal(welcome.zoneId, villageId, 'welcomed into its zone');
  t.equal(welcome.codec, 'pcmu');
  t.equal(welcome.playoutDelayMs, 150, 'default playout delay');

  await until(async () => (await endpoint(s, endpointId)).online === true, 'endpoint online in the API');
  const online = await endpoint(s, endpointId);
  t.ok(online.lastSeenAt && Date.now() - Date.parse(online.lastSeenAt) < 60_000, 'last seen stored');
  await until(async () => (await s.host.status()).endpoints.some((e) => e.endpointId === endpointId && e.port !== null), 'media address learned');

  // Audio to the zone: the agent's stats (through the control channel) show packets received.
  const play = await s.api('POST', '/api/v1/playback', { zoneIds: [rootId], source: { kind: 'tone', freqHz: 1000, durationMs: 3000 }, priority: 'normal' });
  t.equal(play.status, 201);
  await until(async () => Number((await endpoint(s, endpointId)).stats?.packetsReceived ?? 0) > 10, 'stats with packets in the database');
  const stats = (await endpoint(s, endpointId)).stats;
  t.equal(stats.codec, 'pcmu');
  t.equal(stats.zoneId, villageId);
  t.ok(stats.clockSynced, 'agent clock synced to the server');

  // A playout delay set on the parent zone reaches the agent live.
  const put = await s.api('PUT', `/api/v1/zones/${rootId}/broadcast`, { playoutDelayMs: 220 });
  t.equal(put.status, 200);
  t.equal(put.body.effectivePlayoutDelayMs, 220);
  await until(() => agent.session?.playoutDelayMs === 220, 'playout delay pushed');

  // Moved to another zone while connected: a config message, not a reconnect.
  const other = await s.api('POST', '/api/v1/zones', { parentId: rootId, kind: 'village', name: 'Thôn 2' });
  let disconnects = 0;
  agent.on('disconnected', () => disconnects++);
  t.equal((await s.api('PATCH', `/api/v1/endpoints/${endpointId}`, { zoneId: other.body.id })).status, 200);
  await until(() => agent.session?.zoneId === other.body.id, 'agent told its new zone');
  await until(
    async () => (await s.host.status()).endpoints.some((e) => e.endpointId === endpointId && e.zoneId === other.body.id && e.port !== null),
    'engine re-attached the endpoint in the new zone with its address',
  );
  t.equal(disconnects, 0, 'no reconnect for a move');

  await agent.close();
  await until(async () => (await endpoint(s, endpointId)).online === false, 'endpoint offline after the agent closed');
  t.notOk((await s.host.status()).endpoints.some((e) => e.endpointId === endpointId), 'detached from the engine');
});

t.test('deleting or re-keying a connected endpoint disconnects its agent', async (t) => {
  const { s, villageId, endpointId, token } = await setup(t);
  const agent = agentFor(t, s, endpointId, token);
  const connected = once(agent, 'connected');
  await agent.start();
  await connected;

  // New credential: the agent is dropped and its old token no longer works.
  const rotated = await s.api('POST', `/api/v1/endpoints/${endpointId}/credential`);
  t.equal(rotated.status, 200);
  const [rej] = await once(agent, 'rejected');
  t.equal(rej.code, 'bad-credentials', 'old credential refused after regeneration');
  await agent.close();

  const fresh = agentFor(t, s, endpointId, rotated.body.credential);
  const connected2 = once(fresh, 'connected');
  await fresh.start();
  await connected2;
  const second = await s.api('POST', '/api/v1/endpoints', { name: 'loa-2', zoneId: villageId, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(second.status, 201);

  const disconnected = once(fresh, 'disconnected');
  t.equal((await s.api('DELETE', `/api/v1/endpoints/${endpointId}`)).status, 204);
  await disconnected;
  t.pass('deleted endpoint disconnected');
  await until(() => !s.host.onlineEndpoints().includes(endpointId), 'session gone');
  t.notOk((await s.host.status()).endpoints.some((e) => e.endpointId === endpointId), 'detached from the engine');
});
