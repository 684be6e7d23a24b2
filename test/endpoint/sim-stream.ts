/**
 * A zone stream as the engine sends it (engine/stream.ts), on simulated time:
 * the RTP timestamp of frame n is base + n·step whatever aired, sequence
 * numbers count packets sent, the first packet of a talk-spurt has the
 * marker bit and is followed by a sender report, more reports every 2.5 s,
 * and a spurt ends with a faded last frame after which nothing is sent.
 * Packets reach the agent `transitMs` after their frame's server time.
 */
import type { CodecName } from '../../codecs/codec.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createEncoder } from '../../codecs/registry.js';

export interface SimPacket {
  kind: 'rtp' | 'sr';
  seq: number;
  ts: number;
  payload: Buffer;
  marker: boolean;
  /** Server wall-clock of the frame (for an SR: the time it maps to). */
  serverMs: number;
  /** Server wall-clock of its arrival at the agent. */
  arrivalServerMs: number;
}

export interface SpurtSpec {
  /** Frame number (on the engine's 20 ms clock) of the spurt's first frame. */
  startFrame: number;
  /** The spurt's audio (a whole number of frames; the last one is faded out here). */
  pcm: Int16Array;
  /** Drop the sender report that goes with the spurt's first packet. */
  loseFirstSr?: boolean;
  /** Add this to the sequence numbers from this spurt on (packets the agent never saw). */
  seqJump?: number;
  /** The spurt's first packet (and its sender report) arrive this much later: overtaken by the next ones. */
  delayFirstMs?: number;
}

export const SERVER_T0 = 1_763_900_000_000;

export function simulateStream(codec: CodecName, spurts: SpurtSpec[], opts: { tsBase?: number; seq0?: number; transitMs?: number } = {}): SimPacket[] {
  const enc = createEncoder(codec);
  const step = enc.timestampStep;
  const tsBase = opts.tsBase ?? 0xffff_0000;
  const transit = opts.transitMs ?? 30;
  let seq = opts.seq0 ?? 65_000;
  const out: SimPacket[] = [];
  for (const s of spurts) {
    seq += s.seqJump ?? 0;
    const frames = s.pcm.length / FRAME_SAMPLES;
    for (let k = 0; k < frames; k++) {
      const n = s.startFrame + k;
      const ts = (tsBase + n * step) % 0x1_0000_0000;
      const serverMs = SERVER_T0 + n * 20;
      const frame = s.pcm.slice(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES);
      if (k === frames - 1) {
        // The bus's fade-out: 5 ms ramp to zero, then silence.
        for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = i < 240 ? Math.round(frame[i] * (1 - i / 240)) : 0;
      }
      const late = k === 0 ? (s.delayFirstMs ?? 0) : 0;
      out.push({ kind: 'rtp', seq: seq & 0xffff, ts, payload: Buffer.from(enc.encode(frame)), marker: k === 0, serverMs, arrivalServerMs: serverMs + transit + late });
      seq++;
      if ((k === 0 && !s.loseFirstSr) || (k > 0 && k % 125 === 0)) {
        out.push({ kind: 'sr', seq: 0, ts, payload: Buffer.alloc(0), marker: false, serverMs, arrivalServerMs: serverMs + transit + late });
      }
    }
  }
  enc.close();
  // In arrival order (stable: an SR stays after its packet).
  return out.map((p, i) => ({ p, i })).sort((a, b) => a.p.arrivalServerMs - b.p.arrivalServerMs || a.i - b.i).map((x) => x.p);
}

/** A sine of `freqHz` for `frames` frames, then a linear chirp lowHz→highHz for as long (unambiguous for correlation). */
export function sineThenChirp(freqHz: number, frames: number, lowHz = 300, highHz = 3000, amplitude = 0.4): Int16Array {
  const n = frames * FRAME_SAMPLES;
  const pcm = new Int16Array(2 * n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freqHz * i) / 48_000));
  const dur = n / 48_000;
  for (let i = 0; i < n; i++) {
    const t = i / 48_000;
    const phase = 2 * Math.PI * (lowHz * t + ((highHz - lowHz) * t * t) / (2 * dur));
    pcm[n + i] = Math.round(amplitude * 32767 * Math.sin(phase));
  }
  return pcm;
}
