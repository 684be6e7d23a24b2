/**
 * RIFF/WAVE, PCM 16-bit only: a header writer, a streaming writer that fixes
 * the sizes on close, and a reader tolerant of what real tools write
 * (WAVE_FORMAT_EXTENSIBLE, LIST/fact/odd-sized chunks, unfinalised sizes).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export interface WavFormat {
  sampleRate: number;
  channels: number;
}

const HEADER_BYTES = 44;

/** Writes a canonical 44-byte PCM16 header for `dataBytes` of samples into target (allocated if omitted). */
export function writeWavHeader(opts: WavFormat & { dataBytes: number }, target: Buffer = Buffer.alloc(HEADER_BYTES)): Buffer {
  const { sampleRate, channels, dataBytes } = opts;
  const blockAlign = channels * 2;
  target.write('RIFF', 0, 'ascii');
  target.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  target.write('WAVE', 8, 'ascii');
  target.write('fmt ', 12, 'ascii');
  target.writeUInt32LE(16, 16);
  target.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
  target.writeUInt16LE(channels, 22);
  target.writeUInt32LE(sampleRate, 24);
  target.writeUInt32LE(sampleRate * blockAlign, 28);
  target.writeUInt16LE(blockAlign, 32);
  target.writeUInt16LE(16, 34);
  target.write('data', 36, 'ascii');
  target.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return target;
}

/**
 * Streams int16 samples to a WAV file. Writes are batched in 64 KiB and go
 * through synchronous file I/O (small, page-cached writes); close() writes the
 * final sizes into the header.
 */
export class WavWriter {
  readonly path: string;
  readonly sampleRate: number;
  readonly channels: number;
  private fd: number | undefined;
  private readonly batch = Buffer.alloc(64 * 1024);
  private batched = 0;
  private dataBytes = 0;

  constructor(path: string, format: Partial<WavFormat> = {}) {
    this.path = path;
    this.sampleRate = format.sampleRate ?? 48000;
    this.channels = format.channels ?? 1;
    this.fd = openSync(path, 'w');
    writeSync(this.fd, writeWavHeader({ sampleRate: this.sampleRate, channels: this.channels, dataBytes: 0 }));
  }

  /** Samples written so far (all channels). */
  get samplesWritten(): number {
    return (this.dataBytes + this.batched) / 2;
  }

  /** Appends interleaved samples; the array is copied, so the caller may reuse it. */
  write(samples: Int16Array): void {
    if (this.fd === undefined) throw new Error(`WavWriter ${this.path} is closed`);
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    let offset = 0;
    while (offset < bytes.length) {
      const n = bytes.copy(this.batch, this.batched, offset);
      this.batched += n;
      offset += n;
      if (this.batched === this.batch.length) this.flush();
    }
  }

  private flush(): void {
    if (this.batched === 0 || this.fd === undefined) return;
    writeSync(this.fd, this.batch, 0, this.batched);
    this.dataBytes += this.batched;
    this.batched = 0;
  }

  /** Flushes, writes the final RIFF and data sizes, closes the file. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    writeSync(this.fd, writeWavHeader({ sampleRate: this.sampleRate, channels: this.channels, dataBytes: this.dataBytes }), 0, HEADER_BYTES, 0);
    closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface WavData extends WavFormat {
  /** Interleaved when channels > 1. */
  samples: Int16Array;
}

/** Reads a PCM16 WAV file. Throws with a reason for anything else. */
export function readWav(file: string): WavData {
  return parseWav(readFileSync(file), file);
}

/** Parses PCM16 WAV bytes (see readWav). */
export function parseWav(buf: Buffer, name = 'WAV data'): WavData {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${name}: not a RIFF/WAVE file`);
  }
  let format: WavFormat | undefined;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new Error(`${name}: truncated fmt chunk`);
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const bits = buf.readUInt16LE(body + 14);
      if (tag === 0xfffe) {
        // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the SubFormat GUID.
        if (size < 40 || body + 26 > buf.length) throw new Error(`${name}: truncated extensible fmt chunk`);
        tag = buf.readUInt16LE(body + 24);
      }
      if (tag !== 1) throw new Error(`${name}: format tag ${tag} is not PCM`);
      if (bits !== 16) throw new Error(`${name}: ${bits}-bit samples, only 16-bit PCM is supported`);
      if (channels < 1 || sampleRate < 1) throw new Error(`${name}: invalid fmt (channels ${channels}, rate ${sampleRate})`);
      format = { sampleRate, channels };
    } else if (id === 'data') {
      if (!format) throw new Error(`${name}: data chunk before fmt chunk`);
      // Streaming writers may leave the size at 0 or 0xFFFFFFFF: take what is there.
      const available = buf.length - body;
      let bytes = size === 0 || size > available ? available : size;
      bytes -= bytes % (2 * format.channels);
      const samples = new Int16Array(bytes / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return { ...format, samples };
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new Error(`${name}: no data chunk`);
}
