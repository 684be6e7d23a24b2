/**
 * A cloud voice behind HTTP (FPT.AI, Viettel AI, Zalo, or a gateway in front
 * of them), configured by URL and key. The generic shape: POST a JSON body
 * { text, language, voice, rate } with the key in a header, receive audio
 * bytes (WAV, MP3, Ogg: anything ffmpeg decodes). A vendor whose API differs
 * gets its own Synthesizer of the same interface; createSpeech() keeps the
 * offline voice as the fallback whatever happens here.
 */
import { decodeTo48kMono } from './decode-audio.js';
import { SpeechError, checkRate, type SynthesisOptions, type SynthesizedAudio, type Synthesizer } from './synthesizer.js';

export interface HttpVoiceConfig {
  /** Name in logs and cache keys, e.g. 'fpt-ai'. Default 'http'. */
  name?: string;
  /** Where the JSON request is POSTed (http or https). */
  url: string;
  /** Secret sent with each request; never logged, not part of the cache key. */
  apiKey?: string;
  /** Header carrying the key: 'authorization' (default, sent as "Bearer <key>") or a vendor's own, e.g. 'api-key', sent as is. */
  apiKeyHeader?: string;
  /** Voice when the caller names none. */
  voice?: string;
  /** Bound on one request, response and decoding together. Default 15 s. */
  timeoutMs?: number;
  /** Largest response accepted. Default 20 MiB. */
  maxResponseBytes?: number;
  /** Longest text sent. Default 5 000 characters (cloud voices limit requests). */
  maxTextChars?: number;
}

export class HttpSynthesizer implements Synthesizer {
  readonly name: string;
  private readonly url: URL;
  private readonly config: HttpVoiceConfig;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly maxTextChars: number;

  constructor(config: HttpVoiceConfig) {
    this.config = config;
    this.name = config.name ?? 'http';
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new SpeechError('bad_option', `cloud voice URL "${config.url}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SpeechError('bad_option', `cloud voice URL must be http or https, not ${url.protocol}`);
    this.url = url;
    this.timeoutMs = config.timeoutMs ?? 15_000;
    this.maxResponseBytes = config.maxResponseBytes ?? 20 * 1024 * 1024;
    this.maxTextChars = config.maxTextChars ?? 5000;
  }

  async identity(): Promise<string> {
    return `${this.name} ${this.url.origin}${this.url.pathname} ${this.config.voice ?? ''}`;
  }

  async synthesize(text: string, opts: SynthesisOptions = {}): Promise<SynthesizedAudio> {
    const spoken = text.trim();
    if (!spoken) throw new SpeechError('empty_text', 'nothing to say: the text is empty');
    if (spoken.length > this.maxTextChars) {
      throw new SpeechError('text_too_long', `the text has ${spoken.length} characters; ${this.name} takes at most ${this.maxTextChars}`, {
        params: { length: spoken.length, limit: this.maxTextChars },
      });
    }
    const rate = checkRate(opts.rate);
    if (opts.signal?.aborted) throw new SpeechError('aborted', `${this.name}: aborted before start`);
    const deadline = Date.now() + this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    let body: Buffer;
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'audio/*' };
      if (this.config.apiKey) {
        const header = (this.config.apiKeyHeader ?? 'authorization').toLowerCase();
        headers[header] = header === 'authorization' ? `Bearer ${this.config.apiKey}` : this.config.apiKey;
      }
      const response = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: spoken, language: opts.language ?? 'vi', voice: opts.voice ?? this.config.voice, rate }),
        signal: controller.signal,
        redirect: 'error',
      });
      if (!response.ok) {
        const detail = (await response.text().catch(() => '')).slice(0, 200);
        throw new SpeechError('engine_failed', `${this.name} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!type.startsWith('audio/') && type !== 'application/octet-stream') {
        throw new SpeechError('bad_audio', `${this.name} answered ${type || 'no content type'}, not audio`);
      }
      body = await readBounded(response, this.maxResponseBytes, this.name);
    } catch (err) {
      if (timedOut) throw new SpeechError('timeout', `${this.name} did not answer within ${this.timeoutMs} ms`, { cause: err });
      if (opts.signal?.aborted) throw new SpeechError('aborted', `${this.name}: aborted`, { cause: err });
      if (err instanceof SpeechError) throw err;
      throw new SpeechError('engine_failed', `${this.name} request failed: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const pcm = await decodeTo48kMono(body, this.name, {
      timeoutMs: Math.max(1000, deadline - Date.now()),
      maxSeconds: 60 + spoken.length,
      signal: opts.signal,
    });
    return { pcm, sampleRate: 48000 };
  }
}

async function readBounded(response: Response, limit: number, name: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) throw new SpeechError('bad_audio', `${name} sent ${declared} bytes; at most ${limit} are accepted`);
  const chunks: Buffer[] = [];
  let total = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) throw new SpeechError('bad_audio', `${name} sent more than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
