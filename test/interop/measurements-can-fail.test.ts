/**
 * The interop tests' gap and click checks must be able to fail. Here a
 * hand-made PCMU stream (our encoder and RTP header writer, no Engine) goes to
 * the same ffmpeg receiver: one packet withheld must show as a 20 ms hole at
 * its place, and a hard cut from 440 Hz to 800 Hz (at a peak, no fade) must
 * show as a click (third-difference step, tools/audio.ts) far beyond what the
 * tones make by themselves.
 */
import dgram from 'node:dgram';
import { join } from 'node:path';
import t from 'tap';
import { createEncoder } from '../../codecs/registry.js';
import { RTP_HEADER_BYTES, writeRtpHeader } from '../../protocols/rtp/packet.js';
import { maxThirdDifference, readMono, rms, slice, windows } from './tools/audio.js';
import { startFfmpegReceiver } from './tools/peers.js';
import { freeRtpPort, udpPortBound, waitFor } from './tools/ports.js';
import { tempDir, writeZoneSdp } from './tools/temp.js';

const FRAMES = 40;
const LOST = 10;
const CUT = 30;

t.test('ffmpeg makes a lost packet audible and keeps a hard cut visible', async (t) => {
  const dir = tempDir(t, 'measure');
  const port = await freeRtpPort();
  const sdp = writeZoneSdp(dir, 'hand', { zoneId: 'hand', codec: 'pcmu', address: '127.0.0.1', port });
  const wav = join(dir, 'hand.wav');
  const peer = startFfmpegReceiver({ sdpFile: sdp, wavFile: wav, codec: 'pcmu', idleTimeoutS: 1 });
  t.teardown(() => peer.stop('SIGKILL'));
  await waitFor(`ffmpeg to bind port ${port}`, () => udpPortBound(port) || !peer.running);

  const sock = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((r) => sock.close(() => r())));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const enc = createEncoder('pcmu');
  t.teardown(() => enc.close());
  const frame = new Int16Array(960);
  // 440 Hz until frame CUT, then 800 Hz starting at its negative peak: a jump of about 2 × 16384.
  const cutAt = CUT * 960;
  const sample = (i: number): number =>
    i < cutAt ? 16384 * Math.sin((2 * Math.PI * 440 * i) / 48000) : -16384 * Math.cos((2 * Math.PI * 800 * (i - cutAt)) / 48000);
  const t0 = performance.now();
  let seq = 0;
  for (let n = 0; n < FRAMES; n++) {
    for (let i = 0; i < 960; i++) frame[i] = Math.round(sample(n * 960 + i) * (n === 0 ? i / 960 : 1));
    const payload = enc.encode(frame);
    const packet = Buffer.alloc(RTP_HEADER_BYTES + payload.length);
    writeRtpHeader(packet, 0, { payloadType: enc.payloadType, sequence: seq++, timestamp: 1000 + n * enc.timestampStep, ssrc: 0x10a, marker: n === 0 });
    payload.copy(packet, RTP_HEADER_BYTES);
    if (n !== LOST) sock.send(packet, port, '127.0.0.1');
    const wait = t0 + (n + 1) * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const exit = await peer.finish(5000);
  t.equal(exit.code, 0, `ffmpeg exit code: ${peer.output}`);
  const w = readMono(wav);
  t.ok(Math.abs(w.duration - FRAMES * 0.02) < 0.011, `the hole keeps its length: ${w.duration.toFixed(3)} s for ${FRAMES} frames`);

  const holes = windows(w, 10, 0.06, w.duration - 0.06).filter((win) => rms(win.samples) < 2000);
  t.ok(holes.length >= 1 && holes.length <= 2, `${holes.length} silent 10 ms window(s)`);
  t.ok(holes.every((h) => h.atS >= LOST * 0.02 - 0.011 && h.atS < (LOST + 1) * 0.02), `the silence is where the packet was lost: ${holes.map((h) => h.atS.toFixed(2))}`);

  const cutS = CUT * 0.02;
  const own = Math.max(maxThirdDifference(slice(w, cutS - 0.2, cutS - 0.03)), maxThirdDifference(slice(w, cutS + 0.03, cutS + 0.15)));
  const atCut = maxThirdDifference(slice(w, cutS - 0.03, cutS + 0.03));
  t.ok(atCut > own * 2, `the hard cut stands out: click measure ${atCut} at the cut, ${own} in the tones around it`);
});
