/**
 * Interop: ffmpeg receives a PCMU stream described by our SDP and sent with
 * our RTP packetizer over a real UDP socket; the decoded WAV must hold the
 * 1 kHz tone we sent.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goertzelPower } from '../../../codecs/analysis.js';
import { ffmpegPath } from '../../../codecs/ffmpeg.js';
import { encodeMulaw } from '../../../codecs/g711.js';
import { codecInfo } from '../../../codecs/registry.js';
import { readWav } from '../../../codecs/wav.js';
import { RTP_HEADER_BYTES, writeRtpHeader } from '../../../protocols/rtp/packet.js';
import { buildStreamSdp } from '../../../protocols/rtp/sdp.js';
import { freeRtpPort } from '../../interop/tools/ports.js';

t.test('ffmpeg decodes our PCMU stream from our SDP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-rtp-sdp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freeRtpPort();
  const codec = codecInfo('pcmu');
  const sdpFile = join(dir, 'zone.sdp');
  const wavFile = join(dir, 'out.wav');
  writeFileSync(sdpFile, buildStreamSdp({ sessionName: 'Loa test', originAddress: '127.0.0.1', connectionAddress: '127.0.0.1', port, codec, ptime: 20, ssrc: 0x1234abcd, cname: 'test@loa' }));

  // Receiver first (it must be listening before the first packet): it stops after 1.5 s of media.
  const ff = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, '-t', '1.5', '-c:a', 'pcm_s16le', '-y', wavFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ff.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => ff.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (ff.exitCode === null && ff.signalCode === null) ff.kill('SIGKILL');
  });

  const sock = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((r) => sock.close(() => r())));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));

  // 4 s of a 1 kHz tone at 8 kHz, 20 ms per packet, sequence numbers crossing the wrap.
  const samples = codec.timestampStep; // 160
  const pcm = new Int16Array(samples);
  const packet = Buffer.alloc(RTP_HEADER_BYTES + samples);
  let seq = 65500;
  let ts = 0xfffff000;
  let phase = 0;
  const t0 = performance.now();
  let finished = false;
  void exited.then(() => (finished = true));
  for (let n = 0; n < 200 && !finished; n++) {
    for (let i = 0; i < samples; i++, phase++) pcm[i] = Math.round(16000 * Math.sin((2 * Math.PI * 1000 * phase) / 8000));
    writeRtpHeader(packet, 0, { payloadType: codec.payloadType, sequence: seq, timestamp: ts, ssrc: 0x1234abcd, marker: n === 0 });
    encodeMulaw(pcm, packet.subarray(RTP_HEADER_BYTES));
    sock.send(packet, port, '127.0.0.1');
    seq = (seq + 1) & 0xffff;
    ts = (ts + samples) >>> 0;
    // Paced on a drift-free schedule: packet n+1 is due at t0 + (n+1)·20 ms.
    const wait = t0 + (n + 1) * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const timeout = setTimeout(() => ff.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timeout);
  t.equal(code, 0, `ffmpeg exit code (stderr: ${stderr.trim().slice(0, 500)})`);
  t.ok(existsSync(wavFile), 'WAV written');

  const wav = readWav(wavFile);
  t.equal(wav.sampleRate, 8000);
  t.equal(wav.channels, 1);
  t.ok(wav.samples.length >= 8000, `${wav.samples.length} samples decoded`);
  const x = wav.samples.subarray(800, 8000); // skip the first 100 ms
  // Unwindowed: 0.9 s holds whole periods of every frequency measured.
  const power = (f: number) => goertzelPower(x, 8000, f, 'none');
  const at1k = power(1000);
  const elsewhere = Math.max(power(700), power(1300), power(500), power(2000));
  t.ok(at1k > 100 * elsewhere, `1 kHz dominates: ${at1k.toExponential(2)} vs ${elsewhere.toExponential(2)}`);
  // Frequency from zero crossings: 2 per period.
  let crossings = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) crossings++;
  const freq = (crossings / 2) / (x.length / 8000);
  t.ok(Math.abs(freq - 1000) < 10, `measured ${freq.toFixed(1)} Hz`);
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  t.ok(peak > 14000 && peak < 18000, `amplitude kept: peak ${peak}`);
});
