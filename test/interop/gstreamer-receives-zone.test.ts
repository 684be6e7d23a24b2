/**
 * Interop: GStreamer (gst-launch-1.0: udpsrc → rtpjitterbuffer → depay →
 * decoder → wavenc) receives a zone stream from the real Engine in PCMU
 * (8 kHz) and Opus (48 kHz) as fixed-address endpoints, and must decode the
 * tone — frequency, level, shape — without reporting any error. It is
 * stopped with SIGINT (-e: the EOS finalises the WAV). GStreamer does not
 * fill lost time with silence, so the duration check stands in for the gap
 * check (a lost packet shortens the WAV by 20 ms).
 */
import { join } from 'node:path';
import t from 'tap';
import { PRIORITY } from '../../domain/priority.js';
import { readMono } from './tools/audio.js';
import { isProgrammeEnded, startEngine } from './tools/engine.js';
import { gstProblems, startGstReceiver, type Peer } from './tools/peers.js';
import { freeRtpPort, udpPortBound, waitFor } from './tools/ports.js';
import { assertSteadyTone } from './tools/tone-checks.js';
import { tempDir } from './tools/temp.js';

const CODECS = ['pcmu', 'opus'] as const;
const TONE_MS = 1200;
const AMPLITUDE = 0.5;

t.test('GStreamer receives a zone stream in PCMU and Opus', async (t) => {
  const dir = tempDir(t, 'gst-zone');
  const rec = await startEngine();
  t.teardown(() => rec.engine.close());
  rec.engine.setZones([{ id: 'village', parentId: null }]);

  for (const freqHz of [1000, 880]) {
    await t.test(`${freqHz} Hz tone`, async (t) => {
      const receivers: { codec: (typeof CODECS)[number]; peer: Peer; wav: string; endpointId: string }[] = [];
      t.teardown(async () => {
        for (const r of receivers) {
          rec.engine.detachEndpoint(r.endpointId);
          await r.peer.stop('SIGKILL');
        }
      });
      for (const codec of CODECS) {
        const port = await freeRtpPort();
        const wav = join(dir, `${codec}-${freqHz}.wav`);
        const peer = startGstReceiver({ port, codec, wavFile: wav });
        const endpointId = `gst-${codec}-${freqHz}`;
        receivers.push({ codec, peer, wav, endpointId });
        await waitFor(`gst-launch (${codec}) to bind port ${port}`, () => udpPortBound(port) || !peer.running);
        t.ok(peer.running, `gst-launch (${codec}) is running: ${peer.output.trim().slice(-400)}`);
        rec.engine.attachEndpoint({ endpointId, zoneId: 'village', codec, address: { host: '127.0.0.1', port } });
      }

      const programmeId = `tone-${freqHz}`;
      rec.engine.play({ programmeId, zones: ['village'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz, amplitude: AMPLITUDE, durationMs: TONE_MS } });
      const ended = await rec.waitFor(`${programmeId} to end`, isProgrammeEnded(programmeId));
      t.equal(ended.reason, 'completed');
      // Let the jitter buffer (latency 60 ms) hand over the last packets before the EOS.
      await new Promise((r) => setTimeout(r, 400));

      for (const r of receivers) {
        const exit = await r.peer.stop('SIGINT');
        t.equal(exit.code, 0, `gst-launch (${r.codec}) exit code`);
        t.match(r.peer.output, /Got EOS from element/, `gst-launch (${r.codec}) finalised on EOS`);
        t.same(gstProblems(r.peer.output), [], `gst-launch (${r.codec}) reports no error or warning`);
        const w = readMono(r.wav);
        t.equal(w.sampleRate, r.codec === 'pcmu' ? 8000 : 48000, `${r.codec} decodes at its clock rate`);
        assertSteadyTone(t, w, { who: `GStreamer ${r.codec}`, freqHz, amplitude: AMPLITUDE, onAirS: (TONE_MS + 20) / 1000, gapsAudible: false });
      }
      t.same(rec.errors(), [], 'the engine reported no error');
      t.comment(`engine counters: ${JSON.stringify((await rec.engine.status()).counters)}`);
    });
  }
});
