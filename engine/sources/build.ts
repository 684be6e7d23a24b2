/** Turns a play command's source description into a Source value. */
import { ClickTrain, SineOscillator, Siren } from '../../codecs/tone.js';
import type { SourceSpec } from '../protocol.js';
import { FileSource } from './file.js';
import { GainSource, dbToGain } from './gain.js';
import { GeneratorSource } from './generator.js';
import { RelaySource } from './relay.js';
import { RepeatSource } from './repeat.js';
import { SequenceSource } from './sequence.js';
import { SilenceSource } from './silence.js';
import type { Source } from './source.js';

export class SourceSpecError extends Error {}

/** Throws SourceSpecError when the description is inconsistent (e.g. lowHz > highHz). */
export function buildSource(spec: SourceSpec): Source {
  switch (spec.kind) {
    case 'file':
      return new FileSource(spec.path, spec.startMs ?? 0);
    case 'tone': {
      const { freqHz, amplitude = 0.5 } = spec;
      if (freqHz >= 24_000) throw new SourceSpecError('tone: freqHz must be below 24000');
      return new GeneratorSource('tone', new SineOscillator(freqHz, amplitude), spec.durationMs);
    }
    case 'siren': {
      const opts = { lowHz: spec.lowHz, highHz: spec.highHz, periodMs: spec.periodMs, kind: spec.shape ?? 'wail', amplitude: spec.amplitude ?? 0.5 } as const;
      let siren: Siren;
      try {
        siren = new Siren(opts);
      } catch (err) {
        throw new SourceSpecError((err as Error).message);
      }
      return new GeneratorSource('siren', siren, spec.durationMs);
    }
    case 'clicks': {
      const opts = { intervalMs: spec.intervalMs, amplitude: spec.amplitude ?? 0.9 };
      let clicks: ClickTrain;
      try {
        clicks = new ClickTrain(opts);
      } catch (err) {
        throw new SourceSpecError((err as Error).message);
      }
      return new GeneratorSource('clicks', clicks, spec.durationMs);
    }
    case 'silence':
      return new SilenceSource(spec.durationMs);
    case 'relay':
      return new RelaySource(spec.url, spec.bufferMs);
    case 'sequence':
      return new SequenceSource(spec.items.map(buildSource));
    case 'repeat':
      return new RepeatSource(buildSource(spec.source), spec.times, spec.gapMs ?? 0);
    case 'gain':
      return new GainSource(buildSource(spec.source), dbToGain(spec.gainDb));
  }
}
