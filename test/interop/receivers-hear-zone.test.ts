/**
 * Interop: the real Engine (worker, real clock) plays a tone on a zone; two
 * third-party RTP receivers are attached as fixed-address endpoints in PCMU
 * (8 kHz) and Opus (48 kHz), and each must decode the tone — frequency,
 * level, shape — without reporting any loss or error:
 * - ffmpeg reads an SDP built by buildStreamSdp and decodes to WAV; its
 *   aresample turns a hole in RTP time into audible silence, so the gap check
 *   applies;
 * - GStreamer (gst-launch-1.0: udpsrc → rtpjitterbuffer → depay → decoder →
 *   wavenc) is stopped with SIGINT (-e: the EOS finalises the WAV); it does
 *   not fill lost time with silence, so the duration check stands in for the
 *   gap check (a lost packet shortens the WAV by 20 ms).
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { CodecName } from '../../codecs/codec.js';
import { PRIORITY } from '../../domain/priority.js';
import { readMono } from './tools/audio.js';
import { isProgrammeEnded, startEngine } from './tools/engine.js';
import { gstProblems, startFfmpegReceiver, startGstReceiver, type Peer } from './tools/peers.js';
import { freeRtpPort, udpPortBound, waitFor } from './tools/ports.js';
import { assertSteadyTone } from './tools/tone-checks.js';
import { tempDir, writeZoneSdp } from './tools/temp.js';

const CODECS: CodecName[] = ['pcmu', 'opus'];
const TONE_MS = 1200;
const AMPLITUDE = 0.5;

interface Receiver {
  name: string;
  start(dir: string, name: string, codec: CodecName, port: number, wav: string): Peer;
  /** Ends the peer once the programme has ended; checks its exit and its own report. */
  finish(t: Test, peer: Peer, codec: CodecName): Promise<void>;
  gapsAudible: boolean;
}

const RECEIVERS: Receiver[] = [
  {
    name: 'ffmpeg',
    start: (dir, name, codec, port, wav) =>
      startFfmpegReceiver({ sdpFile: writeZoneSdp(dir, name, { zoneId: 'village', codec, address: '127.0.0.1', port }), wavFile: wav, codec, idleTimeoutS: 1 }),
    async finish(t, peer, codec) {
      // ffmpeg ends by itself 1 s after the last packet; SIGINT (which also finalises the WAV) if not.
      const exit = await peer.finish(5000);
      t.equal(exit.code, 0, `ffmpeg (${codec}) exit code; output: ${peer.output.trim().slice(-600)}`);
      t.notMatch(peer.output, /RTP: missed|error/i, `ffmpeg (${codec}) reports no loss or error`);
    },
    gapsAudible: true,
  },
  {
    name: 'GStreamer',
    start: (_dir, _name, codec, port, wav) => startGstReceiver({ port, codec: codec as 'pcmu' | 'opus', wavFile: wav }),
    async finish(t, peer, codec) {
      const exit = await peer.stop('SIGINT');
      t.equal(exit.code, 0, `gst-launch (${codec}) exit code`);
      t.match(peer.output, /Got EOS from element/, `gst-launch (${codec}) finalised on EOS`);
      t.same(gstProblems(peer.output), [], `gst-launch (${codec}) reports no error or warning`);
    },
    gapsAudible: false,
  },
];

for (const receiver of RECEIVERS) {
  t.test(`${receiver.name} receives a zone stream in PCMU and Opus`, async (t) => {
    const dir = tempDir(t, `${receiver.name}-zone`);
    const rec = await startEngine();
    t.teardown(() => rec.engine.close());
    rec.engine.setZones([{ id: 'village', parentId: null }]);

    for (const freqHz of [1000, 880]) {
      await t.test(`${freqHz} Hz tone`, async (t) => {
        const attached: { codec: CodecName; peer: Peer; wav: string; endpointId: string }[] = [];
        t.teardown(async () => {
          for (const r of attached) {
            rec.engine.detachEndpoint(r.endpointId);
            await r.peer.stop('SIGKILL');
          }
        });
        for (const codec of CODECS) {
          const port = await freeRtpPort();
          const wav = join(dir, `${codec}-${freqHz}.wav`);
          // Receiver first: the first packets must find a bound socket.
          const peer = receiver.start(dir, `${codec}-${freqHz}`, codec, port, wav);
          const endpointId = `${receiver.name}-${codec}-${freqHz}`;
          attached.push({ codec, peer, wav, endpointId });
          await waitFor(`${receiver.name} (${codec}) to bind port ${port}`, () => udpPortBound(port) || !peer.running);
          t.ok(peer.running, `${receiver.name} (${codec}) is running: ${peer.output.trim().slice(-400)}`);
          rec.engine.attachEndpoint({ endpointId, zoneId: 'village', codec, address: { host: '127.0.0.1', port } });
        }

        const programmeId = `tone-${freqHz}`;
        rec.engine.play({ programmeId, zones: ['village'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz, amplitude: AMPLITUDE, durationMs: TONE_MS } });
        const ended = await rec.waitFor(`${programmeId} to end`, isProgrammeEnded(programmeId));
        t.equal(ended.reason, 'completed');
        // Let a receiver's jitter buffer (GStreamer's: 60 ms) hand over the last packets.
        await new Promise((r) => setTimeout(r, 400));

        for (const r of attached) {
          await receiver.finish(t, r.peer, r.codec);
          const w = readMono(r.wav);
          t.equal(w.sampleRate, r.codec === 'pcmu' ? 8000 : 48000, `${r.codec} decodes at its clock rate`);
          assertSteadyTone(t, w, { who: `${receiver.name} ${r.codec}`, freqHz, amplitude: AMPLITUDE, onAirS: (TONE_MS + 20) / 1000, gapsAudible: receiver.gapsAudible });
        }
        t.same(rec.errors(), [], 'the engine reported no error');
        t.comment(`engine counters: ${JSON.stringify((await rec.engine.status()).counters)}`);
      });
    }
  });
}
