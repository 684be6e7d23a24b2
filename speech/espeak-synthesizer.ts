/**
 * The offline voice: the espeak-ng binary (Debian package `espeak-ng`) with
 * its Vietnamese voices. Text goes on stdin (never on the command line, never
 * through a shell), WAV comes back on stdout and is resampled to 48 kHz.
 */
import { decodeTo48kMono } from './decode-audio.js';
import { runProcess } from './run-process.js';
import { SpeechError, checkRate, type SynthesisOptions, type SynthesizedAudio, type Synthesizer } from './synthesizer.js';

export interface EspeakConfig {
  /** The binary; 'espeak-ng' on PATH by default. */
  command?: string;
  /** Voice of Vietnamese text when the caller names none: 'vi' (northern) by default; 'vi-vn-x-central', 'vi-vn-x-south'. */
  voice?: string;
  /** espeak-ng speed (-s) at rate 1. espeak-ng's own default is 175; 150 is calmer for announcements. */
  wordsPerMinute?: number;
  /** Longest (normalised) text accepted, in characters. Default 40 000: 5 000 characters of digits can expand fourfold. */
  maxTextChars?: number;
  /** Bound on one synthesis, espeak-ng and resampling together. Default 60 s. */
  timeoutMs?: number;
}

/** Voice names as espeak-ng spells them (language, variants, +variant). */
const VOICE_NAME = /^[a-z]{2,3}(?:-[a-z0-9]+)*(?:\+[a-z0-9]+)?$/i;

export class EspeakSynthesizer implements Synthesizer {
  readonly name = 'espeak-ng';
  private readonly command: string;
  private readonly voice: string;
  private readonly wpm: number;
  private readonly maxTextChars: number;
  private readonly timeoutMs: number;
  private version: Promise<string> | undefined;

  constructor(config: EspeakConfig = {}) {
    this.command = config.command ?? 'espeak-ng';
    this.voice = config.voice ?? 'vi';
    this.wpm = config.wordsPerMinute ?? 150;
    this.maxTextChars = config.maxTextChars ?? 40_000;
    this.timeoutMs = config.timeoutMs ?? 60_000;
    if (!VOICE_NAME.test(this.voice)) throw new SpeechError('bad_option', `espeak-ng voice "${this.voice}" is not a voice name`);
    if (!(this.wpm >= 80 && this.wpm <= 450)) throw new SpeechError('bad_option', `espeak-ng speed ${this.wpm} wpm is outside 80–450`);
  }

  /** "espeak-ng <version line>": a new espeak-ng or its data may sound different. */
  identity(): Promise<string> {
    this.version ??= runProcess(this.command, ['--version'], { timeoutMs: 10_000, maxOutputBytes: 4096 }).then(
      (out) => `espeak-ng ${out.toString('utf8').trim()} ${this.wpm}wpm`,
      (err) => {
        this.version = undefined; // try again next time: the binary may be installed later
        throw err;
      },
    );
    return this.version;
  }

  async synthesize(text: string, opts: SynthesisOptions = {}): Promise<SynthesizedAudio> {
    const spoken = text.trim();
    if (!spoken) throw new SpeechError('empty_text', 'nothing to say: the text is empty');
    if (spoken.length > this.maxTextChars) {
      throw new SpeechError('text_too_long', `the text has ${spoken.length} characters; espeak-ng takes at most ${this.maxTextChars}`, {
        params: { length: spoken.length, limit: this.maxTextChars },
      });
    }
    // The configured voice is a Vietnamese one; text in another language gets espeak-ng's voice of that name ('en', 'fr').
    const language = opts.language ?? 'vi';
    const voice = opts.voice ?? (language === 'vi' ? this.voice : language);
    if (!VOICE_NAME.test(voice)) throw new SpeechError('bad_option', `espeak-ng voice "${voice}" is not a voice name`);
    const speed = Math.round(this.wpm * checkRate(opts.rate));
    const deadline = Date.now() + this.timeoutMs;
    // -b 1: the input is UTF-8 whatever the locale; --stdout: WAV on stdout.
    // -a 80: at espeak-ng's default amplitude (100) Vietnamese peaks reach 32 638 and
    // resampling overshoots into clipping; at 80 the peaks stay near 27 000 (-1.7 dBFS).
    const wav = await runProcess(this.command, ['-v', voice, '-s', String(speed), '-a', '80', '-b', '1', '--stdout'], {
      input: Buffer.from(spoken, 'utf8'),
      timeoutMs: this.timeoutMs,
      // 22 050 Hz int16: 44 100 bytes a second; a generous 10 s per 10 characters.
      maxOutputBytes: 1024 + spoken.length * 44_100,
      signal: opts.signal,
    });
    const pcm = await decodeTo48kMono(wav, 'espeak-ng', {
      timeoutMs: Math.max(1000, deadline - Date.now()),
      maxSeconds: 60 + spoken.length,
      signal: opts.signal,
    });
    return { pcm, sampleRate: 48000 };
  }
}
