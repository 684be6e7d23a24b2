// The relay source: a station's stream URL (here a WAV served over real HTTP) decoded by the
// real ffmpeg in realtime, live (never paused), heard as the station's tone; a station that
// cannot be reached ends the source with the reason; play commands carry relays.
import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { dominantFrequency } from '../../codecs/analysis.js';
import { FRAME_SAMPLES, newFrame } from '../../codecs/pcm.js';
import { RelaySource } from '../../engine/sources/relay.js';
import { buildSource } from '../../engine/sources/build.js';
import { validateCommand } from '../../engine/protocol.js';
import { toneWav } from '../helpers/audio-files.js';

const wav = toneWav(3, 80); // 440 + 80·7 = 1000 Hz
const server = createServer((req, res) => {
  if (req.url !== '/live.wav') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
  res.end(wav);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
t.teardown(() => new Promise<void>((r) => server.close(() => r())));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

t.test('relays a station in realtime: live, prebuffered, heard as its tone', async (t) => {
  const src = buildSource({ kind: 'relay', url: `${base}/live.wav`, bufferMs: 400 });
  t.teardown(() => src.close());
  t.ok(src instanceof RelaySource);
  t.equal(src.kind, 'relay');
  t.equal(src.live, true, 'a relay keeps running while unheard');
  t.equal(src.ready, false);
  src.prepare();
  const t0 = Date.now();
  while (!src.ready && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
  t.ok(src.ready, 'ready once the prebuffer is filled');
  t.equal(src.error, undefined);
  // Pull one second of audio as the engine would, a frame per 20 ms slot (faster when buffered).
  const heard = new Int16Array(50 * FRAME_SAMPLES);
  const frame = newFrame();
  let got = 0;
  const deadline = Date.now() + 10_000;
  while (got < 50 && Date.now() < deadline) {
    const r = src.pull(frame);
    if (r === 'audio') heard.set(frame, FRAME_SAMPLES * got++);
    else await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(got, 50, 'a second of audio');
  t.ok(Math.abs(src.positionMs - 1000) < 1, `position ${src.positionMs} ms`);
  const f = dominantFrequency(heard.subarray(FRAME_SAMPLES), 48000);
  t.ok(Math.abs(f - 1000) < 5, `the station's tone: ${f.toFixed(1)} Hz`);
  const fork = src.fork();
  t.ok(fork instanceof RelaySource && fork !== src && fork.positionMs === 0, 'a fork is a second connection');
  fork.close();
});

t.test('a station that cannot be reached ends the relay with the reason', async (t) => {
  const src = new RelaySource(`${base}/missing.wav`, 200);
  t.teardown(() => src.close());
  src.prepare();
  const frame = newFrame();
  const deadline = Date.now() + 10_000;
  let r = src.pull(frame);
  while (r !== 'ended' && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 20));
    r = src.pull(frame);
  }
  t.equal(r, 'ended');
  t.match(src.error, /ffmpeg failed on .*missing\.wav/);
});

t.test('play commands carry relays; a relay without a URL is refused', async (t) => {
  const ok = validateCommand({ type: 'play', programmeId: 'p1', zones: ['z'], priority: 200, source: { kind: 'relay', url: 'https://radio.example.vn/live.mp3' } });
  t.ok(ok.ok);
  const bad = validateCommand({ type: 'play', programmeId: 'p1', zones: ['z'], priority: 200, source: { kind: 'relay', url: '' } });
  t.notOk(bad.ok);
  const inSequence = validateCommand({
    type: 'play',
    programmeId: 'p2',
    zones: ['z'],
    priority: 200,
    source: { kind: 'sequence', items: [{ kind: 'tone', freqHz: 440, durationMs: 1000 }, { kind: 'relay', url: 'rtsp://cam.local/audio', bufferMs: 500 }] },
  });
  t.ok(inSequence.ok, 'relays compose with other sources');
});
