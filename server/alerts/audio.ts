// What an alert airing plays, and the seams other parts plug into:
//  - SpeechSynth: Vietnamese text → 48 kHz mono PCM (the speech/ module's createSpeech() fits
//    it as is). Without one, a speech message airs the attention signal alone, and says so in
//    the log and the alert's audit (an alarm without words beats silence).
//  - AudioUrlFetcher: an audio URL (a CAP <resource> uri) → a local file, fetched with limits
//    on size, type, time and address (the CAP module's fetcher). Without one, URL messages are
//    refused at creation.
// Synthesised speech is written once per text as a WAV named by its hash and played as a file.
import { createHash } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { SourceSpec } from '../../engine/protocol.js';
import { writeWavHeader } from '../../codecs/wav.js';
import type { DB } from '../db/types.js';
import { mediaFileSpec, sirenSpec, toneSpec } from '../broadcast/sources.js';
import { storedAudioPath } from './stored-audio.js';
import type { AlertAudio } from './tables.js';

/** speech/'s createSpeech() is one as it is. `language`: a base tag ('vi', 'en'). */
export interface SpeechSynth {
  speak(text: string, opts?: { language?: string }): Promise<{ pcm: Int16Array; sampleRate?: number }>;
}

export interface AudioUrlFetcher {
  /**
   * A local audio file for this URL (the fetcher enforces its own limits); throws with a reason.
   * `sha256` when the file is kept among the alerts' stored audio (stored-audio.ts).
   */
  fetch(url: string): Promise<{ path: string; sha256?: string }>;
}

export interface AlertAudioOptions {
  db: Kysely<DB>;
  dataDir: string;
  speech?: SpeechSynth;
  fetchUrl?: AudioUrlFetcher;
}

/** Gap between the attention signal and the message, so the first word is not masked. */
export const GAP_MS = 500;

export class AlertAudioBuilder {
  constructor(private readonly opts: AlertAudioOptions) {}

  get hasSpeech(): boolean {
    return this.opts.speech !== undefined;
  }

  get hasUrlFetcher(): boolean {
    return this.opts.fetchUrl !== undefined;
  }

  /**
   * A URL message fetched now, when the alert is issued: a URL that cannot be fetched is refused
   * with its reason instead of airing a siren alone, and every airing plays the same bytes.
   */
  async fetchMessage(url: string): Promise<AlertAudio['message']> {
    const f = await this.opts.fetchUrl!.fetch(url);
    return f.sha256 ? { kind: 'stored', sha256: f.sha256, mimeType: 'audio/*' } : { kind: 'url', url };
  }

  /** Attention signal, then the message; `warnings` says what could not be included. */
  async airing(audio: AlertAudio, spokenText: string, lang: string): Promise<{ spec: SourceSpec; warnings: string[] }> {
    const items: SourceSpec[] = [];
    const warnings: string[] = [];
    if (audio.attention) items.push(sirenSpec(audio.attention.shape, audio.attention.durationMs), { kind: 'silence', durationMs: GAP_MS });
    const m = audio.message;
    try {
      switch (m.kind) {
        case 'speech':
          if (this.opts.speech) items.push(await this.speechFile(spokenText, lang));
          else warnings.push('speech_unavailable');
          break;
        case 'media': {
          const row = await this.opts.db.selectFrom('media').select(['sha256']).where('id', '=', m.mediaId).executeTakeFirst();
          const spec = row && (await mediaFileSpec({ dataDir: this.opts.dataDir }, row));
          if (spec) items.push(spec);
          else warnings.push('media_missing');
          break;
        }
        case 'url':
          if (this.opts.fetchUrl) items.push({ kind: 'file', path: (await this.opts.fetchUrl.fetch(m.url)).path });
          else warnings.push('url_unavailable');
          break;
        case 'stored':
          items.push({ kind: 'file', path: storedAudioPath(this.opts.dataDir, m.sha256) });
          break;
        case 'none':
          break;
      }
    } catch (err) {
      warnings.push(`message_failed: ${(err as Error).message}`);
    }
    // Nothing playable at all still gets the listener's attention.
    if (items.length === 0) items.push(sirenSpec('wail', 10_000));
    if (items.at(-1)?.kind === 'silence') items.pop();
    return { spec: items.length === 1 ? items[0] : { kind: 'sequence', items }, warnings };
  }

  /** The "cancelled" notice: spoken when speech is there, else two falling tones. */
  async cancelNotice(text: string, lang: string): Promise<SourceSpec> {
    if (this.opts.speech) {
      try {
        return await this.speechFile(text, lang);
      } catch {
        /* the tones below */
      }
    }
    return { kind: 'sequence', items: [toneSpec(880, 400), { kind: 'silence', durationMs: 100 }, toneSpec(440, 800)] };
  }

  /** The attention signal and the gap after it, alone: what airs at once while the speech is synthesised. */
  attentionSpec(audio: AlertAudio): SourceSpec | null {
    if (!audio.attention) return null;
    return { kind: 'sequence', items: [sirenSpec(audio.attention.shape, audio.attention.durationMs), { kind: 'silence', durationMs: GAP_MS }] };
  }

  /** Whether this airing's message is speech not synthesised yet (seconds of work before it can play). */
  async speechPending(audio: AlertAudio, spokenText: string, lang: string): Promise<boolean> {
    if (audio.message.kind !== 'speech' || !this.opts.speech) return false;
    try {
      await access(this.speechPath(spokenText, lang));
      return false;
    } catch {
      return true;
    }
  }

  /** The spoken message, synthesised (or from the cache of earlier airings). */
  speechMessage(spokenText: string, lang: string): Promise<SourceSpec> {
    return this.speechFile(spokenText, lang);
  }

  private speechPath(text: string, lang: string): string {
    return path.join(this.opts.dataDir, 'alerts', 'speech', `${createHash('sha256').update(lang).update('\0').update(text).digest('hex')}.wav`);
  }

  private async speechFile(text: string, lang: string): Promise<SourceSpec> {
    const file = this.speechPath(text, lang);
    const dir = path.dirname(file);
    try {
      await access(file);
      return { kind: 'file', path: file };
    } catch {
      /* synthesise below */
    }
    const { pcm, sampleRate = 48_000 } = await this.opts.speech!.speak(text, { language: lang.split('-')[0].toLowerCase() });
    if (pcm.length === 0) throw new Error('speech synthesiser returned no audio');
    await mkdir(dir, { recursive: true });
    const body = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.concat([writeWavHeader({ sampleRate, channels: 1, dataBytes: body.length }), body]));
    await rename(tmp, file);
    return { kind: 'file', path: file };
  }
}
