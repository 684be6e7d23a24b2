/**
 * Real RTP receivers for interop tests: ffmpeg reading an SDP file and
 * gst-launch-1.0 with udpsrc, each decoding to a WAV file (the peers and how
 * the tests drive them: docs/testing.md). A Peer owns one child process: its output is
 * kept for assertions and diagnostics, and stop() ends exactly that pid
 * (SIGINT first so the WAV is finalised, SIGKILL if it lingers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CodecName } from '../../../codecs/codec.js';
import { ffmpegPath } from '../../../codecs/ffmpeg.js';
import { codecInfo } from '../../../codecs/registry.js';

export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Peer {
  readonly pid: number;
  private text = '';
  readonly exited: Promise<PeerExit>;
  private done = false;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: could not start`);
    this.pid = child.pid;
    child.stdout?.on('data', (d: Buffer) => (this.text += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.text += d.toString()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  /** Everything it wrote on stdout and stderr so far. */
  get output(): string {
    return this.text;
  }

  get running(): boolean {
    return !this.done;
  }

  /** Waits for it to end by itself; stops it (signal, then SIGKILL) if it has not after timeoutMs. */
  async finish(timeoutMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<PeerExit> {
    const timer = setTimeout(() => void this.stop(signal), timeoutMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }

  /** Sends `signal` to this pid; SIGKILL after graceMs if still running. */
  async stop(signal: NodeJS.Signals = 'SIGINT', graceMs = 5000): Promise<PeerExit> {
    if (this.done) return this.exited;
    try {
      process.kill(this.pid, signal);
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      if (!this.done) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }
}

/** The ffmpeg the peer recipes run (the system's, as Loa itself prefers: codecs/ffmpeg.ts). */
export const peerFfmpeg = ffmpegPath;

export interface FfmpegReceiverOptions {
  sdpFile: string;
  wavFile: string;
  codec: CodecName;
  /** Seconds of silence after which ffmpeg ends by itself (default 2). */
  idleTimeoutS?: number;
  /** Resample the decoded audio to this rate (default: the codec's own rate). */
  sampleRate?: number;
}

/**
 * ffmpeg receiving the stream an SDP describes, decoded to a mono 16-bit WAV
 * at the codec's rate. `aresample=async=1` with a 10 ms threshold turns a gap
 * in RTP timestamps into silence in the WAV, so a lost or skipped frame is
 * audible to the analysis instead of being silently spliced out.
 */
export function startFfmpegReceiver(o: FfmpegReceiverOptions): Peer {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    '-protocol_whitelist',
    'file,udp,rtp',
    '-listen_timeout',
    String(o.idleTimeoutS ?? 2),
    '-i',
    o.sdpFile,
    '-af',
    'aresample=async=1:min_hard_comp=0.010',
    '-ac',
    '1',
    ...(o.sampleRate ? ['-ar', String(o.sampleRate)] : []),
    '-c:a',
    'pcm_s16le',
    '-y',
    o.wavFile,
  ];
  return new Peer(`ffmpeg(${o.codec})`, spawn(peerFfmpeg(), args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

export interface GstReceiverOptions {
  port: number;
  codec: Extract<CodecName, 'pcmu' | 'opus'>;
  wavFile: string;
  /** Join this IPv4 group (on `multicastIface`, default lo) instead of plain unicast. */
  multicastGroup?: string;
  multicastIface?: string;
}

/** The udpsrc → rtpjitterbuffer → depay → decoder → wavenc pipeline, as gst-launch-1.0 arguments. */
export function gstReceiverPipeline(o: GstReceiverOptions): string[] {
  const info = codecInfo(o.codec);
  const caps = `application/x-rtp,media=audio,clock-rate=${info.clockRate},encoding-name=${info.encodingName.toUpperCase()},payload=${info.payloadType}`;
  const src = ['udpsrc', `port=${o.port}`, `caps=${caps}`];
  if (o.multicastGroup) src.push(`multicast-group=${o.multicastGroup}`, `multicast-iface=${o.multicastIface ?? 'lo'}`, 'auto-multicast=true');
  else src.push('address=127.0.0.1');
  const decode = o.codec === 'pcmu' ? ['rtppcmudepay', '!', 'mulawdec'] : ['rtpopusdepay', '!', 'opusdec'];
  return [
    '-e',
    ...src,
    '!',
    'rtpjitterbuffer',
    'latency=60',
    '!',
    ...decode,
    '!',
    'audioconvert',
    '!',
    'audio/x-raw,format=S16LE,channels=1',
    '!',
    'wavenc',
    '!',
    'filesink',
    `location=${o.wavFile}`,
  ];
}

/** gst-launch-1.0 receiving one RTP stream into a WAV; stop it with SIGINT (-e: EOS finalises the WAV). */
export function startGstReceiver(o: GstReceiverOptions): Peer {
  return new Peer(`gst(${o.codec})`, spawn('gst-launch-1.0', gstReceiverPipeline(o), { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Lines of gst-launch output that report a problem (ERROR, CRITICAL, WARNING from an element). */
export function gstProblems(output: string): string[] {
  return output.split('\n').filter((l) => /\bERROR\b|CRITICAL|^WARNING|GStreamer-WARNING/.test(l));
}
