import t from 'tap';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeMessage, encodeMessage, type ServerMessage } from '../../../protocols/control/messages.js';
import {
  CONTROL_CLOSE,
  ControlServerSession,
  type ControlServerSessionOptions,
  type EndpointSessionInfo,
} from '../../../protocols/control/server-session.js';

interface HasTeardown {
  teardown(fn: () => unknown): void;
}

interface Harness {
  url: string;
  sessions: ControlServerSession[];
  online: EndpointSessionInfo[];
  offline: [EndpointSessionInfo, string][];
  stats: unknown[];
}

async function startServer(t: HasTeardown, extra: Partial<ControlServerSessionOptions> = {}): Promise<Harness> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const h: Harness = { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, sessions: [], online: [], offline: [], stats: [] };
  wss.on('connection', (ws, req) => {
    h.sessions.push(
      new ControlServerSession(ws, {
        authenticate: async (id, token) =>
          id === 'ep-1' && token === 'right' ? { zoneId: 'zone-a', codecs: ['opus', 'pcmu'], playoutDelayMs: 180 } : null,
        rtp: { host: '127.0.0.1', port: 40000 },
        remoteAddress: req.socket.remoteAddress,
        onOnline: (info) => h.online.push(info),
        onOffline: (info, reason) => h.offline.push([info, reason]),
        onStats: (_info, s) => h.stats.push(s),
        ...extra,
      }),
    );
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return h;
}

/** A bare client that collects decoded server messages. */
async function client(t: HasTeardown, url: string) {
  const ws = new WebSocket(url);
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    const r = decodeMessage(d as Buffer, 'server');
    if (!r.ok) throw new Error(`server sent an invalid message: ${r.reason}`);
    messages.push(r.msg);
    waiters.splice(0).forEach((w) => w());
  });
  const closed = once(ws, 'close') as Promise<[number, Buffer]>;
  t.teardown(() => ws.terminate());
  await once(ws, 'open');
  async function next<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    for (;;) {
      const i = messages.findIndex((m) => m.type === type);
      if (i >= 0) return messages.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>;
      await new Promise<void>((r) => waiters.push(r));
    }
  }
  return { ws, messages, next, closed, send: (o: object | string) => ws.send(typeof o === 'string' ? o : JSON.stringify({ v: 1, ...o })) };
}

const hello = (token: string, codecs = ['pcma', 'pcmu', 'opus']) => ({
  type: 'hello',
  endpointId: 'ep-1',
  token,
  codecs,
  agentVersion: 'test',
  capabilities: ['clock-sync'],
});

t.test('a wrong token gets a reject and the socket is closed', async (t) => {
  const h = await startServer(t);
  const c = await client(t, h.url);
  c.send(hello('wrong'));
  const r = await c.next('reject');
  t.equal(r.code, 'bad-credentials');
  const [code] = await c.closed;
  t.equal(code, CONTROL_CLOSE.rejected);
  t.equal(h.online.length, 0);
  t.equal(h.offline.length, 0, 'never online, so never offline');
});

t.test('the right token gets a welcome with the first common codec', async (t) => {
  const h = await startServer(t);
  const c = await client(t, h.url);
  c.send(hello('right'));
  const w = await c.next('welcome');
  t.equal(w.zoneId, 'zone-a');
  t.equal(w.codec, 'pcmu', "agent's preference among the zone's codecs");
  t.equal(w.payloadType, 0);
  t.same(w.rtp, { host: '127.0.0.1', port: 40000 });
  t.equal(w.playoutDelayMs, 180);
  t.match(w.mediaToken, /^[A-Za-z0-9_-]{8,}$/);
  t.equal(h.online.length, 1);
  t.equal(h.online[0].mediaToken, w.mediaToken);
  t.equal(h.online[0].sessionId, w.sessionId);
  t.equal(h.online[0].remoteAddress, '127.0.0.1');

  // Stats reach onStats; config changes reach the agent.
  const stats = {
    packetsLost: 0, packetsReceived: 10, lossFraction: 0, jitterMs: 0.5, bufferDelayMs: 150, underruns: 0, late: 0,
    concealed: 0, dropped: 0, clockOffsetMs: 3, clockRttMs: 0.2, clockDriftPpm: 0, clockSynced: true,
    playoutDelayMs: 180, playing: true, controlRejected: 0,
  };
  c.send({ type: 'stats', stats });
  c.send({ type: 'time-sync', id: 1, t0: 5 });
  await c.next('time-sync-reply'); // handled in order: the stats are in too
  h.sessions[0].sendConfig({ playoutDelayMs: 250 });
  const cfg = await c.next('config');
  t.equal(cfg.playoutDelayMs, 250);
  t.same(h.stats, [stats]);
  t.equal(h.sessions[0].info?.playoutDelayMs, 250);

  // Malformed messages after the welcome are counted and ignored: the session lives on.
  c.send('{not json');
  c.send({ type: 'pong', nonce: 'x' });
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  c.send({ type: 'time-sync', id: 1, t0: 5 });
  await c.next('time-sync-reply');
  t.equal(h.sessions[0].rejected.total, 3);
  t.same(h.sessions[0].rejected.byCode, { 'not-json': 1, invalid: 1, binary: 1 });
  t.equal(h.sessions[0].state, 'online');

  c.ws.close();
  await c.closed;
  await new Promise((r) => setTimeout(r, 50));
  t.equal(h.offline.length, 1);
  t.equal(h.offline[0][1], 'closed');
});

t.test('no common codec is a reject; a malformed hello is a reject', async (t) => {
  const h = await startServer(t);
  const c1 = await client(t, h.url);
  c1.send(hello('right', ['l16']));
  t.equal((await c1.next('reject')).code, 'no-common-codec');
  const c2 = await client(t, h.url);
  c2.send({ type: 'hello', endpointId: 'ep-1' });
  const r = await c2.next('reject');
  t.equal(r.code, 'bad-hello');
  t.match(r.message, /^invalid/);
  await c2.closed;
});

t.test('time-sync is answered at once with server wall-clock stamps', async (t) => {
  let fake = 1_763_900_000_000;
  const h = await startServer(t, { now: () => (fake += 0.25) });
  const c = await client(t, h.url);
  // Answered even before the hello, so an agent can sync while it authenticates.
  c.send({ type: 'time-sync', id: 9, t0: 123.5 });
  const r = await c.next('time-sync-reply');
  t.equal(r.id, 9);
  t.equal(r.t0, 123.5);
  t.ok(r.t1 > 1_763_900_000_000 && r.t2 > r.t1, 't1 then t2 from the server clock');
  t.equal(r.t2 - r.t1, 0.25, 'stamped on receipt and again on sending');
  c.send(hello('right'));
  await c.next('welcome');
  t.equal(h.sessions.length, 1);
});

t.test('missed pongs mark the endpoint offline and close the socket', async (t) => {
  const h = await startServer(t, { heartbeatIntervalMs: 100, missedPongsLimit: 2 });
  // A well-behaved client answers pings and stays online.
  const good = await client(t, h.url);
  good.ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'ping') good.send({ type: 'pong', nonce: m.nonce });
  });
  good.send(hello('right'));
  await good.next('welcome');
  // A silent one does not.
  const silent = await client(t, h.url);
  silent.send(hello('right'));
  await silent.next('welcome');
  await silent.next('ping');
  const [code] = await silent.closed;
  t.equal(code, CONTROL_CLOSE.heartbeatTimeout);
  t.equal(h.offline.length, 1);
  t.equal(h.offline[0][1], 'heartbeat-timeout');
  t.equal(h.offline[0][0].sessionId, h.sessions[1].info?.sessionId);
  t.equal(h.sessions[0].state, 'online', 'the answering endpoint stays online');
  t.ok(h.sessions[0].lastPingRttMs >= 0);
});

t.test('an agent heard from (time-sync) is not pinged, and is still dropped once it falls silent', async (t) => {
  const h = await startServer(t, { heartbeatIntervalMs: 100, missedPongsLimit: 2 });
  const c = await client(t, h.url);
  c.send(hello('right'));
  await c.next('welcome');
  // Time-syncs more often than the heartbeat: alive without answering anything.
  let id = 0;
  const syncing = setInterval(() => c.send({ type: 'time-sync', id: ++id, t0: 1 }), 30);
  t.teardown(() => clearInterval(syncing));
  await until(() => h.sessions[0].pingsSkipped >= 4);
  t.equal(c.messages.filter((m) => m.type === 'ping').length, 0, 'no ping while it keeps talking');
  t.equal(h.sessions[0].state, 'online');
  clearInterval(syncing);
  await c.next('ping');
  const [code] = await c.closed;
  t.equal(code, CONTROL_CLOSE.heartbeatTimeout, 'silent and not answering: dropped as before');
  t.equal(h.offline[0][1], 'heartbeat-timeout');
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

t.test('no hello in time closes the connection', async (t) => {
  const h = await startServer(t, { helloTimeoutMs: 100 });
  const c = await client(t, h.url);
  t.equal((await c.next('reject')).code, 'hello-timeout');
  const [code] = await c.closed;
  t.equal(code, CONTROL_CLOSE.helloTimeout);
});
