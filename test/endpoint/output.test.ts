import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dominantFrequency } from '../../codecs/analysis.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { SineOscillator } from '../../codecs/tone.js';
import { readWav } from '../../codecs/wav.js';
import { createSink, type WavTimeline } from '../../endpoint/output.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-output-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function tone(frames: number, write: (f: Int16Array, n: number) => void): void {
  const osc = new SineOscillator(1000, 0.5);
  const f = new Int16Array(FRAME_SAMPLES);
  for (let n = 0; n < frames; n++) {
    osc.fill(f);
    write(f, n);
  }
}

t.test('wav sink: one frame per slot, with the server time of sample 0 and anchors', async (t) => {
  const path = join(dir, 'a.wav');
  const sink = createSink({ kind: 'wav', path });
  tone(120, (f, n) => sink.write(f, 1_763_900_000_000 + n * 20.001));
  await sink.close();
  const wav = readWav(path);
  t.equal(wav.samples.length, 120 * FRAME_SAMPLES);
  t.ok(Math.abs(dominantFrequency(wav.samples, 48000) - 1000) < 2);
  const tl = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as WavTimeline;
  t.equal(tl.sample0ServerMs, 1_763_900_000_000);
  t.equal(tl.frames, 120);
  t.same(tl.anchors.map((a) => a[0]), [0, 50 * FRAME_SAMPLES, 100 * FRAME_SAMPLES]);
  t.equal(tl.anchors[2][1], 1_763_900_000_000 + 100 * 20.001);
});

t.test('ffmpeg sink: raw PCM piped into the real ffmpeg binary', async (t) => {
  const path = join(dir, 'b.wav');
  const sink = createSink({ kind: 'ffmpeg', args: ['-y', '-f', 'wav', path] });
  tone(50, (f) => sink.write(f, 0));
  await sink.close();
  t.equal(sink.dropped, 0);
  const wav = readWav(path);
  t.equal(wav.samples.length, 50 * FRAME_SAMPLES);
  t.ok(Math.abs(dominantFrequency(wav.samples, 48000) - 1000) < 2);
});

t.test('a player that cannot start drops frames instead of crashing', async (t) => {
  const prev = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = join(dir, 'no-such-ffmpeg');
  t.teardown(() => {
    if (prev === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = prev;
  });
  const sink = createSink({ kind: 'ffmpeg', args: ['-f', 'null', '-'] });
  await new Promise((r) => setTimeout(r, 50));
  tone(5, (f) => sink.write(f, 0));
  await sink.close();
  t.equal(sink.frames, 5);
  t.equal(sink.dropped, 5);
});
