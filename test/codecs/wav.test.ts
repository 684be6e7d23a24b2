import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavWriter, parseWav, readWav, writeWavHeader } from '../../codecs/wav.js';
import { ffmpegPath } from '../../codecs/ffmpeg.js';
import { SineOscillator } from '../../codecs/tone.js';
import { dominantFrequency } from '../../codecs/analysis.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-wav-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('header layout', async (t) => {
  const h = writeWavHeader({ sampleRate: 8000, channels: 2, dataBytes: 1000 });
  t.equal(h.length, 44);
  t.equal(h.toString('ascii', 0, 4), 'RIFF');
  t.equal(h.readUInt32LE(4), 1036);
  t.equal(h.toString('ascii', 8, 16), 'WAVEfmt ');
  t.equal(h.readUInt16LE(20), 1);
  t.equal(h.readUInt16LE(22), 2);
  t.equal(h.readUInt32LE(24), 8000);
  t.equal(h.readUInt32LE(28), 32000, 'byte rate');
  t.equal(h.readUInt16LE(32), 4, 'block align');
  t.equal(h.readUInt16LE(34), 16);
  t.equal(h.toString('ascii', 36, 40), 'data');
  t.equal(h.readUInt32LE(40), 1000);
});

t.test('WavWriter streams frames and finalises sizes; ffmpeg reads the result', async (t) => {
  const file = join(dir, 'written.wav');
  const w = new WavWriter(file);
  const osc = new SineOscillator(1000, 0.5);
  const frame = new Int16Array(960);
  for (let i = 0; i < 150; i++) {
    osc.fill(frame); // the same array reused: the writer must copy
    w.write(frame);
  }
  t.equal(w.samplesWritten, 150 * 960);
  w.close();
  w.close();
  const bytes = readFileSync(file);
  t.equal(bytes.length, 44 + 150 * 960 * 2);
  t.equal(bytes.readUInt32LE(40), 150 * 960 * 2, 'data size fixed on close');
  t.equal(bytes.readUInt32LE(4), 36 + 150 * 960 * 2, 'RIFF size fixed on close');
  const back = readWav(file);
  t.equal(back.sampleRate, 48000);
  t.equal(back.channels, 1);
  t.equal(back.samples.length, 150 * 960);
  t.ok(Math.abs(dominantFrequency(back.samples, 48000) - 1000) < 1);
  const info = spawnSync(ffmpegPath(), ['-hide_banner', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  t.equal(info.status, 0);
  t.match(info.stderr, /Duration: 00:00:03\.00/, 'ffmpeg sees 3 s');
  t.throws(() => w.write(frame), /closed/);
});

t.test('reads what other tools write: extensible fmt, extra chunks, odd sizes', async (t) => {
  // ffmpeg writes WAVE_FORMAT_EXTENSIBLE for > 2 channels, and a LIST chunk with metadata.
  const ext = join(dir, 'ext.wav');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=500:sample_rate=16000:duration=0.5', '-ac', '3', '-metadata', 'title=odd', ext]);
  const raw = readFileSync(ext);
  t.equal(raw.readUInt16LE(20), 0xfffe, 'the file really is extensible');
  const e = readWav(ext);
  t.same([e.sampleRate, e.channels, e.samples.length], [16000, 3, 8000 * 3]);

  // Hand-built: an odd-sized chunk (padded) before fmt, and a data size left at 0 by a streaming writer.
  const samples = Int16Array.from([1, -2, 300, -400, 32767, -32768]);
  const odd = Buffer.concat([Buffer.from('junk'), Buffer.from([3, 0, 0, 0]), Buffer.from([9, 9, 9, 0])]);
  const fmt = writeWavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 }).subarray(12, 36);
  const data = Buffer.concat([Buffer.from('data'), Buffer.alloc(4), Buffer.from(samples.buffer)]);
  const body = Buffer.concat([Buffer.from('WAVE'), odd, fmt, data]);
  const file = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), body]);
  const p = parseWav(file);
  t.same([...p.samples], [...samples]);
  t.equal(p.sampleRate, 8000);
});

t.test('rejects what it cannot read, with a reason', async (t) => {
  const bad = join(dir, 'bad.wav');
  writeFileSync(bad, 'hello');
  t.throws(() => readWav(bad), /not a RIFF\/WAVE/);
  const float = join(dir, 'float.wav');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.1', '-c:a', 'pcm_f32le', float]);
  t.throws(() => readWav(float), /not PCM/);
  const u8 = join(dir, 'u8.wav');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.1', '-c:a', 'pcm_u8', u8]);
  t.throws(() => readWav(u8), /8-bit/);
});
