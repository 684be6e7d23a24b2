/**
 * What every voice offers: text in, 48 kHz mono int16 out, within a bounded
 * time and cancellable. The offline espeak-ng voice and the HTTP (cloud)
 * adapter implement it; createSpeech() chooses, caches and falls back.
 */

export interface SynthesisOptions {
  /** BCP 47 language of the text; 'vi' by default. */
  language?: string;
  /** Engine-specific voice name (espeak-ng: 'vi', 'vi-vn-x-central', 'vi-vn-x-south'). */
  voice?: string;
  /** Speaking rate as a factor of the engine's normal rate: 1 normal, 0.8 slower, 1.2 faster (0.5–2). */
  rate?: number;
  /** Cancels the synthesis (the engine's process or request is stopped). */
  signal?: AbortSignal;
}

export interface SynthesizedAudio {
  /** 48 kHz mono signed 16-bit samples. */
  pcm: Int16Array;
  sampleRate: 48000;
}

export interface Synthesizer {
  /** Short engine name for logs and cache keys ('espeak-ng', 'http'). */
  readonly name: string;
  /**
   * A string that changes whenever the same text could sound different
   * (engine version, endpoint, default voice): part of the cache key.
   */
  identity(): Promise<string>;
  synthesize(text: string, opts?: SynthesisOptions): Promise<SynthesizedAudio>;
}

export type SpeechErrorCode =
  | 'empty_text'
  | 'text_too_long'
  | 'bad_option'
  | 'timeout'
  | 'aborted'
  | 'engine_failed'
  | 'bad_audio';

/**
 * Every failure of a synthesis, with a code a caller can act on and, for
 * text_too_long, the numbers for the user's message (i18n/messages.js
 * speech_text_too_long {length} {limit}; speech_empty_text; speech_failed {detail}).
 */
export class SpeechError extends Error {
  readonly code: SpeechErrorCode;
  readonly params: Record<string, number | string>;
  constructor(code: SpeechErrorCode, message: string, opts?: { cause?: unknown; params?: Record<string, number | string> }) {
    super(message, opts);
    this.name = 'SpeechError';
    this.code = code;
    this.params = opts?.params ?? {};
  }
}

export const MIN_RATE = 0.5;
export const MAX_RATE = 2;

/** Validates the rate factor (default 1). */
export function checkRate(rate: number | undefined): number {
  const r = rate ?? 1;
  if (!Number.isFinite(r) || r < MIN_RATE || r > MAX_RATE) {
    throw new SpeechError('bad_option', `speech rate ${rate} is outside ${MIN_RATE}–${MAX_RATE}`);
  }
  return r;
}
