// Checks that a file is decodable audio and reads its properties, with the ffmpeg binary
// alone (the bundled build has no ffprobe): `ffmpeg -i` prints the container and streams on
// stderr, and a full decode of the first audio stream to the null muxer proves it plays and
// measures how much really decodes. Parsing of `ffmpeg -i` is shared with codecs/ffmpeg.ts.
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { parseProbeOutput } from '../../codecs/ffmpeg.js';

export interface AudioProbe {
  /** ffmpeg demuxer name, first alias (mp3, wav, ogg, mov, flac…). */
  format: string;
  codec: string;
  sampleRate: number;
  channels: number;
  /** Duration that actually decoded. */
  durationMs: number;
  /** Duration the container declares, when it declares one. */
  declaredMs: number | null;
}

export class ProbeError extends Error {
  constructor(
    readonly reason: 'not_audio' | 'truncated',
    readonly detail: string,
    readonly decodedMs = 0,
    readonly declaredMs = 0,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/** Container and first audio stream as `ffmpeg -i` describes them; undefined when there is none. */
export function parseFfmpegInfo(stderr: string): Omit<AudioProbe, 'durationMs'> | undefined {
  try {
    const p = parseProbeOutput(stderr, 'upload');
    // ffmpeg lists a demuxer's aliases ("mov,mp4,m4a,3gp,3g2,mj2"): the first names it.
    return { format: p.format.split(',')[0], codec: p.codec, sampleRate: p.sampleRate, channels: p.channels || 0, declaredMs: p.durationMs };
  } catch {
    return undefined;
  }
}

function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const useful = lines.filter((l) => !/^(ffmpeg version|built with|configuration:|lib\w+ +\d|Input #|Duration:|Stream #|Metadata:|Press \[q\])/.test(l));
  return (useful.at(-1) ?? 'no audio stream').slice(0, 200);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(ffmpegPath: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = (stdout + d).slice(-64 * 1024)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-256 * 1024)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A file that decodes to less than this share of its declared duration is truncated. */
const TRUNCATION_TOLERANCE = 0.98;
const TRUNCATION_SLACK_MS = 60;
const MIN_AUDIO_MS = 20;

/**
 * What a RIFF/WAVE header promises: the data chunk's size over the byte rate. ffmpeg itself
 * estimates a wav's duration from the file size, so a cut-off wav would look whole to it.
 */
export async function wavDeclaredMs(file: string): Promise<number | null> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead < 44 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return null;
    let byteRate = 0;
    for (let pos = 12; pos + 8 <= bytesRead; ) {
      const id = head.toString('latin1', pos, pos + 4);
      const size = head.readUInt32LE(pos + 4);
      if (id === 'fmt ' && pos + 20 <= bytesRead) byteRate = head.readUInt32LE(pos + 16);
      if (id === 'data') {
        // Streaming writers leave 0 or 0xFFFFFFFF when they could not seek back: no promise then.
        if (!byteRate || size === 0 || size === 0xffffffff) return null;
        return Math.round((size / byteRate) * 1000);
      }
      pos += 8 + size + (size % 2);
    }
    return null;
  } finally {
    await fh.close();
  }
}

/**
 * Decodes the whole first audio stream of `file`. Throws ProbeError('not_audio') when there is
 * no decodable audio, ProbeError('truncated') when much less decodes than the container declares.
 */
export async function probeAudio(ffmpegPath: string, file: string, timeoutMs = 120_000): Promise<AudioProbe> {
  const r = await run(
    ffmpegPath,
    ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-i', file, '-map', '0:a:0', '-vn', '-f', 'null', '-'],
    timeoutMs,
  );
  const info = parseFfmpegInfo(r.stderr);
  if (!info) throw new ProbeError('not_audio', lastErrorLine(r.stderr));
  if (r.code !== 0) throw new ProbeError('not_audio', lastErrorLine(r.stderr));
  // -progress reports out_time_us repeatedly; the last one is where decoding ended.
  const times = [...r.stdout.matchAll(/out_time_us=(\d+)/g)];
  const decodedMs = times.length ? Math.round(Number(times.at(-1)![1]) / 1000) : 0;
  if (decodedMs < MIN_AUDIO_MS) throw new ProbeError('not_audio', 'no audio frame could be decoded');
  if (info.format === 'wav') info.declaredMs = (await wavDeclaredMs(file)) ?? info.declaredMs;
  if (info.declaredMs !== null && decodedMs < info.declaredMs * TRUNCATION_TOLERANCE - TRUNCATION_SLACK_MS) {
    throw new ProbeError('truncated', 'decoded less than declared', decodedMs, info.declaredMs);
  }
  return { ...info, durationMs: decodedMs };
}
