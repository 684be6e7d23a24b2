import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpegPath, openPcmStream, parseProbeOutput, probeAudio, type PcmStream } from '../../codecs/ffmpeg.js';
import { dominantFrequency } from '../../codecs/analysis.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-ffmpeg-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function ffmpeg(...args: string[]): void {
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'ignore' });
}

const tone48 = join(dir, 'tone48.wav');
ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=3', '-ac', '1', tone48);
const stereoMp3 = join(dir, 'stereo.mp3');
ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=3', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '64k', stereoMp3);
const twoTone = join(dir, 'two-tone.wav'); // 440 Hz for 1 s, then 880 Hz for 1 s
ffmpeg('-f', 'lavfi', '-i', "aevalsrc='0.5*sin(2*PI*if(lt(t,1),440,880)*t)':s=48000:d=2", twoTone);
const long = join(dir, 'long.wav'); // 10 minutes, 8 kHz (small on disk, 57 MB once decoded to 48 kHz)
ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', '600', long);
const image = join(dir, 'picture.png');
ffmpeg('-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1', image);
const garbage = join(dir, 'garbage.mp3');
writeFileSync(garbage, 'this is not audio at all\n'.repeat(100));

/** Reads a stream to its end (yielding while ffmpeg catches up) and returns all samples. */
async function readAll(s: PcmStream, onFrame?: (s: PcmStream) => void): Promise<Int16Array> {
  const frames: Int16Array[] = [];
  const frame = new Int16Array(960);
  while (!s.ended) {
    const n = s.read(frame);
    if (n === 0) {
      await sleep(5);
      continue;
    }
    frames.push(frame.slice(0, n));
    onFrame?.(s);
  }
  const out = new Int16Array(frames.reduce((a, f) => a + f.length, 0));
  let o = 0;
  for (const f of frames) (out.set(f, o), (o += f.length));
  return out;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0); // succeeds for a live process and for an unreaped zombie
    } catch {
      return true;
    }
    await sleep(25);
  }
  return false;
}

t.test('ffmpegPath honours FFMPEG_PATH', async (t) => {
  const saved = process.env.FFMPEG_PATH;
  t.teardown(() => (saved === undefined ? delete process.env.FFMPEG_PATH : (process.env.FFMPEG_PATH = saved)));
  process.env.FFMPEG_PATH = '/nonexistent/ffmpeg';
  t.equal(ffmpegPath(), '/nonexistent/ffmpeg');
  const s = openPcmStream(tone48);
  await s.ready();
  t.match(s.error?.message, /cannot run ffmpeg/, 'a missing binary is an error, not a crash');
  t.ok(s.ended);
  s.close();
});

t.test('probe', async (t) => {
  t.same(await probeAudio(tone48), { durationMs: 3000, format: 'wav', codec: 'pcm_s16le', sampleRate: 48000, channels: 1 });
  const mp3 = await probeAudio(stereoMp3);
  t.match(mp3, { format: 'mp3', codec: 'mp3', sampleRate: 44100, channels: 2 });
  t.ok(Math.abs(mp3.durationMs! - 3000) < 100, `mp3 duration ${mp3.durationMs} ms`);
  await t.rejects(probeAudio(image), /no audio stream/, 'an image has no audio stream');
  await t.rejects(probeAudio(garbage), /cannot read .*garbage\.mp3: .+/, 'garbage is rejected with ffmpeg’s reason');
  await t.rejects(probeAudio(join(dir, 'missing.wav')), /No such file/);
});

t.test('probe output parsing', async (t) => {
  const stderr = [
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.m4a':",
    '  Duration: 01:02:03.45, start: 0.000000, bitrate: 128 kb/s',
    '    Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, 5.1(side), fltp, 127 kb/s (default)',
    'At least one output file must be specified',
  ].join('\n');
  t.same(parseProbeOutput(stderr, 'x.m4a'), { durationMs: 3723450, format: 'mov,mp4,m4a,3gp,3g2,mj2', codec: 'aac', sampleRate: 48000, channels: 6 });
  const live = "Input #0, ogg, from 'http://x/live':\n  Duration: N/A, start: 0.000000, bitrate: N/A\n    Stream #0:0: Audio: opus, 48000 Hz, stereo, fltp\n";
  t.match(parseProbeOutput(live, 'http://x/live'), { durationMs: null, codec: 'opus', channels: 2 });
});

t.test('stream-decodes a stereo 44.1 kHz mp3 to 48 kHz mono', async (t) => {
  const s = openPcmStream(stereoMp3);
  t.teardown(() => s.close());
  await s.ready();
  t.ok(s.bufferedMs > 2900, `a short file is buffered whole before ready (${s.bufferedMs} ms)`);
  const pcm = await readAll(s);
  t.equal(s.error, undefined);
  t.ok(Math.abs(pcm.length / 48 - 3000) < 60, `${(pcm.length / 48).toFixed(1)} ms decoded`);
  t.ok(Math.abs(dominantFrequency(pcm, 48000) - 440) < 1, 'the 440 Hz tone');
  t.equal(s.read(new Int16Array(960)), 0, 'nothing after the end');
});

t.test('startMs seeks before decoding', async (t) => {
  const s = openPcmStream(twoTone, { startMs: 1000 });
  t.teardown(() => s.close());
  const pcm = await readAll(s);
  t.ok(Math.abs(pcm.length / 48 - 1000) < 30, `the second half only: ${(pcm.length / 48).toFixed(1)} ms`);
  t.ok(Math.abs(dominantFrequency(pcm.subarray(0, 9600), 48000) - 880) < 3, 'starts on the 880 Hz part');
  const whole = await readAll(openPcmStream(twoTone));
  t.ok(Math.abs(dominantFrequency(whole.subarray(0, 9600), 48000) - 440) < 3, 'without startMs it starts on 440 Hz');
});

t.test('backpressure: a 10-minute file is streamed, not loaded', async (t) => {
  const readaheadMs = 1000;
  const bound = readaheadMs + 700; // readahead + at most one 64 KiB pipe chunk (683 ms)
  const s = openPcmStream(long, { readaheadMs });
  t.teardown(() => s.close());
  await s.ready();
  let worst = s.bufferedMs;
  for (let i = 0; i < 10; i++) {
    await sleep(30); // give an unpaused ffmpeg every chance to overfill
    worst = Math.max(worst, s.bufferedMs);
  }
  t.ok(worst >= readaheadMs && worst <= bound, `buffer held at ${worst.toFixed(0)} ms while nobody reads`);
  t.notOk(s.ended, 'ffmpeg is waiting, not finished');
  // Read 30 s: ffmpeg must resume as the buffer drains, and the audio must stay continuous.
  const frame = new Int16Array(960);
  let read = 0;
  let prev = 0;
  let maxStep = 0;
  while (read < 30 * 48000) {
    const n = s.read(frame);
    worst = Math.max(worst, s.bufferedMs);
    if (n === 0) {
      if (s.ended) break;
      await sleep(5);
      continue;
    }
    for (let i = 0; i < n; i++) {
      if (read + i > 0) maxStep = Math.max(maxStep, Math.abs(frame[i] - prev));
      prev = frame[i];
    }
    read += n;
  }
  t.equal(read, 30 * 48000, 'read 30 s (ffmpeg resumed after each pause)');
  t.ok(worst <= bound, `buffer never above ${bound} ms (worst ${worst.toFixed(0)} ms)`);
  // lavfi's sine has amplitude 1/8: its largest step at 440 Hz is ≈ 240; a gap or repeat would jump far more.
  t.ok(maxStep < 400, `continuous across pauses (largest step ${maxStep})`);
});

t.test('an undecodable file sets error', async (t) => {
  for (const file of [garbage, join(dir, 'missing.wav')]) {
    const s = openPcmStream(file);
    t.teardown(() => s.close());
    await s.ready();
    t.ok(s.error instanceof Error, `${file}: error set`);
    t.match(s.error?.message, /exit code 1/);
    t.ok(s.ended);
    t.equal(s.read(new Int16Array(960)), 0);
  }
});

t.test('close() kills ffmpeg and leaves no zombie', async (t) => {
  const s = openPcmStream(long, { readaheadMs: 500 });
  await s.ready();
  const pid = s.pid!;
  t.ok(pid > 0);
  process.kill(pid, 0); // alive: paused on its pipe
  s.close();
  t.ok(await gone(pid), 'the process is gone and reaped');
  t.ok(s.ended);
  t.equal(s.error, undefined, 'closing is not an error');
  t.equal(s.read(new Int16Array(960)), 0);
  s.close(); // idempotent
});

t.test('realtime mode caps the buffer and drops the oldest audio when the reader stalls', async (t) => {
  const s = openPcmStream(long, { readaheadMs: 200, realtime: true });
  t.teardown(() => s.close());
  await s.ready();
  t.ok(s.bufferedMs <= 200, `capped at readahead (${s.bufferedMs} ms)`);
  // Nobody reads: after a while some audio has been dropped, and the cap still holds.
  for (let i = 0; i < 100 && s.droppedMs === 0; i++) await sleep(20);
  t.ok(s.droppedMs > 0, `dropped ${s.droppedMs.toFixed(0)} ms`);
  t.ok(s.bufferedMs <= 200);
});

t.test('which ffmpeg: FFMPEG_PATH, else the system one on PATH (not the 2018 bundled build)', async (t) => {
  const onPath = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim();
  const saved = process.env.FFMPEG_PATH;
  t.teardown(() => {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  });
  delete process.env.FFMPEG_PATH;
  t.equal(ffmpegPath(), onPath, 'the first ffmpeg on PATH');
  process.env.FFMPEG_PATH = '/opt/some/ffmpeg';
  t.equal(ffmpegPath(), '/opt/some/ffmpeg', 'FFMPEG_PATH wins');
});
