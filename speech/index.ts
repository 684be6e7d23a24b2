// Offline Vietnamese speech for alerts: the public surface of speech/.
export { createSpeech, type Speech, type SpeechConfig, type SpeakOptions, type SpokenAudio, type SpeechStats, type SpeechLogger } from './speech.js';
export { normalizeVietnamese, type NormalizeOptions } from './normalize-vi.js';
export { SpeechError, type SpeechErrorCode, type Synthesizer, type SynthesisOptions, type SynthesizedAudio } from './synthesizer.js';
export { EspeakSynthesizer, type EspeakConfig } from './espeak-synthesizer.js';
export { HttpSynthesizer, type HttpVoiceConfig } from './http-synthesizer.js';
export { SpeechCache, type SpeechCacheOptions, type SpeechCacheStats } from './speech-cache.js';
