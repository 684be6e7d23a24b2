/**
 * Interop: ffmpeg receives a zone in L16 at 48 kHz, which Loa sends as two
 * 10 ms packets per frame (a=ptime:10) so that no datagram is over 1500
 * bytes. The WAV must hold the tone whole: frequency, level, shape, no gap.
 * (Its own file: a third receiver in receivers-hear-zone.test.ts made the
 * first one's listen timeout run out on a loaded machine.)
 */
import { join } from 'node:path';
import t from 'tap';
import { PRIORITY } from '../../domain/priority.js';
import { readMono } from './tools/audio.js';
import { isProgrammeEnded, startEngine } from './tools/engine.js';
import { startFfmpegReceiver } from './tools/peers.js';
import { freeRtpPort, udpPortBound, waitFor } from './tools/ports.js';
import { assertSteadyTone } from './tools/tone-checks.js';
import { tempDir, writeZoneSdp } from './tools/temp.js';
import { readFileSync } from 'node:fs';

const TONE_MS = 1200;
const AMPLITUDE = 0.5;

t.test('ffmpeg receives a zone stream in L16 sent as 10 ms packets', async (t) => {
  const dir = tempDir(t, 'ffmpeg-l16');
  const rec = await startEngine();
  t.teardown(() => rec.engine.close());
  rec.engine.setZones([{ id: 'village', parentId: null }]);
  const port = await freeRtpPort();
  const sdp = writeZoneSdp(dir, 'l16', { zoneId: 'village', codec: 'l16', address: '127.0.0.1', port });
  t.match(readFileSync(sdp, 'utf8'), /\r\na=rtpmap:98 L16\/48000\/1\r\na=ptime:10\r\n/, 'the SDP says 10 ms packets');
  const wav = join(dir, 'l16.wav');
  const peer = startFfmpegReceiver({ sdpFile: sdp, wavFile: wav, codec: 'l16', idleTimeoutS: 2 });
  t.teardown(() => peer.stop('SIGKILL'));
  await waitFor(`ffmpeg to bind port ${port}`, () => udpPortBound(port) || !peer.running);
  rec.engine.attachEndpoint({ endpointId: 'ffmpeg-l16', zoneId: 'village', codec: 'l16', address: { host: '127.0.0.1', port } });
  rec.engine.play({ programmeId: 'tone', zones: ['village'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 880, amplitude: AMPLITUDE, durationMs: TONE_MS } });
  const ended = await rec.waitFor('tone to end', isProgrammeEnded('tone'));
  t.equal(ended.reason, 'completed');
  const exit = await peer.finish(6000);
  t.equal(exit.code, 0, `ffmpeg exit code; output: ${peer.output.trim().slice(-600)}`);
  t.notMatch(peer.output, /RTP: missed|error/i, 'ffmpeg reports no loss or error');
  const w = readMono(wav);
  t.equal(w.sampleRate, 48000);
  assertSteadyTone(t, w, { who: 'ffmpeg l16', freqHz: 880, amplitude: AMPLITUDE, onAirS: (TONE_MS + 20) / 1000, gapsAudible: true });
  const s = (await rec.engine.status()).streams.find((x) => x.codec === 'l16')!;
  t.equal(s.packets, 2 * s.encodes, 'two packets per frame');
  t.same(rec.errors(), [], 'the engine reported no error');
});
