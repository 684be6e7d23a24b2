import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createDecoder } from '../../codecs/registry.js';
import { Engine } from '../../engine/engine.js';
import { PRIORITY } from '../../domain/priority.js';
import type { EngineEvent, ProgrammeZoneEvent } from '../../engine/protocol.js';
import { buildMediaKeepalive } from '../../protocols/control/media-keepalive.js';
import { parseRtp } from '../../protocols/rtp/packet.js';
import { dominant, steppedFreq, steppedTone, TREE, wavBytes } from './helpers.js';
import { isRtcp, receiver, until, type Receiver } from './udp.js';

const STEPS = [300, 400, 500, 600, 700, 800, 900, 1000];

/**
 * Decoded PCMU frames in sequence order. Each packet carries one pull of the
 * sources, so packet i of a talk-spurt is media frame i even if the clock had
 * to skip frames on this busy machine (skipped frames pull nothing).
 */
function framesOf(r: Receiver): Map<number, Int16Array> {
  const dec = createDecoder('pcmu');
  const pkts = r.packets.filter((p) => !isRtcp(p)).map((b) => parseRtp(b));
  const out = new Map<number, Int16Array>();
  pkts.forEach((p, i) => {
    if (i > 0 && p.sequence !== ((pkts[i - 1].sequence + 1) & 0xffff)) throw new Error('packets lost or reordered on loopback');
    out.set(i, Int16Array.from(dec.decode(p.payload)));
  });
  return out;
}

t.test('worker end to end: a tone arrives; a siren preempts a file in one child zone only, then the file resumes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-engine-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'stepped.wav');
  writeFileSync(file, wavBytes(steppedTone(4)));

  const engine = await Engine.start({ rtpPort: 0, rtpHost: '127.0.0.1' });
  t.teardown(() => engine.close());
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  const zoneEvents = (p: string, z: string): ProgrammeZoneEvent[] =>
    events.filter((e): e is ProgrammeZoneEvent => e.type === 'programme' && e.programmeId === p && e.zoneId === z);
  engine.setZones(TREE);

  const r1 = await receiver();
  const r2 = await receiver();
  const r3 = await receiver();
  const spoof = await receiver();
  t.teardown(() => Promise.all([r1, r2, r3, spoof].map((r) => r.close())));
  engine.attachEndpoint({ endpointId: 'e1', zoneId: 'v1', codec: 'pcmu', address: { host: '127.0.0.1', port: r1.port, rtcpPort: r1.port } });
  engine.attachEndpoint({ endpointId: 'e2', zoneId: 'v2', codec: 'pcmu', learn: { token: 'agent-v2-secret' } });
  engine.attachEndpoint({ endpointId: 'e3', zoneId: 'v3', codec: 'pcmu', address: { host: '127.0.0.1', port: r3.port } });

  // e2 is behind "NAT": its address is learned from its keepalive; a spoofed token learns nothing.
  spoof.socket.send(buildMediaKeepalive('agent-v2-guess'), engine.rtpPort, '127.0.0.1');
  spoof.socket.send(Buffer.from([0x80, 0xc9, 0, 7, 1, 2]), engine.rtpPort, '127.0.0.1');
  r2.socket.send(buildMediaKeepalive('agent-v2-secret'), engine.rtpPort, '127.0.0.1');
  t.ok(await until(() => events.some((e) => e.type === 'endpointAddress')), 'address learned');
  t.match(events.find((e) => e.type === 'endpointAddress'), { endpointId: 'e2', host: '127.0.0.1', port: r2.port });

  // A tone on c2 reaches v3.
  engine.play({ programmeId: 'tone', zones: ['c2'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 1000, amplitude: 0.5, durationMs: 400 } });
  // The file on c1 (v1 and v2); then a siren on v1 only.
  engine.play({ programmeId: 'file', zones: ['c1'], priority: PRIORITY.normal, source: { kind: 'file', path: file } });
  t.ok(await until(() => zoneEvents('file', 'v1').length > 0 && zoneEvents('file', 'v2').length > 0), 'file on air in v1 and v2');
  await new Promise((r) => setTimeout(r, 700));
  engine.play({ programmeId: 'siren', zones: ['v1'], priority: PRIORITY.emergency, source: { kind: 'siren', lowHz: 1500, highHz: 2000, periodMs: 200, shape: 'hilo', durationMs: 600 } });
  t.ok(await until(() => zoneEvents('file', 'v1').some((e) => e.state === 'resumed')), 'file resumed in v1');
  await new Promise((r) => setTimeout(r, 800));
  engine.stop('file');
  t.ok(await until(() => events.some((e) => e.type === 'programmeEnded' && e.programmeId === 'file')));
  await new Promise((r) => setTimeout(r, 200));

  const status = await engine.status();
  t.ok(status.counters.unknownPackets >= 1, 'spoofed keepalive counted');
  t.ok(status.counters.badPackets >= 1, 'malformed RTCP counted');
  t.equal(status.endpoints.find((e) => e.endpointId === 'e2')?.port, r2.port, 'the spoofer did not steal the stream');
  t.equal(spoof.packets.length, 0, 'the spoofer received nothing');

  // v3: the tone.
  const toneOn = zoneEvents('tone', 'v3')[0];
  void toneOn;
  const v3 = framesOf(r3);
  const v3frames = [...v3.values()].slice(2, 18);
  t.ok(v3frames.length >= 15 && v3frames.every((f) => dominant(f, [500, 1000, 2000]) === 1000), 'v3 hears 1000 Hz');

  // v1 and v2: the file, at the right media position; v1 with the siren in between.
  const on1 = zoneEvents('file', 'v1')[0];
  const on2 = zoneEvents('file', 'v2')[0];
  const pre = zoneEvents('file', 'v1').find((e) => e.state === 'preempted')!;
  const res = zoneEvents('file', 'v1').find((e) => e.state === 'resumed')!;
  t.equal(pre.by, 'siren');
  t.equal(res.positionMs, pre.positionMs, 'resumes at the media position where it stopped');
  t.comment(`frames skipped by the clock on this machine: ${status.counters.skippedFrames}`);
  t.same(zoneEvents('file', 'v2').map((e) => e.state), ['on-air', 'ended'], 'v2 never interrupted');

  const check = (frames: Map<number, Int16Array>, positionOf: (n: number) => number | 'siren'): { ok: number; total: number } => {
    let ok = 0;
    let total = 0;
    for (const [n, f] of frames) {
      const pos = positionOf(n);
      if (pos === 'siren') {
        total++;
        if (dominant(f, [...STEPS, 1500, 2000]) >= 1500) ok++;
        continue;
      }
      if (pos < 40 || pos % 500 < 40 || pos % 500 > 460 || pos > 3900) continue; // fades and segment edges
      total++;
      if (dominant(f, [...STEPS, 1500, 2000]) === steppedFreq(pos)) ok++;
    }
    return { ok, total };
  };
  void on1;
  void on2;
  const P = pre.positionMs / 20;
  const v1 = framesOf(r1);
  // Packets: P frames of file, 30 of siren (600 ms; skip its fade-in and last frame), then the file from P.
  const c1 = check(v1, (i) => (i < P ? i * 20 : i < P + 30 ? (i > P && i < P + 29 ? 'siren' : -1) : (i - 30) * 20));
  t.ok(c1.total > 60 && c1.ok === c1.total, `v1: file, siren, file from where it was (${c1.ok}/${c1.total} frames match)`);
  const v2 = framesOf(r2);
  const c2 = check(v2, (i) => i * 20);
  t.ok(c2.total > 60 && c2.ok === c2.total, `v2: the file uninterrupted (${c2.ok}/${c2.total} frames match)`);
});

t.test('bad commands get an error event, the worker keeps running', async (t) => {
  const engine = await Engine.start({ rtpPort: 0, rtpHost: '127.0.0.1' });
  t.teardown(() => engine.close());
  const errors: string[] = [];
  engine.on('engineError', (e) => errors.push(`${e.code}: ${e.message}`));
  engine.send({ type: 'play', programmeId: 'x' });
  engine.send({ type: 'nonsense' });
  engine.send({ nothing: true });
  engine.play({ programmeId: 'p', zones: ['nowhere'], priority: 200, source: { kind: 'tone', freqHz: 440 } });
  engine.stop('never-played');
  engine.setZones([{ id: 'a', parentId: 'b' }]);
  engine.send({ type: 'play', programmeId: 'q', zones: ['a'], priority: 200, source: { kind: 'siren', lowHz: 900, highHz: 100, periodMs: 100 } });
  const status = await engine.status();
  t.equal(errors.length, 7, errors.join('\n'));
  t.match(errors[0], /^bad-command: play:/);
  t.match(errors[1], /unknown command type 'nonsense'/);
  t.match(errors[3], /^unknown-zone/);
  t.match(errors[4], /^unknown-programme/);
  t.match(errors[5], /unknown parent/);
  t.equal(status.counters.rejectedCommands, 7);
});
