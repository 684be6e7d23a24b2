/**
 * Any audio a voice returns (WAV at 22 050 Hz from espeak-ng, MP3 or WAV from
 * a cloud voice) → 48 kHz mono int16, through ffmpeg on pipes. ffmpeg's
 * resampler is used because codecs/resample.ts only converts between 8, 16
 * and 48 kHz.
 */
import { ffmpegPath } from '../codecs/ffmpeg.js';
import { SAMPLE_RATE } from '../codecs/pcm.js';
import { runProcess } from './run-process.js';
import { SpeechError } from './synthesizer.js';

export interface DecodeOptions {
  timeoutMs: number;
  /** Longest audio accepted, in seconds of 48 kHz output. */
  maxSeconds: number;
  signal?: AbortSignal;
}

export async function decodeTo48kMono(audio: Buffer, what: string, opts: DecodeOptions): Promise<Int16Array> {
  if (audio.length === 0) throw new SpeechError('bad_audio', `${what} returned no audio`);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'pipe:0', '-vn', '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 's16le', '-acodec', 'pcm_s16le', 'pipe:1'];
  let raw: Buffer;
  try {
    raw = await runProcess(ffmpegPath(), args, { input: audio, timeoutMs: opts.timeoutMs, maxOutputBytes: opts.maxSeconds * SAMPLE_RATE * 2, signal: opts.signal });
  } catch (err) {
    if (err instanceof SpeechError && err.code === 'engine_failed') {
      throw new SpeechError('bad_audio', `${what} returned audio ffmpeg cannot decode: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const samples = new Int16Array(raw.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = raw.readInt16LE(i * 2);
  if (samples.length === 0) throw new SpeechError('bad_audio', `${what} returned audio with no samples`);
  return samples;
}
