/**
 * Interop: priority preemption as a real receiver hears it. A 440 Hz file
 * plays on the parent zone (commune) at normal priority; 1 s after it goes on
 * air an emergency siren starts on child zone A only, for 1 s. ffmpeg
 * receives zones A and B (PCMU, fixed addresses, decoded at 8 kHz). B must hear 440 Hz
 * throughout; A must hear 440 Hz, then the siren (energy away from 440 Hz),
 * then 440 Hz again — the file paused, not skipped — with no gap and no click
 * at either switch. Window boundaries come from the engine's own events
 * (frame-exact times); what is checked there is audio.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { dominantFrequency } from '../../codecs/analysis.js';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import { PRIORITY } from '../../domain/priority.js';
import { describeWindows, maxThirdDifference, readMono, rms, slice, toneShare, windows, type MonoWav } from './tools/audio.js';
import { isProgrammeEnded, isZoneState, startEngine } from './tools/engine.js';
import { peerFfmpeg, startFfmpegReceiver, type Peer } from './tools/peers.js';
import { freeRtpPort, udpPortBound, waitFor } from './tools/ports.js';
import { assertSteadyTone } from './tools/tone-checks.js';
import { tempDir, writeZoneSdp } from './tools/temp.js';

const FILE_S = 2.5;
const AMPLITUDE = 0.5;
const SIREN_AFTER_MS = 1000;
const SIREN_MS = 1000;
const SIREN = { kind: 'siren', lowHz: 600, highHz: 900, periodMs: 500, shape: 'wail', amplitude: AMPLITUDE, durationMs: SIREN_MS } as const;
const RATE = 8000;
const FILE_RATE = 48000;
/** Left out around each switch for the steady-state checks (fade + codec filter tails). */
const GUARD_S = 0.05;

t.test('a siren preempting a file on one child zone, heard by ffmpeg on it and on its sibling', async (t) => {
  const dir = tempDir(t, 'preempt');
  const file = join(dir, 'a440.wav');
  const gen = spawnSync(peerFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `aevalsrc=${AMPLITUDE}*sin(2*PI*440*t):s=${FILE_RATE}:d=${FILE_S}`, '-ac', '1', '-c:a', 'pcm_s16le', '-y', file], { encoding: 'utf8' });
  t.equal(gen.status, 0, `ffmpeg made the 440 Hz file: ${gen.stderr}`);

  const rec = await startEngine();
  t.teardown(() => rec.engine.close());
  rec.engine.setZones([
    { id: 'commune', parentId: null },
    { id: 'villageA', parentId: 'commune' },
    { id: 'villageB', parentId: 'commune' },
  ]);

  const peers = new Map<string, { peer: Peer; wav: string }>();
  t.teardown(async () => {
    for (const { peer } of peers.values()) await peer.stop('SIGKILL');
  });
  for (const zoneId of ['villageA', 'villageB']) {
    const port = await freeRtpPort();
    const sdp = writeZoneSdp(dir, zoneId, { zoneId, codec: 'pcmu', address: '127.0.0.1', port });
    const wav = join(dir, `${zoneId}.wav`);
    const peer = startFfmpegReceiver({ sdpFile: sdp, wavFile: wav, codec: 'pcmu', idleTimeoutS: 1 });
    peers.set(zoneId, { peer, wav });
    await waitFor(`ffmpeg for ${zoneId} to bind port ${port}`, () => udpPortBound(port) || !peer.running);
    rec.engine.attachEndpoint({ endpointId: `ffmpeg-${zoneId}`, zoneId, codec: 'pcmu', address: { host: '127.0.0.1', port } });
  }

  rec.engine.play({ programmeId: 'file', zones: ['commune'], priority: PRIORITY.normal, source: { kind: 'file', path: file } });
  const fileOnA = await rec.waitFor('the file on air in villageA', isZoneState('file', 'villageA', 'on-air'));
  // startAt: the siren takes the air on the frame due exactly 1 s after the file's first frame.
  rec.engine.play({ programmeId: 'siren', zones: ['villageA'], priority: PRIORITY.emergency, source: SIREN, startAt: fileOnA.atMs + SIREN_AFTER_MS });
  const ended = await rec.waitFor('the file to end', isProgrammeEnded('file'), 20_000);
  t.equal(ended.reason, 'completed', 'the file played to its end');

  const at = (e: ProgrammeZoneEvent): number => (e.atMs - fileOnA.atMs) / 1000;
  const preempted = rec.events.find(isZoneState('file', 'villageA', 'preempted'));
  const resumed = rec.events.find(isZoneState('file', 'villageA', 'resumed'));
  const fileOnB = rec.events.find(isZoneState('file', 'villageB', 'on-air'));
  t.ok(preempted && resumed && fileOnB, 'the engine reported on-air, preempted and resumed');
  if (!preempted || !resumed || !fileOnB) return;
  t.equal(preempted.by, 'siren');
  t.equal(fileOnB.atMs, fileOnA.atMs, 'A and B started the file on the same frame');
  t.ok(rec.events.every((e) => !(e.type === 'programme' && e.zoneId === 'villageB' && e.programmeId === 'siren')), 'the siren never reached villageB');
  const tp = at(preempted);
  const tr = at(resumed);
  t.ok(Math.abs(tp - SIREN_AFTER_MS / 1000) < 0.021, `siren took villageA ${tp.toFixed(3)} s after the file started`);
  t.ok(Math.abs(tr - tp - SIREN_MS / 1000) < 0.021, `the file resumed ${(tr - tp).toFixed(3)} s later`);

  for (const [zoneId, { peer }] of peers) {
    const exit = await peer.finish(5000);
    t.equal(exit.code, 0, `ffmpeg (${zoneId}) exit code; output: ${peer.output.trim().slice(-600)}`);
    t.notMatch(peer.output, /RTP: missed|error/i, `ffmpeg (${zoneId}) reports no loss or error`);
  }
  const a = readMono(peers.get('villageA')!.wav);
  const b = readMono(peers.get('villageB')!.wav);
  t.equal(a.sampleRate, RATE);
  t.comment(`engine counters: ${JSON.stringify((await rec.engine.status()).counters)}`);

  // B: the file, whole and undisturbed.
  assertSteadyTone(t, b, { who: 'villageB', freqHz: 440, amplitude: AMPLITUDE, onAirS: FILE_S + 0.02, gapsAudible: true });

  // A: as long as the file plus the siren — the file paused while preempted, it did not run on unheard.
  const expectedA = FILE_S + SIREN_MS / 1000 + 0.02;
  t.ok(Math.abs(a.duration - expectedA) <= 0.06, `villageA: ${a.duration.toFixed(3)} s decoded, ${expectedA.toFixed(3)} s expected (file + siren)`);

  const share440 = (w: MonoWav, from: number, to: number) => windows(w, 100, from, to).map((win) => ({ win, share: toneShare(win.samples, w.sampleRate, 440) }));
  const before = share440(a, 0.06, tp - GUARD_S);
  const during = share440(a, tp + GUARD_S, tr - GUARD_S);
  const after = share440(a, tr + GUARD_S, a.duration - 0.06);
  t.ok(before.length >= 8 && during.length >= 8 && after.length >= 13, `windows before/during/after: ${before.length}/${during.length}/${after.length}`);
  const notTone = [...before, ...after].filter((x) => x.share < 0.9);
  t.same(notTone.length, 0, `villageA: 440 Hz fills every window before and after the siren ${describeWindows(notTone.map((x) => x.win), (w) => toneShare(w.samples, RATE, 440))}`);
  const floor = (0.5 * AMPLITUDE * 32767) / Math.SQRT2;
  const notSiren = during.filter((x) => x.share > 0.05 || rms(x.win.samples) < floor);
  t.same(notSiren.length, 0, `villageA: while the siren is on, loud audio with no 440 Hz in every window ${describeWindows(notSiren.map((x) => x.win), (w) => toneShare(w.samples, RATE, 440))}`);
  const sirenBody = slice(a, tp + GUARD_S, tr - GUARD_S);
  const f = dominantFrequency(sirenBody, RATE);
  t.ok(f >= SIREN.lowHz - 20 && f <= SIREN.highHz + 20, `villageA: the siren's dominant frequency ${f.toFixed(0)} Hz lies in its sweep`);
  t.ok(Math.abs(dominantFrequency(slice(a, tr + GUARD_S, a.duration - 0.06), RATE) - 440) < 2, 'villageA: 440 Hz after the siren');

  // No gap anywhere in A, switches included (ffmpeg turns lost RTP time into silence).
  const holes = windows(a, 10, 0.06, a.duration - 0.06).filter((w) => rms(w.samples) < floor);
  t.same(holes.length, 0, `villageA: no gap: every 10 ms window above RMS ${floor.toFixed(0)} ${describeWindows(holes, (w) => rms(w.samples), 0)}`);

  // No click: around each switch, no step (of the third difference: a band-limited cut's
  // plain step hides among an 800 Hz tone's own at 8 kHz) beyond what the signals on
  // either side make by themselves.
  for (const [name, ts] of [['siren takes the air', tp], ['file comes back', tr]] as const) {
    const own = Math.max(maxThirdDifference(slice(a, ts - 0.1, ts - 0.03)), maxThirdDifference(slice(a, ts + 0.03, ts + 0.1)));
    const atSwitch = maxThirdDifference(slice(a, ts - 0.03, ts + 0.03));
    t.ok(atSwitch <= own * 1.5, `villageA, ${name}: click measure ${atSwitch} at the switch, ${own} in the signals around it`);
  }
  t.same(rec.errors(), [], 'the engine reported no error');
});
