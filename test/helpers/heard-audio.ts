// Telling a programme's offset from the audio an agent heard: a WAV whose second k is a tone
// of 300 + 50·k Hz, and a reader of the agent's WAV output (with its server-time timeline)
// that says which second of that file was heard at a given server time; and the agent that records it.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { dominantFrequency } from '../../codecs/analysis.js';
import { mulawToLinear } from '../../codecs/g711.js';
import { readWav, writeWavHeader } from '../../codecs/wav.js';
import { SpeakerAgent } from '../../endpoint/agent.js';
import type { WavTimeline } from '../../endpoint/output.js';

/** Mono 16-bit 48 kHz WAV; second k is a tone of 300 + stepHz·k Hz (default 50). */
export function steppedWav(seconds: number, stepHz = 50): Buffer {
  const n = seconds * 48000;
  const buf = Buffer.alloc(44 + n * 2);
  writeWavHeader({ sampleRate: 48000, channels: 1, dataBytes: n * 2 }, buf);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * (300 + stepHz * Math.floor(i / 48000))) / 48000;
    buf.writeInt16LE(Math.round(8000 * Math.sin(phase)), 44 + i * 2);
  }
  return buf;
}

/** The audio an agent's WAV output played between server times a and b (from its server-time timeline). */
export function heardBetween(wavPath: string): (a: number, b: number) => Int16Array {
  const wav = readWav(wavPath);
  const tl = JSON.parse(readFileSync(`${wavPath}.json`, 'utf8')) as WavTimeline;
  const indexAt = (serverMs: number) => {
    let a = tl.anchors[0];
    for (const x of tl.anchors) if (x[1] <= serverMs) a = x;
    return Math.round(a[0] + ((serverMs - a[1]) * tl.sampleRate) / 1000);
  };
  return (a, b) => wav.samples.subarray(Math.max(0, indexAt(a)), Math.min(wav.samples.length, indexAt(b)));
}

/** Which second of a steppedWav the agent's output played around server time `serverMs` (±50 ms window). */
export function heardStepAt(wavPath: string): (serverMs: number) => number {
  const heard = heardBetween(wavPath);
  return (serverMs) => {
    const window = heard(serverMs - 50, serverMs + 50);
    if (window.length < 4800) return NaN;
    const f = dominantFrequency(window, 48000);
    return (f - 300) / 50;
  };
}

interface Tap {
  teardown(fn: () => unknown): void;
}

/**
 * A PCMU speaker agent that records what it plays to `wavPath` (read it with heardStepAt),
 * reconnects quickly after a restart, and is closed at teardown; resolves once its clock is
 * synced and within 20 ms of the server's (or throws after `syncTimeoutMs`). The server runs on
 * this machine, so its clock is this process's: a loaded machine stamps the first exchanges
 * late, and an estimate made from them alone may be a few hundred ms off for a moment.
 */
export async function listeningAgent(
  t: Tap,
  o: { server: string; endpointId: string; token: string; wavPath: string; syncTimeoutMs?: number },
): Promise<SpeakerAgent> {
  const agent = new SpeakerAgent({
    server: o.server,
    endpointId: o.endpointId,
    token: o.token,
    codecs: ['pcmu'],
    output: { kind: 'wav', path: o.wavPath },
    reconnectMinMs: 100,
    reconnectMaxMs: 400,
  });
  t.teardown(() => agent.close());
  await agent.start();
  const deadline = Date.now() + (o.syncTimeoutMs ?? 30_000);
  while (!(agent.session && agent.clock.synced && Math.abs(agent.clock.serverNow() - Date.now()) < 20)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the agent to sync');
    await new Promise((r) => setTimeout(r, 50));
  }
  return agent;
}

/**
 * A receive-only RTP device (a UDP socket, PCMU): what it heard, by arrival time. `stepAt(ms)`
 * says which second of a steppedWav(…, stepHz) arrived around wall time `ms` (±50 ms; NaN when
 * nothing did); `packetsBetween` counts packets for "heard nothing" checks.
 */
export interface RtpListener {
  port: number;
  stepAt(ms: number): number;
  packetsBetween(fromMs: number, toMs: number): number;
  /** Arrival time of the first packet at or after `ms` (undefined: none yet). */
  firstAfter(ms: number): number | undefined;
}

export async function rtpListener(t: Tap, stepHz = 50): Promise<RtpListener> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.teardown(() => socket.close());
  const heard: { atMs: number; samples: Int16Array }[] = [];
  socket.on('message', (m: Buffer) => {
    if (m.length < 12 || m[0] >> 6 !== 2) return;
    let off = 12 + (m[0] & 0x0f) * 4;
    if (m[0] & 0x10) off += 4 + m.readUInt16BE(off + 2) * 4;
    const samples = new Int16Array(m.length - off);
    for (let i = 0; i < samples.length; i++) samples[i] = mulawToLinear(m[off + i]);
    heard.push({ atMs: Date.now(), samples });
  });
  const between = (a: number, b: number) => heard.filter((h) => h.atMs >= a && h.atMs < b);
  return {
    port: socket.address().port,
    stepAt(ms) {
      const got = between(ms - 50, ms + 50);
      if (got.length < 3) return NaN;
      const all = new Int16Array(got.reduce((n, h) => n + h.samples.length, 0));
      let o = 0;
      for (const h of got) {
        all.set(h.samples, o);
        o += h.samples.length;
      }
      return (dominantFrequency(all, 8000) - 300) / stepHz;
    },
    packetsBetween: (a, b) => between(a, b).length,
    firstAfter: (ms) => heard.find((h) => h.atMs >= ms)?.atMs,
  };
}
