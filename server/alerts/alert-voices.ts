// The default seams of an alert's audio (server/alerts/audio.ts): the offline Vietnamese voice
// of speech/ (espeak-ng, its cache under the data dir) and the URL fetcher of cap/ (limits on
// size, type and time; never an internal address unless an admin allowed the host), whose
// audio is kept like a CAP resource's (stored-audio.ts).
import path from 'node:path';
import { fetchAudio } from '../../cap/fetch-resource.js';
import { createSpeech } from '../../speech/index.js';
import type { Logger } from '../logger.js';
import type { AudioUrlFetcher, SpeechSynth } from './audio.js';
import { storeAlertAudio } from './stored-audio.js';

export async function offlineVoice(dataDir: string, logger: Logger): Promise<SpeechSynth> {
  const speech = await createSpeech({ cacheDir: path.join(dataDir, 'speech-cache'), logger });
  // An alert's language is a tag such as vi-VN; the voice wants the language itself.
  return { speak: (text, opts) => speech.speak(text, { language: (opts?.language ?? 'vi').split('-')[0].toLowerCase() }) };
}

export function alertUrlFetcher(dataDir: string, ffmpegPath: string, allowHosts: string[]): AudioUrlFetcher {
  return {
    async fetch(url) {
      const r = await fetchAudio(url, { allowHosts });
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.reason}`);
      const stored = await storeAlertAudio(dataDir, ffmpegPath, r.bytes);
      return { path: stored.path, sha256: stored.sha256 };
    },
  };
}
