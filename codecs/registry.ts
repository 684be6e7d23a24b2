/**
 * The codecs a zone stream can use: their RTP/SDP facts and factories for
 * encoders (48 kHz frame in → payload out) and decoders (payload in → 48 kHz
 * frame out). Resampling to and from G.711's 8 kHz happens inside.
 */
import type { AudioDecoder, AudioEncoder, CodecInfo, CodecName } from './codec.js';
import { CODEC_NAMES } from './codec.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from './g711.js';
import { decodeL16, encodeL16 } from './l16.js';
import { OpusDecoder, OpusEncoder, type OpusEncoderOptions } from './opus.js';
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from './pcm.js';
import { Resampler } from './resample.js';

const CODECS: Readonly<Record<CodecName, CodecInfo>> = {
  // RFC 3551 static payload types.
  pcmu: { name: 'pcmu', encodingName: 'PCMU', payloadType: 0, clockRate: 8000, timestampStep: 160, sdpChannels: 1 },
  pcma: { name: 'pcma', encodingName: 'PCMA', payloadType: 8, clockRate: 8000, timestampStep: 160, sdpChannels: 1 },
  // Dynamic payload types chosen by Loa (what browsers and baresip commonly use for Opus).
  opus: { name: 'opus', encodingName: 'opus', payloadType: 111, clockRate: 48000, timestampStep: 960, sdpChannels: 2 },
  l16: { name: 'l16', encodingName: 'L16', payloadType: 98, clockRate: 48000, timestampStep: 960, sdpChannels: 1 },
};

export function isCodecName(name: string): name is CodecName {
  return (CODEC_NAMES as readonly string[]).includes(name);
}

/** RTP/SDP facts of a codec. Throws on an unknown name. */
export function codecInfo(name: CodecName): CodecInfo {
  const info = CODECS[name];
  if (!info) throw new RangeError(`unknown codec ${String(name)}`);
  return info;
}

/** libopus' algorithmic delay at 48 kHz: 2.5 ms lookahead + 4 ms delay compensation. */
const OPUS_DELAY_SAMPLES = 312;
let g711DelaySamples: number | undefined;

/**
 * How far Loa's encode → decode of a codec delays the audio, in 48 kHz
 * samples: Opus' 6.5 ms, G.711's two resampling filters (48 → 8 kHz on the
 * server, 8 → 48 kHz in the receiver), nothing for L16. A receiver plays this
 * much earlier, so loudspeakers on different codecs in one zone stay in step.
 */
export function pipelineDelaySamples(name: CodecName): number {
  switch (name) {
    case 'opus':
      return OPUS_DELAY_SAMPLES;
    case 'l16':
      return 0;
    case 'pcmu':
    case 'pcma':
      g711DelaySamples ??=
        new Resampler(SAMPLE_RATE, 8000).delaySamples * (SAMPLE_RATE / 8000) + new Resampler(8000, SAMPLE_RATE).delaySamples;
      return g711DelaySamples;
  }
}

/** Encoder options; only Opus has any today. */
export type EncoderOptions = OpusEncoderOptions;

export function createEncoder(name: CodecName, opts: EncoderOptions = {}): AudioEncoder {
  const info = codecInfo(name);
  switch (name) {
    case 'pcmu':
      return new G711Encoder(info, encodeMulaw);
    case 'pcma':
      return new G711Encoder(info, encodeAlaw);
    case 'l16':
      return new L16Encoder(info);
    case 'opus':
      return new OpusStreamEncoder(info, opts);
  }
}

export function createDecoder(name: CodecName): AudioDecoder {
  const info = codecInfo(name);
  switch (name) {
    case 'pcmu':
      return new G711Decoder(info, decodeMulaw);
    case 'pcma':
      return new G711Decoder(info, decodeAlaw);
    case 'l16':
      return new L16Decoder(info);
    case 'opus':
      return new OpusStreamDecoder(info);
  }
}

abstract class CodecBase implements CodecInfo {
  readonly name: CodecName;
  readonly encodingName: string;
  readonly clockRate: number;
  readonly payloadType: number;
  readonly timestampStep: number;
  readonly sdpChannels: number;
  constructor(info: CodecInfo) {
    this.name = info.name;
    this.encodingName = info.encodingName;
    this.clockRate = info.clockRate;
    this.payloadType = info.payloadType;
    this.timestampStep = info.timestampStep;
    this.sdpChannels = info.sdpChannels;
  }
}

class G711Encoder extends CodecBase implements AudioEncoder {
  private readonly down = new Resampler(SAMPLE_RATE, 8000);
  private readonly narrow = new Int16Array(FRAME_SAMPLES / 6);
  private readonly payload = Buffer.alloc(FRAME_SAMPLES / 6);
  constructor(
    info: CodecInfo,
    private readonly compand: (pcm: Int16Array, out: Uint8Array) => number,
  ) {
    super(info);
  }
  encode(frame: Frame): Buffer {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`${this.encodingName}: frame has ${frame.length} samples, ${FRAME_SAMPLES} expected`);
    this.down.process(frame, this.narrow);
    this.compand(this.narrow, this.payload);
    return this.payload;
  }
  close(): void {}
}

class L16Encoder extends CodecBase implements AudioEncoder {
  private readonly payload = Buffer.alloc(FRAME_SAMPLES * 2);
  encode(frame: Frame): Buffer {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`L16: frame has ${frame.length} samples, ${FRAME_SAMPLES} expected`);
    encodeL16(frame, this.payload);
    return this.payload;
  }
  close(): void {}
}

class OpusStreamEncoder extends CodecBase implements AudioEncoder {
  private readonly opus: OpusEncoder;
  constructor(info: CodecInfo, opts: OpusEncoderOptions) {
    super(info);
    this.opus = new OpusEncoder(opts);
  }
  encode(frame: Frame): Buffer {
    return this.opus.encode(frame);
  }
  close(): void {
    this.opus.close();
  }
}

/**
 * Concealment for the PCM codecs: the first lost frame continues the last
 * good one played backwards (so the waveform joins without a step) while
 * fading to zero; later losses are silence.
 */
function concealFrom(last: Int16Array, lastLength: number, out: Int16Array, n: number, first: boolean): void {
  if (!first || lastLength === 0) {
    out.fill(0, 0, n);
    return;
  }
  for (let i = 0; i < n; i++) {
    const src = last[Math.max(0, lastLength - 1 - (i % lastLength))];
    out[i] = Math.round((src * (n - 1 - i)) / n);
  }
}

class G711Decoder extends CodecBase implements AudioDecoder {
  private readonly up = new Resampler(8000, SAMPLE_RATE);
  private narrow = new Int16Array(FRAME_SAMPLES / 6);
  private narrowLength = 0;
  private lost = new Int16Array(FRAME_SAMPLES / 6);
  private out = new Int16Array(FRAME_SAMPLES);
  private losses = 0;
  constructor(
    info: CodecInfo,
    private readonly expand: (buf: Uint8Array, out: Int16Array) => number,
  ) {
    super(info);
  }
  decode(payload: Buffer): Frame {
    if (payload.length === 0) return this.conceal();
    if (this.narrow.length < payload.length) this.narrow = new Int16Array(payload.length);
    this.narrowLength = this.expand(payload, this.narrow);
    this.losses = 0;
    return this.upsample(this.narrow.subarray(0, this.narrowLength));
  }
  conceal(): Frame {
    const n = FRAME_SAMPLES / 6;
    concealFrom(this.narrow, this.narrowLength, this.lost, n, this.losses++ === 0);
    return this.upsample(this.lost);
  }
  private upsample(narrow: Int16Array): Frame {
    const n = narrow.length * 6;
    if (this.out.length !== n) this.out = new Int16Array(n);
    return this.up.process(narrow, this.out);
  }
  close(): void {}
}

class L16Decoder extends CodecBase implements AudioDecoder {
  private out = new Int16Array(FRAME_SAMPLES);
  private lastLength = 0;
  private last = new Int16Array(FRAME_SAMPLES);
  private losses = 0;
  decode(payload: Buffer): Frame {
    const n = payload.length >> 1;
    if (n === 0) return this.conceal();
    if (this.out.length !== n) this.out = new Int16Array(n);
    decodeL16(payload, this.out);
    if (this.last.length < n) this.last = new Int16Array(n);
    this.last.set(this.out);
    this.lastLength = n;
    this.losses = 0;
    return this.out;
  }
  conceal(): Frame {
    if (this.out.length !== FRAME_SAMPLES) this.out = new Int16Array(FRAME_SAMPLES);
    concealFrom(this.last, this.lastLength, this.out, FRAME_SAMPLES, this.losses++ === 0);
    return this.out;
  }
  close(): void {}
}

class OpusStreamDecoder extends CodecBase implements AudioDecoder {
  private readonly opus = new OpusDecoder();
  decode(payload: Buffer): Frame {
    return this.opus.decode(payload);
  }
  conceal(): Frame {
    return this.opus.conceal();
  }
  close(): void {
    this.opus.close();
  }
}
