/**
 * The speaker agent end to end, without the engine: a real WebSocket server
 * running ControlServerSession, and a tiny in-test RTP sender on a real UDP
 * socket that learns each agent's address from its keepalives, like the media
 * worker does. Two agents with clocks minutes apart must produce WAVs whose
 * timelines agree within 1 ms.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { detectClicks, dominantFrequency, normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createEncoder } from '../../codecs/registry.js';
import { ClickTrain, SineOscillator } from '../../codecs/tone.js';
import { readWav } from '../../codecs/wav.js';
import { SpeakerAgent } from '../../endpoint/agent.js';
import type { WavTimeline } from '../../endpoint/output.js';
import { classifyDatagram, parseMediaKeepalive } from '../../protocols/control/media-keepalive.js';
import type { EndpointStats } from '../../protocols/control/messages.js';
import { ControlServerSession, wallClockMs, type EndpointSessionInfo } from '../../protocols/control/server-session.js';
import { writeRtpHeader } from '../../protocols/rtp/packet.js';
import { buildSenderReport, parseRtcp } from '../../protocols/rtp/rtcp.js';

const DELAY_MS = 600;
/** The sender runs this far ahead of the frames' time stamps, so a loaded test machine cannot make packets late. */
const LEAD_MS = 400;
const TOKENS: Record<string, string> = { 'ep-a': 'token-a', 'ep-b': 'token-b' };

interface Env {
  url: string;
  sessions: ControlServerSession[];
  online: EndpointSessionInfo[];
  stats: Map<string, EndpointStats>;
  media: dgram.Socket;
  /** mediaToken → where its keepalives come from. */
  learned: Map<string, { address: string; port: number }>;
  receiverReports: number;
}

async function startEnv(t: { teardown(fn: () => unknown): void }, codecs: string[]): Promise<Env> {
  const media = dgram.createSocket('udp4');
  media.bind(0, '127.0.0.1');
  await once(media, 'listening');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const env: Env = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sessions: [],
    online: [],
    stats: new Map(),
    media,
    learned: new Map(),
    receiverReports: 0,
  };
  wss.on('connection', (ws) => {
    env.sessions.push(
      new ControlServerSession(ws, {
        authenticate: (id, token) => (TOKENS[id] === token ? { zoneId: 'village-1', codecs, playoutDelayMs: DELAY_MS } : null),
        rtp: { host: '127.0.0.1', port: (media.address() as AddressInfo).port },
        statsIntervalMs: 300,
        keepaliveIntervalMs: 1000,
        onOnline: (info) => env.online.push(info),
        onStats: (info, s) => env.stats.set(info.endpointId, s),
      }),
    );
  });
  media.on('message', (msg, rinfo) => {
    const kind = classifyDatagram(msg);
    if (kind === 'keepalive') {
      const r = parseMediaKeepalive(msg);
      if (r.ok && env.online.some((o) => o.mediaToken === r.mediaToken)) env.learned.set(r.mediaToken, { address: rinfo.address, port: rinfo.port });
    } else if (kind === 'rtcp') {
      if (parseRtcp(msg).some((p) => p.type === 'rr')) env.receiverReports++;
    }
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        media.close();
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return env;
}

/** Source: a 1 kHz tone with a click every 300 ms; frame n is stamped at server time t0 + 20n. */
function makeSource(frames: number): Int16Array {
  const pcm = new Int16Array(frames * FRAME_SAMPLES);
  const sine = new SineOscillator(1000, 0.3);
  const clicks = new ClickTrain({ intervalMs: 300, offsetMs: 110, clickMs: 4, amplitude: 0.6 });
  const a = new Int16Array(FRAME_SAMPLES);
  const b = new Int16Array(FRAME_SAMPLES);
  for (let n = 0; n < frames; n++) {
    sine.fill(a);
    clicks.fill(b);
    for (let i = 0; i < FRAME_SAMPLES; i++) pcm[n * FRAME_SAMPLES + i] = Math.max(-32768, Math.min(32767, a[i] + b[i]));
  }
  return pcm;
}

interface SendOptions {
  codec: 'opus' | 'pcmu';
  frames: number;
  /** Extra hostile datagrams, sent once mid-stream. */
  hostile?: boolean;
}

/** Streams the source in real time to every learned agent; resolves with the server time of frame 0. */
async function stream(env: Env, source: Int16Array, opts: SendOptions): Promise<number> {
  const enc = createEncoder(opts.codec);
  const ssrc = 0x5eed1234;
  const ts0 = 0xfffff000; // the timestamp wraps mid-stream
  const t0 = wallClockMs() + LEAD_MS + 40;
  const step = enc.timestampStep;
  const packet = Buffer.alloc(1500);
  const other = dgram.createSocket('udp4');
  other.bind(0, '127.0.0.1');
  await once(other, 'listening');
  let n = 0;
  let octets = 0;
  const send = (buf: Buffer, socket = env.media) => {
    for (const to of env.learned.values()) socket.send(buf, to.port, to.address);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      while (n < opts.frames && t0 + n * 20 - LEAD_MS <= wallClockMs()) {
        const payload = enc.encode(source.subarray(n * FRAME_SAMPLES, (n + 1) * FRAME_SAMPLES));
        const ts = (ts0 + n * step) >>> 0;
        if (n % 10 === 0) {
          send(buildSenderReport({ ssrc, ntpMs: t0 + n * 20, rtpTimestamp: ts, packetCount: n, octetCount: octets }));
        }
        const len = writeRtpHeader(packet, 0, { payloadType: enc.payloadType, sequence: (65530 + n) & 0xffff, timestamp: ts, ssrc, marker: n === 0 });
        payload.copy(packet, len);
        octets += payload.length;
        // A copy: dgram sends after this loop has moved on, and `packet` is reused.
        send(Buffer.from(packet.subarray(0, len + payload.length)));
        if (opts.hostile && n === 40) {
          const spoof = Buffer.from(packet.subarray(0, len + payload.length));
          send(spoof, other); // right everything, wrong source address
          const wrongSsrc = Buffer.from(spoof);
          wrongSsrc.writeUInt32BE(0xbad, 8);
          send(wrongSsrc);
          const wrongPt = Buffer.from(spoof);
          wrongPt[1] = 99;
          send(wrongPt);
          send(Buffer.from([0x80, 0x00, 0x01])); // truncated RTP
          send(Buffer.from([0x17, 0xfe, 0xfd, 0x00])); // not ours at all
        }
        n++;
      }
      if (n >= opts.frames) {
        clearInterval(timer);
        resolve();
      }
    }, 4);
  });
  enc.close();
  other.close();
  return t0;
}

function timelineOf(path: string): { samples: Int16Array; serverMsAt: (i: number) => number } {
  const wav = readWav(path);
  const tl = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as WavTimeline;
  const serverMsAt = (i: number) => {
    let a = tl.anchors[0];
    for (const x of tl.anchors) if (x[0] <= i) a = x;
    return a[1] + ((i - a[0]) * 1000) / tl.sampleRate;
  };
  return { samples: wav.samples, serverMsAt };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('two agents with clocks minutes apart play an Opus stream in step', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = await startEnv(t, ['opus', 'pcmu']);
  const agents = [
    new SpeakerAgent({ server: env.url, endpointId: 'ep-a', token: 'token-a', output: { kind: 'wav', path: join(dir, 'a.wav') }, clockOffsetMs: 180_000, rtcpIntervalMs: 300 }),
    new SpeakerAgent({ server: env.url, endpointId: 'ep-b', token: 'token-b', output: { kind: 'wav', path: join(dir, 'b.wav') }, clockOffsetMs: -7_300.6, rtcpIntervalMs: 300 }),
  ];
  t.teardown(() => Promise.all(agents.map((a) => a.close())));
  const playing = agents.map((a) => once(a, 'playing'));
  await Promise.all(agents.map((a) => a.start()));
  await until(() => env.learned.size === 2 && agents.every((a) => a.clock.synced), 'keepalives and clock sync');
  t.equal(agents[0].session?.codec, 'opus');

  const FRAMES = 100;
  const source = makeSource(FRAMES);
  const t0 = await stream(env, source, { codec: 'opus', frames: FRAMES, hostile: true });
  await Promise.all(playing);
  // Let the last frame play out, and the stats reach the server.
  await new Promise((r) => setTimeout(r, DELAY_MS + 600));

  const statsA = env.stats.get('ep-a');
  t.ok(statsA, 'stats reached the server');
  t.ok(statsA && Math.abs(statsA.clockOffsetMs + 180_000) < 5, `agent A sees its clock 3 min fast (${statsA?.clockOffsetMs})`);
  t.ok(statsA && statsA.packetsReceived >= FRAMES - 2 && statsA.playoutDelayMs === DELAY_MS);
  t.ok(env.receiverReports >= 2, 'RTCP receiver reports reach the media port');
  const drops = agents[0].drops;
  t.same(
    { wrongSource: drops.wrongSource, wrongSsrc: drops.wrongSsrc, wrongPayloadType: drops.wrongPayloadType, malformed: drops.malformed, unknown: drops.unknown },
    { wrongSource: 1, wrongSsrc: 1, wrongPayloadType: 1, malformed: 1, unknown: 1 },
    'hostile datagrams dropped and counted',
  );
  for (const a of agents) {
    // The stream ended cleanly after its last frame: that is neither concealment nor an underrun.
    t.same({ concealed: a.playout?.stats.concealed, underruns: a.playout?.stats.underruns }, { concealed: 0, underruns: 0 }, 'a clean end counts no loss');
  }
  await Promise.all(agents.map((a) => a.close()));

  const sourceClicks = detectClicks(source, 48000, -6, { minGapMs: 100 }).map((ms) => t0 + ms + DELAY_MS);
  t.equal(sourceClicks.length, 7);
  const results = ['a', 'b'].map((x) => timelineOf(join(dir, `${x}.wav`)));
  const heard = results.map((r) => detectClicks(r.samples, 48000, -6, { minGapMs: 100 }).map((ms) => r.serverMsAt(Math.round(ms * 48))));
  for (const [i, h] of heard.entries()) {
    t.equal(h.length, sourceClicks.length, `agent ${i}: every click heard once`);
    // Absolute: the frame's server time + playout delay; the agent plays Opus' 6.5 ms algorithmic delay early.
    let worstAbs = 0;
    for (let k = 0; k < Math.min(h.length, sourceClicks.length); k++) worstAbs = Math.max(worstAbs, Math.abs(h[k] - sourceClicks[k]));
    t.ok(worstAbs < 1, `agent ${i}: clicks within ${worstAbs.toFixed(3)} ms of due time`);
  }
  // Relative: the two loudspeakers agree within 1 ms.
  let worst = 0;
  for (let k = 0; k < Math.min(heard[0].length, heard[1].length); k++) worst = Math.max(worst, Math.abs(heard[0][k] - heard[1][k]));
  t.ok(worst < 1, `agents agree within ${worst.toFixed(3)} ms`);

  for (const [i, r] of results.entries()) {
    // Locate the stream in the recording through the timeline, then compare audio.
    const startIdx = Math.round((t0 + DELAY_MS + 200 - r.serverMsAt(0)) * 48);
    t.ok(startIdx > 0, 'the recording starts before the stream');
    const segment = r.samples.subarray(startIdx, startIdx + 48000);
    const f = dominantFrequency(segment, 48000);
    t.ok(Math.abs(f - 1000) < 5, `agent ${i}: dominant frequency ${f.toFixed(1)} Hz`);
    const ref = source.subarray(200 * 48, 200 * 48 + 48000);
    const { lag, correlation } = normalizedCrossCorrelation(ref, segment, 960);
    t.ok(correlation > 0.9, `agent ${i}: correlation ${correlation.toFixed(3)} at lag ${lag}`);
    t.ok(Math.abs(lag) <= 48, `agent ${i}: lag ${(lag / 48).toFixed(2)} ms (codec delay compensated)`);
  }
});

t.test('a wrong token is rejected and retried with backoff; a dropped session reconnects', async (t) => {
  const env = await startEnv(t, ['pcmu']);
  const bad = new SpeakerAgent({ server: env.url, endpointId: 'ep-a', token: 'nope', reconnectMinMs: 20, reconnectMaxMs: 60 });
  const good = new SpeakerAgent({ server: env.url, endpointId: 'ep-b', token: 'token-b', codecs: ['opus', 'pcmu'], reconnectMinMs: 20, reconnectMaxMs: 60 });
  t.teardown(() => Promise.all([bad.close(), good.close()]));
  const rejected = once(bad, 'rejected');
  const connected = once(good, 'connected');
  await bad.start();
  await good.start();
  const [r] = await rejected;
  t.equal(r.code, 'bad-credentials');
  await until(() => bad.attempts >= 3, 'retries');
  t.equal(bad.session, null);
  const [w] = await connected;
  t.equal(w.codec, 'pcmu', 'falls back to the codec the zone has');
  const first = w.sessionId;
  const again = once(good, 'connected');
  const lost = once(good, 'disconnected');
  env.sessions.find((s) => s.info?.endpointId === 'ep-b')!.close(4000, 'test');
  await lost;
  const [w2] = await again;
  t.not(w2.sessionId, first, 'a new session after reconnecting');
});
