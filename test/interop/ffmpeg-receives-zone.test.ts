/**
 * Interop: the real Engine (worker, real clock) plays a tone on a zone;
 * ffmpeg — a third-party RTP receiver — is attached as a fixed-address
 * endpoint in PCMU and in Opus, reads an SDP built by buildStreamSdp, and
 * decodes to WAV. The WAVs must hold the tone: frequency, level, shape, and
 * no gap (ffmpeg's aresample turns a hole in RTP time into audible silence).
 */
import { join } from 'node:path';
import t from 'tap';
import type { CodecName } from '../../codecs/codec.js';
import { PRIORITY } from '../../domain/priority.js';
import { readMono } from './tools/audio.js';
import { isProgrammeEnded, startEngine } from './tools/engine.js';
import { startFfmpegReceiver, type Peer } from './tools/peers.js';
import { freeRtpPort, udpPortBound, waitFor } from './tools/ports.js';
import { assertSteadyTone } from './tools/tone-checks.js';
import { tempDir, writeZoneSdp } from './tools/temp.js';

const CODECS: CodecName[] = ['pcmu', 'opus'];
const TONE_MS = 1200;
const AMPLITUDE = 0.5;

t.test('ffmpeg receives a zone stream in PCMU and Opus', async (t) => {
  const dir = tempDir(t, 'ffmpeg-zone');
  const rec = await startEngine();
  t.teardown(() => rec.engine.close());
  rec.engine.setZones([{ id: 'village', parentId: null }]);

  for (const freqHz of [1000, 880]) {
    await t.test(`${freqHz} Hz tone`, async (t) => {
      const receivers: { codec: CodecName; peer: Peer; wav: string; endpointId: string }[] = [];
      t.teardown(async () => {
        for (const r of receivers) {
          rec.engine.detachEndpoint(r.endpointId);
          await r.peer.stop('SIGKILL');
        }
      });
      for (const codec of CODECS) {
        const port = await freeRtpPort();
        const sdp = writeZoneSdp(dir, `${codec}-${freqHz}`, { zoneId: 'village', codec, address: '127.0.0.1', port });
        const wav = join(dir, `${codec}-${freqHz}.wav`);
        // Receiver first: the first packets must find a bound socket.
        const peer = startFfmpegReceiver({ sdpFile: sdp, wavFile: wav, codec, idleTimeoutS: 1 });
        const endpointId = `ffmpeg-${codec}-${freqHz}`;
        receivers.push({ codec, peer, wav, endpointId });
        await waitFor(`ffmpeg (${codec}) to bind port ${port}`, () => udpPortBound(port) || !peer.running);
        rec.engine.attachEndpoint({ endpointId, zoneId: 'village', codec, address: { host: '127.0.0.1', port } });
      }

      const programmeId = `tone-${freqHz}`;
      rec.engine.play({ programmeId, zones: ['village'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz, amplitude: AMPLITUDE, durationMs: TONE_MS } });
      const ended = await rec.waitFor(`${programmeId} to end`, isProgrammeEnded(programmeId));
      t.equal(ended.reason, 'completed');

      for (const r of receivers) {
        // ffmpeg ends by itself 1 s after the last packet; SIGINT (which also finalises the WAV) if not.
        const exit = await r.peer.finish(5000);
        t.equal(exit.code, 0, `ffmpeg (${r.codec}) exit code; output: ${r.peer.output.trim().slice(-600)}`);
        t.notMatch(r.peer.output, /RTP: missed|error/i, `ffmpeg (${r.codec}) reports no loss or error`);
        const w = readMono(r.wav);
        t.equal(w.sampleRate, r.codec === 'pcmu' ? 8000 : 48000, `${r.codec} decodes at its clock rate`);
        assertSteadyTone(t, w, { who: `ffmpeg ${r.codec}`, freqHz, amplitude: AMPLITUDE, onAirS: (TONE_MS + 20) / 1000, gapsAudible: true });
      }
      t.same(rec.errors(), [], 'the engine reported no error');
      t.comment(`engine counters: ${JSON.stringify((await rec.engine.status()).counters)}`);
    });
  }
});
