/**
 * Opus at 48 kHz mono, 20 ms frames, through the native libopus binding
 * (@discordjs/opus) or, when that cannot load, its WebAssembly build
 * (opusscript). `opusImplementation` says which one this process uses.
 *
 * Neither binding exposes opus_decode's decode_fec flag, so in-band FEC can be
 * produced for peers (browsers, SIP phones) but not decoded here:
 * `opusFecDecodingSupported` is false and a lost frame is concealed by PLC.
 */
import { createRequire } from 'node:module';
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from './pcm.js';

export type OpusImplementation = '@discordjs/opus' | 'opusscript';

// Minimal shapes of the two bindings (their own typings are CommonJS-only).
interface NativeOpus {
  encode(buf: Buffer): Buffer;
  decode(buf: Buffer): Buffer;
  applyEncoderCTL(ctl: number, value: number): void;
  applyDecoderCTL(ctl: number, value: number): void;
}
interface NativeOpusModule {
  OpusEncoder: new (rate: number, channels: number) => NativeOpus;
}
interface WasmOpus {
  encode(buf: Buffer, frameSize: number): Buffer;
  decode(buf: Buffer): Buffer;
  encoderCTL(ctl: number, arg: number): void;
  decoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
type WasmOpusModule = new (rate: number, channels: number, application: number) => WasmOpus;

const require = createRequire(import.meta.url);

let nativeModule: NativeOpusModule | undefined;
let nativeLoadError: unknown;
try {
  nativeModule = require('@discordjs/opus') as NativeOpusModule;
  // A module can load yet fail to create a codec (ABI mismatch): probe once.
  new nativeModule.OpusEncoder(SAMPLE_RATE, 1);
} catch (err) {
  nativeModule = undefined;
  nativeLoadError = err;
}
let wasmModule: WasmOpusModule | undefined;
function loadWasm(): WasmOpusModule {
  wasmModule ??= require('opusscript') as WasmOpusModule;
  return wasmModule;
}

/** The binding used by default in this process: native when it loads, else WASM. */
export const opusImplementation: OpusImplementation = nativeModule ? '@discordjs/opus' : 'opusscript';
/** Why the native binding is not used (undefined when it is). */
export const opusNativeLoadError: unknown = nativeLoadError;
/** Whether a lost frame can be rebuilt from the next packet's in-band FEC. */
export const opusFecDecodingSupported = false;

// libopus CTL request numbers (opus_defines.h).
const OPUS_SET_APPLICATION = 4000;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_VBR = 4006;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
const OPUS_SET_SIGNAL = 4024;
const APPLICATION = { voip: 2048, audio: 2049 } as const;
const SIGNAL = { auto: -1000, voice: 3001, music: 3002 } as const;

export interface OpusEncoderOptions {
  /** 'voip' favours speech intelligibility, 'audio' fidelity (music, mixed). Default 'audio'. */
  application?: 'voip' | 'audio';
  /** Bits per second; default 32000. */
  bitrate?: number;
  /** Emit in-band FEC (LBRR) so receivers that support it can rebuild a lost frame. Default false. */
  fec?: boolean;
  /** Expected loss in percent (0..100); tunes FEC and robustness. Default 0. */
  packetLossPercent?: number;
  /** Content hint; default 'auto'. */
  signal?: 'auto' | 'voice' | 'music';
  /** 0..10; default 10 (libopus default). */
  complexity?: number;
  /** Discontinuous transmission in silence. Default false (PA streams keep a steady packet rate). */
  dtx?: boolean;
  /** Force a binding (tests); default opusImplementation. */
  implementation?: OpusImplementation;
}

function createBinding(impl: OpusImplementation, application: number): { native?: NativeOpus; wasm?: WasmOpus } {
  if (impl === '@discordjs/opus') {
    if (!nativeModule) throw new Error(`@discordjs/opus is not available: ${String(nativeLoadError)}`);
    const native = new nativeModule.OpusEncoder(SAMPLE_RATE, 1);
    return { native };
  }
  const Wasm = loadWasm();
  return { wasm: new Wasm(SAMPLE_RATE, 1, application) };
}

/** Encodes 20 ms frames of 48 kHz mono int16 into Opus packets. */
export class OpusEncoder {
  readonly implementation: OpusImplementation;
  private native?: NativeOpus;
  private wasm?: WasmOpus;
  private closed = false;
  private bitrate: number;

  constructor(opts: OpusEncoderOptions = {}) {
    this.implementation = opts.implementation ?? opusImplementation;
    const application = APPLICATION[opts.application ?? 'audio'];
    Object.assign(this, createBinding(this.implementation, application));
    // The native binding always opens with 'audio'; switching before the first frame is allowed.
    if (this.native) this.ctl(OPUS_SET_APPLICATION, application);
    this.bitrate = opts.bitrate ?? 32000;
    this.ctl(OPUS_SET_BITRATE, this.bitrate);
    this.ctl(OPUS_SET_VBR, 1);
    this.ctl(OPUS_SET_COMPLEXITY, opts.complexity ?? 10);
    this.ctl(OPUS_SET_SIGNAL, SIGNAL[opts.signal ?? 'auto']);
    this.ctl(OPUS_SET_DTX, opts.dtx ? 1 : 0);
    this.setFec(opts.fec ?? false);
    this.setPacketLossPercent(opts.packetLossPercent ?? 0);
  }

  private ctl(request: number, value: number): void {
    if (this.native) this.native.applyEncoderCTL(request, value);
    else this.wasm!.encoderCTL(request, value);
  }

  get bitrateBps(): number {
    return this.bitrate;
  }

  setBitrate(bps: number): void {
    if (!(bps >= 6000 && bps <= 510000)) throw new RangeError(`Opus bitrate ${bps} out of 6000..510000`);
    this.bitrate = bps;
    this.ctl(OPUS_SET_BITRATE, bps);
  }

  setFec(enabled: boolean): void {
    this.ctl(OPUS_SET_INBAND_FEC, enabled ? 1 : 0);
  }

  setPacketLossPercent(percent: number): void {
    this.ctl(OPUS_SET_PACKET_LOSS_PERC, Math.max(0, Math.min(100, Math.round(percent))));
  }

  /**
   * One 960-sample frame → one Opus packet. The bindings copy the packet into
   * a fresh Buffer, so unlike the PCM encoders this result stays valid.
   */
  encode(frame: Frame): Buffer {
    if (this.closed) throw new Error('OpusEncoder is closed');
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`Opus: frame has ${frame.length} samples, ${FRAME_SAMPLES} expected`);
    // A Buffer view over the frame's bytes (host order is little-endian, as libopus expects).
    const pcm = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    return this.native ? this.native.encode(pcm) : this.wasm!.encode(pcm, FRAME_SAMPLES);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wasm?.delete();
    this.native = undefined; // the native object frees its state when collected
    this.wasm = undefined;
  }
}

/**
 * Decodes Opus packets to 48 kHz mono int16 (stereo packets are down-mixed by
 * libopus). decode(empty) or conceal() runs packet-loss concealment for one
 * frame; packets that fail to decode are counted and concealed, never thrown.
 */
export class OpusDecoder {
  readonly implementation: OpusImplementation;
  /** Packets that libopus rejected (concealed instead). */
  invalidPackets = 0;
  private native?: NativeOpus;
  private wasm?: WasmOpus;
  private closed = false;
  private out = new Int16Array(FRAME_SAMPLES);
  private plcPacket = Buffer.alloc(1);
  private haveDecoded = false;

  constructor(opts: { implementation?: OpusImplementation } = {}) {
    this.implementation = opts.implementation ?? opusImplementation;
    Object.assign(this, createBinding(this.implementation, APPLICATION.audio));
  }

  /**
   * Decodes one packet. Returns the decoded samples in a buffer reused by the
   * next call: 960 for a 20 ms packet (longer packets give a multiple of 120).
   */
  decode(payload: Buffer | null | undefined): Frame {
    if (this.closed) throw new Error('OpusDecoder is closed');
    if (!payload || payload.length === 0) return this.conceal();
    let pcm: Buffer;
    try {
      pcm = this.native ? this.native.decode(payload) : this.wasm!.decode(payload);
    } catch {
      this.invalidPackets++;
      return this.conceal();
    }
    // A TOC byte alone (code 0, empty frame) makes libopus conceal exactly one
    // frame of this packet's duration, where an empty buffer would conceal 60–120 ms.
    this.plcPacket[0] = payload[0] & 0xfc;
    this.haveDecoded = true;
    return this.copyOut(pcm);
  }

  /** One frame of packet-loss concealment (silence before the first packet). */
  conceal(): Frame {
    if (this.closed) throw new Error('OpusDecoder is closed');
    if (!this.haveDecoded) {
      if (this.out.length !== FRAME_SAMPLES) this.out = new Int16Array(FRAME_SAMPLES);
      this.out.fill(0);
      return this.out;
    }
    const pcm = this.native ? this.native.decode(this.plcPacket) : this.wasm!.decode(this.plcPacket);
    return this.copyOut(pcm);
  }

  private copyOut(pcm: Buffer): Frame {
    const samples = pcm.length >> 1;
    if (this.out.length !== samples) this.out = new Int16Array(samples);
    for (let i = 0, j = 0; i < samples; i++, j += 2) this.out[i] = pcm.readInt16LE(j);
    return this.out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wasm?.delete();
    this.native = undefined;
    this.wasm = undefined;
  }
}
