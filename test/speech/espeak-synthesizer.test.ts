// The offline voice, driven for real (espeak-ng, then ffmpeg to 48 kHz): what
// comes out must be speech, and the numbers in the text must be heard.
import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { SineOscillator } from '../../codecs/tone.js';
import { EspeakSynthesizer } from '../../speech/espeak-synthesizer.js';
import { normalizeVietnamese } from '../../speech/normalize-vi.js';
import { SpeechError } from '../../speech/synthesizer.js';
import { bandEnergyFraction, envelopePeaks, identicalAudio, median, rmsDbfs, voicedPitches } from '../helpers/speech-measures.js';

const RATE = 48000;
const voice = new EspeakSynthesizer();
const dir = mkdtempSync(join(tmpdir(), 'loa-espeak-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function say(text: string): Promise<Int16Array> {
  const audio = await voice.synthesize(normalizeVietnamese(text));
  if (audio.sampleRate !== 48000) throw new Error(`sample rate ${audio.sampleRate}`);
  return audio.pcm;
}

const seconds = (pcm: Int16Array) => pcm.length / RATE;

/** Everything that makes a sound speech, asserted on one synthesis. */
function assertSpeech(t: Test, pcm: Int16Array, syllables: number): void {
  t.ok(rmsDbfs(pcm) > -35, `not silence: ${rmsDbfs(pcm).toFixed(1)} dBFS`);
  const band = bandEnergyFraction(pcm, RATE, 100, 4000);
  t.ok(band > 0.85, `most energy is in the voice band 100–4000 Hz: ${(band * 100).toFixed(1)} %`);
  const pitches = voicedPitches(pcm, RATE);
  t.ok(pitches.length >= syllables, `voiced frames: ${pitches.length} for ${syllables} syllables`);
  const f0 = median(pitches);
  t.ok(f0 >= 70 && f0 <= 250, `a fundamental in the range of a voice: median ${f0.toFixed(0)} Hz`);
  const peaks = envelopePeaks(pcm, RATE);
  t.ok(peaks >= syllables / 2 && peaks <= syllables * 2, `energy rises and falls like syllables: ${peaks} peaks for ${syllables} syllables`);
}

t.test('the measures tell speech from silence, a steady tone and noise (so the assertions below can fail)', async (t) => {
  const tone = new Int16Array(3 * RATE);
  new SineOscillator(1000, 0.25).fill(tone);
  const noise = new Int16Array(3 * RATE).map(() => Math.round((Math.random() - 0.5) * 16000));
  t.ok(rmsDbfs(new Int16Array(RATE)) < -100, 'silence has no level');
  t.ok(bandEnergyFraction(noise, RATE, 100, 4000) < 0.3, 'white noise spreads over the whole band');
  t.ok(voicedPitches(noise, RATE).length < 5, 'noise has no fundamental');
  t.ok(envelopePeaks(tone, RATE) <= 1, 'a steady tone has no syllables');
  const hum = new Int16Array(3 * RATE);
  new SineOscillator(120, 0.25).fill(hum);
  t.ok(envelopePeaks(hum, RATE) <= 1, 'a steady 120 Hz hum has a pitch but no syllables');
});

t.test('a ten-word sentence is speech of a plausible length', async (t) => {
  const text = 'Người dân cần khẩn trương di chuyển đến nơi an toàn ngay.';
  const words = text.split(/\s+/).length;
  t.equal(words, 12);
  const pcm = await say(text);
  t.ok(seconds(pcm) >= 2 && seconds(pcm) <= 8, `${words} words last ${seconds(pcm).toFixed(2)} s`);
  assertSpeech(t, pcm, words);
});

t.test('longer text lasts longer, about in proportion', async (t) => {
  const one = 'Bão số 3 đang di chuyển vào vùng biển ven bờ.';
  const three = `${one} Người dân không ra khơi, neo đậu tàu thuyền an toàn. Chính quyền địa phương sẵn sàng lực lượng cứu hộ.`;
  const a = await say(one);
  const b = await say(three);
  const ratio = seconds(b) / seconds(a);
  t.ok(ratio > 2 && ratio < 4, `three sentences (${seconds(b).toFixed(2)} s) vs one (${seconds(a).toFixed(2)} s): ×${ratio.toFixed(2)}`);
  assertSpeech(t, b, normalizeVietnamese(three).split(/\s+/).length);
});

t.test('a number in the text changes the audio where the number is said', async (t) => {
  const ten = await say('Gió mạnh cấp 10.');
  const twelve = await say('Gió mạnh cấp 12.');
  // "mười hai" has one syllable more than "mười": measured 1.51 s vs 1.75 s.
  t.ok(seconds(twelve) - seconds(ten) > 0.1, `cấp 12 (${seconds(twelve).toFixed(2)} s) is longer than cấp 10 (${seconds(ten).toFixed(2)} s)`);
  const whole = normalizedCrossCorrelation(ten, twelve, RATE / 10);
  t.ok(whole.correlation < 0.9, `the recordings differ: correlation ${whole.correlation.toFixed(3)}`);
  const head = normalizedCrossCorrelation(ten.subarray(0, RATE / 2), twelve.subarray(0, RATE / 2), 480);
  t.ok(head.correlation > 0.99, `"Gió mạnh" before the number sounds the same: correlation ${head.correlation.toFixed(3)}`);
  assertSpeech(t, twelve, 5);
});

t.test('a date in the text changes the audio', async (t) => {
  const a = await say('Bão đổ bộ ngày 12/10/2025.');
  const b = await say('Bão đổ bộ ngày 13/10/2025.');
  const c = await say('Bão đổ bộ ngày 12/11/2025.');
  t.ok(normalizedCrossCorrelation(a, b, RATE / 10).correlation < 0.9, 'day 12 and day 13 sound different');
  t.ok(normalizedCrossCorrelation(a, c, RATE / 10).correlation < 0.9, 'October and November sound different');
  t.ok(seconds(c) > seconds(a) + 0.1, `"tháng mười một" is longer than "tháng mười": ${seconds(c).toFixed(2)} s vs ${seconds(a).toFixed(2)} s`);
  // Read as a date, not spelled: "ngày mười hai tháng mười năm hai nghìn không trăm hai mươi lăm" is 15 syllables.
  assertSpeech(t, a, 18);
});

t.test('a slower rate gives longer speech; the regional voices speak too', async (t) => {
  const text = normalizeVietnamese('Đề nghị bà con sơ tán ngay.');
  const slow = await voice.synthesize(text, { rate: 0.7 });
  const fast = await voice.synthesize(text, { rate: 1.4 });
  t.ok(seconds(slow.pcm) > seconds(fast.pcm) * 1.4, `rate 0.7: ${seconds(slow.pcm).toFixed(2)} s, rate 1.4: ${seconds(fast.pcm).toFixed(2)} s`);
  const northern = (await voice.synthesize(text)).pcm;
  for (const v of ['vi-vn-x-central', 'vi-vn-x-south']) {
    const { pcm } = await voice.synthesize(text, { voice: v });
    t.ok(rmsDbfs(pcm) > -35 && seconds(pcm) > 0.8, `${v}: ${seconds(pcm).toFixed(2)} s at ${rmsDbfs(pcm).toFixed(1)} dBFS`);
    const configured = (await new EspeakSynthesizer({ voice: v }).synthesize(text)).pcm;
    t.ok(identicalAudio(configured, pcm), `${v} by configuration is the same voice`);
    t.notOk(identicalAudio(configured, northern), `${v} is not the northern voice`);
  }
  const english = (await voice.synthesize('Evacuate now.', { language: 'en' })).pcm;
  t.ok(rmsDbfs(english) > -35, 'text in another language gets that language’s voice');
});

t.test('bad input is refused with a code and a reason', async (t) => {
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'resolved';
    } catch (err) {
      t.type(err, SpeechError);
      return (err as SpeechError).code;
    }
  };
  t.equal(await code(voice.synthesize('   ')), 'empty_text');
  t.equal(await code(new EspeakSynthesizer({ maxTextChars: 10 }).synthesize('một hai ba bốn năm sáu')), 'text_too_long');
  t.equal(await code(voice.synthesize('xin chào', { voice: '--version' })), 'bad_option', 'a voice cannot smuggle an option');
  t.equal(await code(voice.synthesize('xin chào', { rate: 5 })), 'bad_option');
  t.throws(() => new EspeakSynthesizer({ wordsPerMinute: 10 }), /outside 80–450/);
  t.equal(await code(new EspeakSynthesizer({ command: join(dir, 'no-such-espeak') }).synthesize('xin chào')), 'engine_failed');
  t.equal(await code(voice.synthesize('xin chào', { voice: 'zz' })), 'engine_failed', 'an unknown voice is espeak-ng’s error');
});

t.test('a hung voice is killed at the time bound, and an abort stops it too', async (t) => {
  // A stand-in for an espeak-ng that never answers: the real fault is a process that hangs.
  const hung = join(dir, 'hung-espeak');
  const pidFile = join(dir, 'hung.pid');
  writeFileSync(hung, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 60\n`);
  chmodSync(hung, 0o755);
  // Killed before it could write its pid counts as gone too.
  const started = () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  const slow = new EspeakSynthesizer({ command: hung, timeoutMs: 1000 });
  await t.rejects(slow.synthesize('xin chào'), { code: 'timeout' });
  t.notOk(started() && alive(Number(readFileSync(pidFile, 'utf8'))), 'the hung process is gone');

  rmSync(pidFile, { force: true });
  const controller = new AbortController();
  const pending = new EspeakSynthesizer({ command: hung, timeoutMs: 60_000 }).synthesize('xin chào', { signal: controller.signal });
  // Abort once the process has started (it writes its pid first).
  while (!started()) await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  await t.rejects(pending, { code: 'aborted' });
  t.notOk(alive(Number(readFileSync(pidFile, 'utf8'))), 'the aborted process is gone');
});
