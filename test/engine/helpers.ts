/** Shared test scaffolding: an in-process MediaPlane on simulated time, with zone taps. */
import { strongestTone } from '../../codecs/analysis.js';
import { FRAME_SAMPLES, type Frame } from '../../codecs/pcm.js';
import { writeWavHeader } from '../../codecs/wav.js';
import { SimulatedTime } from '../../codecs/frame-clock.js';
import { MediaPlane, type MediaPlaneOptions } from '../../engine/plane.js';
import type { EngineEvent, ProgrammeZoneEvent, ZoneNode } from '../../engine/protocol.js';

export interface Harness {
  plane: MediaPlane;
  time: SimulatedTime;
  events: EngineEvent[];
  /** Frames heard per zone, by frame number (copies). */
  heard: Map<string, Map<number, Int16Array>>;
  tap(zone: string): void;
  zoneEvents(programmeId?: string, zone?: string): ProgrammeZoneEvent[];
  errors(): EngineEvent[];
  /** Advances simulated time by whole frames. */
  frames(k: number): void;
  /**
   * Same, a few frames per event-loop turn, as real time would: dgram sends
   * complete after the turn, and a stream reuses its packet buffers in turn.
   */
  run(k: number): Promise<void>;
}

/** d > c1 > (v1, v2); d > c2 > v3 */
export const TREE: ZoneNode[] = [
  { id: 'd', parentId: null },
  { id: 'c1', parentId: 'd' },
  { id: 'v1', parentId: 'c1' },
  { id: 'v2', parentId: 'c1' },
  { id: 'c2', parentId: 'd' },
  { id: 'v3', parentId: 'c2' },
];

export async function harness(extra: Partial<MediaPlaneOptions> = {}): Promise<Harness> {
  const time = new SimulatedTime(1000);
  const events: EngineEvent[] = [];
  const heard = new Map<string, Map<number, Int16Array>>();
  const plane = await MediaPlane.open({ rtpPort: 0, rtpHost: '127.0.0.1', time, emit: (e) => events.push(e), statsIntervalMs: 0, ...extra });
  plane.handle({ type: 'setZones', zones: TREE });
  const h: Harness = {
    plane,
    time,
    events,
    heard,
    tap(zone) {
      const m = new Map<number, Int16Array>();
      heard.set(zone, m);
      plane.listen(zone, { write: (n, f) => void m.set(n, Int16Array.from(f)) });
    },
    zoneEvents(programmeId, zone) {
      return events.filter(
        (e): e is ProgrammeZoneEvent => e.type === 'programme' && (!programmeId || e.programmeId === programmeId) && (!zone || e.zoneId === zone),
      );
    },
    errors: () => events.filter((e) => e.type === 'error'),
    frames(k) {
      time.advance(k * 20);
    },
    async run(k) {
      for (let i = 0; i < k; i += 5) {
        time.advance(Math.min(5, k - i) * 20);
        await new Promise((r) => setImmediate(r));
      }
    },
  };
  return h;
}

/** Renders a deterministic source spec uninterrupted: the reference a zone must hear. */
export function concat(frames: Iterable<Frame>): Int16Array {
  const list = [...frames];
  const out = new Int16Array(list.length * FRAME_SAMPLES);
  list.forEach((f, i) => out.set(f, i * FRAME_SAMPLES));
  return out;
}

export function maxStep(a: Int16Array): number {
  let m = 0;
  for (let i = 1; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - a[i - 1]));
  return m;
}

/**
 * The frequency among `candidates` with the most energy (codecs/analysis.ts; unwindowed: a
 * 20 ms frame holds whole periods of every candidate).
 */
export function dominant(x: ArrayLike<number>, candidates: number[], rate = 48000): number {
  return strongestTone(x, rate, candidates, 'none');
}

/** A 48 kHz (or `rate`) mono 16-bit WAV file's bytes. */
export function wavBytes(samples: Int16Array, rate = 48000): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return Buffer.concat([writeWavHeader({ sampleRate: rate, channels: 1, dataBytes: data.length }), data]);
}

/** A test programme whose frequency tells the media position: segment k (segMs long) is a sine of 300 + 100·k Hz. */
export function steppedTone(seconds: number, segMs = 500, amplitude = 0.5): Int16Array {
  const out = new Int16Array(seconds * 48000);
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const f = steppedFreq((i / 48000) * 1000, segMs);
    phase += (2 * Math.PI * f) / 48000;
    out[i] = Math.round(Math.sin(phase) * amplitude * 32767);
  }
  return out;
}

export function steppedFreq(positionMs: number, segMs = 500): number {
  return 300 + 100 * Math.floor(positionMs / segMs);
}
