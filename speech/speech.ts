/**
 * The entry point for alerts: speak(text) → 48 kHz mono speech, normalised,
 * cached by content, from the configured cloud voice when there is one and
 * from the offline espeak-ng voice otherwise or whenever the cloud voice
 * fails (the reason is logged, rate-limited, and counted).
 */
import { EspeakSynthesizer, type EspeakConfig } from './espeak-synthesizer.js';
import { HttpSynthesizer, type HttpVoiceConfig } from './http-synthesizer.js';
import { Limiter } from './limiter.js';
import { normalizeVietnamese, type NormalizeOptions } from './normalize-vi.js';
import { SpeechCache, cacheKey, type SpeechCacheStats } from './speech-cache.js';
import { SpeechError, checkRate, type Synthesizer } from './synthesizer.js';

/** The subset of pino's Logger used here. */
export interface SpeechLogger {
  warn(obj: object, msg: string): void;
}

export interface SpeechConfig {
  /** Directory of the audio cache (created if missing). */
  cacheDir: string;
  /** Bound on the cache, in bytes (default 512 MiB). */
  cacheMaxBytes?: number;
  /** The offline voice: always present, the default and the fallback. */
  espeak?: EspeakConfig;
  /** A cloud voice tried first when configured (generic HTTP adapter). */
  cloud?: HttpVoiceConfig;
  /** Or any other Synthesizer tried first (a vendor-specific adapter); wins over `cloud`. */
  primary?: Synthesizer;
  /** Longest input text, in characters. Default 5 000. */
  maxTextChars?: number;
  /** Syntheses running at once (cache hits never wait). Default 2, one per core of a small server. */
  maxConcurrent?: number;
  /** How numbers are read ("linh" or "lẻ" for a zero tens digit). */
  numbers?: NormalizeOptions;
  logger?: SpeechLogger;
  /** Minimum interval between two fallback warnings in the log (default 60 s); every fallback is counted. */
  logIntervalMs?: number;
}

export interface SpeakOptions {
  /** Language of the text; 'vi' (default) is normalised for Vietnamese. */
  language?: string;
  /** Voice of the first engine tried (the cloud voice when configured, else espeak-ng); a fallback uses its configured voice. */
  voice?: string;
  /** Speaking rate factor, 0.5–2 (default 1). */
  rate?: number;
  signal?: AbortSignal;
}

export interface SpokenAudio {
  /** 48 kHz mono int16. */
  pcm: Int16Array;
  sampleRate: 48000;
  durationMs: number;
  /** The text as it was given to the voice (after normalisation). */
  spokenText: string;
  /** Which engine made it ('espeak-ng', or the cloud voice's name). */
  engine: string;
  /** True when the audio came from the cache. */
  cached: boolean;
  /** Why the preferred engine was not used, when a fallback spoke. */
  fallbackReason?: string;
  /**
   * The cache's 48 kHz mono WAV file holding this audio, for players that take
   * a file (undefined when it could not be stored). Eviction may delete it
   * later: call speak() again before each airing rather than keeping the path.
   */
  file?: string;
}

export interface SpeechStats {
  cache: SpeechCacheStats;
  /** Synthesised by each engine (cache misses only). */
  synthesized: Record<string, number>;
  /** Syntheses running and waiting for a slot now. */
  running: number;
  queued: number;
  /** Audio that could not be stored in the cache (and was spoken anyway). */
  cacheWriteErrors: number;
  fallbacks: number;
  failures: number;
}

export interface Speech {
  speak(text: string, opts?: SpeakOptions): Promise<SpokenAudio>;
  /** The text the voice would be given. */
  normalize(text: string, language?: string): string;
  stats(): SpeechStats;
}

/** Bump when the cached audio of the same inputs would change for reasons outside the engine (e.g. post-processing). */
const CACHE_FORMAT = 'loa-speech-1';

export async function createSpeech(config: SpeechConfig): Promise<Speech> {
  const cache = await SpeechCache.open({ dir: config.cacheDir, maxBytes: config.cacheMaxBytes });
  const offline = new EspeakSynthesizer(config.espeak);
  const preferred = config.primary ?? (config.cloud ? new HttpSynthesizer(config.cloud) : undefined);
  const maxTextChars = config.maxTextChars ?? 5000;
  const limiter = new Limiter(config.maxConcurrent ?? 2);
  const logIntervalMs = config.logIntervalMs ?? 60_000;
  const synthesized: Record<string, number> = {};
  let fallbacks = 0;
  let failures = 0;
  let cacheWriteErrors = 0;
  const lastWarnAt = new Map<string, number>();
  const suppressed = new Map<string, number>();

  /** One warning per kind per logIntervalMs; the ones in between are counted in the next. */
  function warnRateLimited(kind: string, obj: object, msg: string): void {
    const now = Date.now();
    if (now - (lastWarnAt.get(kind) ?? -Infinity) < logIntervalMs) {
      suppressed.set(kind, (suppressed.get(kind) ?? 0) + 1);
      return;
    }
    lastWarnAt.set(kind, now);
    config.logger?.warn({ ...obj, suppressedSinceLast: suppressed.get(kind) ?? 0 }, msg);
    suppressed.set(kind, 0);
  }

  cache.onCorrupt = (key, reason) => warnRateLimited('corrupt', { key, reason }, 'speech cache: corrupt file dropped, synthesising again');

  function warnFallback(engine: string, err: unknown): void {
    fallbacks++;
    const code = err instanceof SpeechError ? err.code : 'engine_failed';
    warnRateLimited('fallback', { engine, code, reason: (err as Error).message }, `speech: ${engine} failed, speaking with ${offline.name} instead`);
  }

  function normalize(text: string, language = 'vi'): string {
    return language === 'vi' ? normalizeVietnamese(text, config.numbers) : text.normalize('NFC').replace(/\s+/g, ' ').trim();
  }

  async function speakWith(engine: Synthesizer, spokenText: string, opts: SpeakOptions, voice: string | undefined): Promise<SpokenAudio> {
    const rate = checkRate(opts.rate);
    const language = opts.language ?? 'vi';
    const key = cacheKey([CACHE_FORMAT, await engine.identity(), language, voice ?? '', String(rate), spokenText]);
    const hit = await cache.get(key);
    if (hit) return { ...result(hit, spokenText, engine.name, true), file: cache.pathOf(key) };
    const { pcm } = await limiter.run(() => engine.synthesize(spokenText, { language, voice, rate, signal: opts.signal }), opts.signal);
    synthesized[engine.name] = (synthesized[engine.name] ?? 0) + 1;
    try {
      await cache.put(key, pcm);
    } catch (err) {
      // A full or broken disk costs the cache, never the alert: the audio is returned anyway.
      cacheWriteErrors++;
      warnRateLimited('cache', { reason: (err as Error).message }, 'speech cache: cannot store audio, speaking without caching');
      return result(pcm, spokenText, engine.name, false);
    }
    return { ...result(pcm, spokenText, engine.name, false), file: cache.has(key) ? cache.pathOf(key) : undefined };
  }

  async function speak(text: string, opts: SpeakOptions = {}): Promise<SpokenAudio> {
    if (text.length > maxTextChars) {
      throw new SpeechError('text_too_long', `the text has ${text.length} characters; at most ${maxTextChars} can be spoken`, {
        params: { length: text.length, limit: maxTextChars },
      });
    }
    checkRate(opts.rate);
    const spokenText = normalize(text, opts.language);
    if (!spokenText) throw new SpeechError('empty_text', 'nothing to say: the text is empty');
    let fallbackReason: string | undefined;
    if (preferred) {
      try {
        return await speakWith(preferred, spokenText, opts, opts.voice);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        warnFallback(preferred.name, err);
        fallbackReason = `${preferred.name}: ${(err as Error).message}`;
      }
    }
    try {
      const audio = await speakWith(offline, spokenText, opts, preferred ? undefined : opts.voice);
      return fallbackReason ? { ...audio, fallbackReason } : audio;
    } catch (err) {
      failures++;
      throw err;
    }
  }

  return {
    speak,
    normalize,
    stats: () => ({ cache: cache.stats(), synthesized: { ...synthesized }, running: limiter.running, queued: limiter.queued, cacheWriteErrors, fallbacks, failures }),
  };
}

function result(pcm: Int16Array, spokenText: string, engine: string, cached: boolean): SpokenAudio {
  return { pcm, sampleRate: 48000, durationMs: Math.round((pcm.length * 1000) / 48000), spokenText, engine, cached };
}
