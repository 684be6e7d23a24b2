// Checks that a file is decodable audio and reads its properties, with the ffmpeg binary
// alone (the bundled build has no ffprobe): `ffmpeg -i` prints the container and streams on
// stderr, and a full decode of the first audio stream to the null muxer proves it plays and
// measures how much really decodes. (codecs/ffmpeg.ts will hold the team's shared probe; this
// one serves the media library until the two are merged.)
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';

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

function parseClock(text: string): number {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text.trim());
  return m ? Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000) : NaN;
}

function channelCount(layout: string): number {
  const l = layout.trim();
  if (l === 'mono') return 1;
  if (l === 'stereo') return 2;
  const n = /^(\d+) channels/.exec(l);
  if (n) return Number(n[1]);
  const surround = /^(\d)\.(\d)/.exec(l);
  return surround ? Number(surround[1]) + Number(surround[2]) : 0;
}

/** Parses the stream description of `ffmpeg -i` stderr (exported for tests). */
export function parseFfmpegInfo(stderr: string): Omit<AudioProbe, 'durationMs'> | undefined {
  const input = /Input #0, ([^ ]+?), from/.exec(stderr);
  const audio = /Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([^\s,]+)[^,\n]*, (\d+) Hz, ([^,\n]+)/.exec(stderr);
  if (!input || !audio) return undefined;
  const duration = /Duration: (\d+:\d{2}:\d{2}(?:\.\d+)?)/.exec(stderr);
  // A duration guessed from the bitrate (VBR mp3 without a Xing header, raw wav) is no promise.
  const estimated = /Estimating duration from bitrate/.test(stderr);
  const declared = duration && !estimated ? parseClock(duration[1]) : NaN;
  return {
    format: input[1].split(',')[0],
    codec: audio[1],
    sampleRate: Number(audio[2]),
    channels: channelCount(audio[3]),
    declaredMs: Number.isFinite(declared) ? declared : null,
  };
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
