import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FRAME_SAMPLES, newFrame } from '../../codecs/pcm.js';
import type { SourceSpec } from '../../engine/protocol.js';
import { buildSource } from '../../engine/sources/build.js';
import { FileSource } from '../../engine/sources/file.js';
import type { PullResult, Source } from '../../engine/sources/source.js';
import { dominant, steppedTone, wavBytes } from './helpers.js';

function pullAll(s: Source, max = 10_000): { results: PullResult[]; audio: Int16Array[] } {
  const results: PullResult[] = [];
  const audio: Int16Array[] = [];
  for (let i = 0; i < max; i++) {
    const f = newFrame();
    const r = s.pull(f);
    results.push(r);
    if (r === 'ended') break;
    audio.push(f);
  }
  return { results, audio };
}

t.test('sequence: items back to back, position adds up', (t) => {
  const s = buildSource({ kind: 'sequence', items: [{ kind: 'tone', freqHz: 500, durationMs: 100 }, { kind: 'tone', freqHz: 1500, durationMs: 60 }] });
  const { results, audio } = pullAll(s);
  t.equal(audio.length, 8);
  t.equal(results.at(-1), 'ended');
  t.same(audio.map((f) => dominant(f, [500, 1500])), [500, 500, 500, 500, 500, 1500, 1500, 1500]);
  t.equal(s.positionMs, 160);
  t.end();
});

t.test('repeat with a gap, and gain', (t) => {
  const s = buildSource({ kind: 'repeat', times: 3, gapMs: 40, source: { kind: 'gain', gainDb: -6, source: { kind: 'tone', freqHz: 1000, amplitude: 0.5, durationMs: 40 } } });
  const { results } = pullAll(s);
  t.same(results, ['audio', 'audio', 'silence', 'silence', 'audio', 'audio', 'silence', 'silence', 'audio', 'audio', 'ended']);
  const one = buildSource({ kind: 'gain', gainDb: -6, source: { kind: 'tone', freqHz: 1000, amplitude: 0.5 } });
  const f = newFrame();
  one.pull(f);
  const peak = Math.max(...f);
  t.ok(Math.abs(peak - 0.5 * 32767 * 10 ** (-6 / 20)) < 40, `gain applied (peak ${peak})`);
  t.end();
});

t.test('fork continues exactly where the original is (generators and combinators)', (t) => {
  const spec: SourceSpec = { kind: 'sequence', items: [{ kind: 'siren', lowHz: 400, highHz: 900, periodMs: 300, durationMs: 200 }, { kind: 'repeat', times: 2, gapMs: 20, source: { kind: 'clicks', intervalMs: 50, durationMs: 100 } }] };
  const a = buildSource(spec);
  for (let i = 0; i < 7; i++) a.pull(newFrame());
  const b = a.fork();
  t.equal(b.positionMs, a.positionMs);
  const ra = pullAll(a);
  const rb = pullAll(b);
  t.same(rb.results, ra.results);
  t.ok(ra.audio.every((f, i) => f.every((v, j) => v === rb.audio[i][j])), 'identical samples');
  t.end();
});

t.test('file: decoded by ffmpeg from startMs; a fork continues at the exact position; errors end with a reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-src-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pcm = steppedTone(2);
  const path = join(dir, 'x.wav');
  writeFileSync(path, wavBytes(pcm));
  const ready = async (s: Source): Promise<void> => {
    s.prepare();
    for (let i = 0; i < 500 && !s.ready; i++) await new Promise((r) => setTimeout(r, 10));
  };
  const file = new FileSource(path, 300);
  t.teardown(() => file.close());
  await ready(file);
  const f = newFrame();
  t.equal(file.pull(f), 'audio');
  const at = (ms: number): Int16Array => pcm.subarray((ms * 48000) / 1000, (ms * 48000) / 1000 + FRAME_SAMPLES);
  t.same([...f], [...at(300)], 'first frame = the file at 300 ms, sample-exact');
  for (let i = 0; i < 9; i++) file.pull(f);
  t.equal(file.positionMs, 500);
  const fork = file.fork();
  t.teardown(() => fork.close());
  await ready(fork);
  const g = newFrame();
  t.equal(fork.pull(g), 'audio');
  file.pull(f);
  t.same([...g], [...at(500)], 'fork = the file at 500 ms');
  t.same([...f], [...g], 'same as the original');
  let r: PullResult = 'audio';
  let n = 0;
  while (r !== 'ended' && n++ < 200) r = file.pull(f);
  t.equal(r, 'ended');
  t.equal(file.positionMs, 2000, 'ended at the end of the file');
  t.equal(file.error, undefined);

  const bad = new FileSource(join(dir, 'missing.wav'));
  await ready(bad);
  t.equal(bad.pull(f), 'ended');
  t.ok(bad.error && bad.error.length > 0, `reason: ${bad.error?.split('\n')[0]}`);
});
