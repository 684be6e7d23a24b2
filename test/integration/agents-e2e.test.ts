// The media path end to end: the real server (API, control channel, media engine) and 50
// speaker agents in 5 separate processes (one per village, 10 agents each: a process per agent
// would spend the 2-core machine on 50 Node start-ups and runtimes; 10 agents share one
// process's 20 ms output cycle, as a deployment's agents never do, but the processes are real
// and separate from the server). Endpoints are created through the API, audio is started
// through the playback API, and every agent's WAV is checked by listening to it:
//  1. a 1 kHz tone on the province: every agent hears 1 kHz, correlated with the source tone;
//  2. an uploaded 440 Hz file at normal priority on the province, and a siren at emergency on
//     ONE village: that village hears the siren instead and then the file again; every other
//     village hears 440 Hz throughout.
// Where to look in each recording comes from the engine's per-zone programme events (server
// wall-clock) and each WAV's timeline (server wall-clock of its samples).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dominantFrequency, normalizedCrossCorrelation, toneLevelDb } from '../../codecs/analysis.js';
import { readWav } from '../../codecs/wav.js';
import type { WavTimeline } from '../../endpoint/output.js';
import type { ProgrammeEndedEvent, ProgrammeZoneEvent } from '../../engine/protocol.js';
import { multipartBody, toneWav } from '../helpers/audio-files.js';
import type { AgentHostSpec } from './fixtures/agent-host.js';
import { startBroadcastServer, until, untilAll } from './harness.js';

const VILLAGES = 5;
const PER_VILLAGE = 10;
const SIREN_VILLAGE = 2;
/** A little more than the default, so a busy shared machine does not starve the agents' buffers. */
const PLAYOUT_DELAY_MS = 300;
/**
 * How far an agent's estimate of the server clock may be off when audio starts. An agent
 * plays content at (its estimate of server time) − PLAYOUT_DELAY_MS: an estimate more than
 * the playout delay ahead asks for audio not yet sent, and the agent plays silence.
 */
const CLOCK_SETTLED_MS = 50;
/** Ignore this much at each edge of a window: fades, codec delay, frame rounding. */
const EDGE_MS = 150;
const FILE_SECONDS = 3.5;

// Fifty agents in five processes: minutes on a loaded 2-core machine (over 300 s at a load of
// 25-30 beside stress-ng), most of it starting processes and creating endpoints. A bound for a
// hung run, not a speed check.
t.setTimeout(900_000);

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/agent-host.ts', import.meta.url));
t.test('50 agents in 5 processes hear the tone, the file, and the siren only where it was sent', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-e2e-'));
  t.teardown(() => (process.env.LOA_KEEP_E2E ? console.error(`kept ${dir}`) : rmSync(dir, { recursive: true, force: true })));

  const s = await startBroadcastServer(t, { control: { keepaliveIntervalMs: 1000 } });
  const events: ProgrammeZoneEvent[] = [];
  const ended = new Map<string, ProgrammeEndedEvent>();
  s.host.engine.on('programme', (e) => events.push(e));
  s.host.engine.on('programmeEnded', (e) => ended.set(e.programmeId, e));

  // province > district > commune > 5 villages, created through the API.
  const mk = async (parentId: string | null, kind: string, name: string) => (await s.api('POST', '/api/v1/zones', { parentId, kind, name })).body.id as string;
  const province = await mk(null, 'province', 'Tỉnh');
  const district = await mk(province, 'district', 'Huyện');
  const commune = await mk(district, 'commune', 'Xã');
  const villages: string[] = [];
  for (let v = 0; v < VILLAGES; v++) villages.push(await mk(commune, 'village', `Thôn ${v}`));
  t.equal((await s.api('PUT', `/api/v1/zones/${province}/broadcast`, { playoutDelayMs: PLAYOUT_DELAY_MS })).status, 200);

  interface AgentRec {
    id: string;
    village: number;
    wav: string;
  }
  const agents: AgentRec[] = [];
  const specs: AgentHostSpec[] = [];
  for (let v = 0; v < VILLAGES; v++) {
    // Odd villages stream Opus, even ones PCMU: both encoders and decoders are on the path.
    const codec = v % 2 ? 'opus' : 'pcmu';
    const spec: AgentHostSpec = { server: s.wsUrl, agents: [], rtcpIntervalMs: 1000 };
    for (let k = 0; k < PER_VILLAGE; k++) {
      const r = await s.api('POST', '/api/v1/endpoints', { name: `loa-${v}-${k}`, zoneId: villages[v], kind: 'rtp', codecs: [codec] });
      t.equal(r.status, 201, 'endpoint created');
      const rec = { id: r.body.endpoint.id as string, village: v, wav: path.join(dir, `v${v}-${k}.wav`) };
      agents.push(rec);
      spec.agents.push({ id: rec.id, token: r.body.credential, wav: rec.wav });
    }
    specs.push(spec);
  }

  // The agent processes.
  const connected = new Set<string>();
  /** Per agent id: its clock estimate minus the true server clock (ms), null until synced. */
  const clockError = new Map<string, number | null>();
  const children: { child: ChildProcess; closed: Promise<void> }[] = specs.map((spec) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(spec)], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`agent host exited ${code}: ${stderr}`))));
    });
    closed.catch(() => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { event: string; id?: string; errorsMs?: (number | null)[] };
      if (m.event === 'connected' && m.id) connected.add(m.id);
      if (m.event === 'clock') spec.agents.forEach((a, k) => clockError.set(a.id, m.errorsMs![k]));
    });
    return { child, closed };
  });
  t.teardown(() => children.forEach(({ child }) => child.exitCode === null && child.kill('SIGKILL')));

  // Fifty agents starting on a loaded 2-core machine take a while: wait while they keep coming
  // (the first only after five Node processes have started and compiled the agent: up to a
  // minute and more at a load of 30).
  await untilAll(() => connected.size, agents.length, `${agents.length} agents connected`, 120_000);
  await untilAll(
    async () => (await s.host.status()).endpoints.filter((e) => e.port !== null).length,
    agents.length,
    'every agent’s media address learned by the engine',
  );
  // Every agent's clock settled, as a loudspeaker's is long before an alert. The first
  // exchanges of fifty agents connecting at once meet a busy control channel: the server
  // stamps them late, and an estimate made from them alone runs ahead by half that queueing.
  // (Processes on one machine share its clock: each agent host reports the error itself.)
  const settleFrom = Date.now();
  const errorsThen = agents.map((a) => clockError.get(a.id)).filter((e): e is number => typeof e === 'number');
  t.comment(`agent clock errors when the engine knew every agent: ${errorsThen.length} synced, worst ${Math.max(0, ...errorsThen.map(Math.abs)).toFixed(0)} ms`);
  const settled = () => agents.filter((a) => Math.abs(clockError.get(a.id) ?? Infinity) <= CLOCK_SETTLED_MS).length;
  await untilAll(settled, agents.length, `every agent's clock within ${CLOCK_SETTLED_MS} ms of the server's`);
  t.comment(`agent clocks settled ${((Date.now() - settleFrom) / 1000).toFixed(1)} s after the engine knew every agent`);
  const listed = await s.api('GET', '/api/v1/endpoints');
  t.equal(listed.body.filter((e: { online: boolean }) => e.online).length, agents.length, 'all 50 endpoints online in the API');

  const endOf = async (id: string, timeoutMs = 20_000) => until(() => ended.has(id), `programme ${id} ended`, timeoutMs);

  // 1. A 1 kHz tone on the whole province.
  const tone = await s.api('POST', '/api/v1/playback', { zoneIds: [province], source: { kind: 'tone', freqHz: 1000, durationMs: 1500 }, priority: 'normal' });
  t.equal(tone.status, 201);
  await endOf(tone.body.id);

  // 2. A 440 Hz file on the province; a siren on one village in the middle of it.
  const upload = multipartBody({ zoneId: province, title: 'Bản tin 440' }, { name: 'bulletin.wav', data: toneWav(FILE_SECONDS, 0), type: 'audio/wav' });
  const media = await fetch(`${s.url}/api/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, ...upload.headers }, body: upload.payload });
  t.equal(media.status, 201, 'file uploaded through the media API');
  const mediaId = ((await media.json()) as { id: string }).id;
  const file = await s.api('POST', '/api/v1/playback', { zoneIds: [province], source: { kind: 'media', mediaId }, priority: 'normal' });
  t.equal(file.status, 201);
  await until(() => events.some((e) => e.programmeId === file.body.id && e.zoneId === villages[SIREN_VILLAGE] && e.state === 'on-air'), 'file on air');
  await new Promise((r) => setTimeout(r, 900));
  const siren = await s.api('POST', '/api/v1/playback', {
    zoneIds: [villages[SIREN_VILLAGE]],
    source: { kind: 'siren', shape: 'yelp', durationMs: 1000 },
    priority: 'emergency',
  });
  t.equal(siren.status, 201);
  t.equal(siren.body.state, 'on-air');
  await endOf(file.body.id);
  // Let the last frames reach the loudspeakers, then stop the agents (their WAVs are finalised).
  await new Promise((r) => setTimeout(r, PLAYOUT_DELAY_MS + 400));
  for (const { child } of children) child.stdin!.end();
  await Promise.all(children.map((c) => c.closed));

  if (process.env.LOA_KEEP_E2E) writeFileSync(path.join(dir, 'events.json'), JSON.stringify({ events, tone: tone.body.id, file: file.body.id, siren: siren.body.id, villages, agents }));
  // ---- listening -------------------------------------------------------------------------

  function at(programmeId: string, zoneId: string, state: ProgrammeZoneEvent['state']): number {
    const e = events.find((x) => x.programmeId === programmeId && x.zoneId === zoneId && x.state === state);
    if (!e) throw new Error(`no ${state} event of ${programmeId} in ${zoneId}`);
    return e.atMs;
  }

  /**
   * What a loudspeaker played for server time [fromMs, toMs), on the server's time axis
   * (frames play PLAYOUT_DELAY_MS after their server time). The WAV's timeline says at which
   * server time each sample played: while an agent slews its clock estimate (up to 5 ms/s)
   * its samples do not advance at exactly 48 kHz of server time, and its pitch moves by as
   * much; reading the recording through the timeline compares content at the right times.
   */
  function heard(rec: AgentRec, fromMs: number, toMs: number): Float64Array {
    const wav = readWav(rec.wav);
    const tl = JSON.parse(readFileSync(`${rec.wav}.json`, 'utf8')) as WavTimeline;
    const anchors = tl.anchors;
    // Sample index (fractional) played at server time ms: piecewise linear between anchors.
    const indexAt = (ms: number) => {
      let k = 0;
      while (k + 2 < anchors.length && anchors[k + 1][1] <= ms) k++;
      const [i0, t0] = anchors[k];
      const [i1, t1] = anchors[k + 1] ?? [i0 + tl.sampleRate, t0 + 1000];
      return i0 + ((ms - t0) * (i1 - i0)) / (t1 - t0);
    };
    const n = Math.round(((toMs - fromMs) * 48000) / 1000);
    const out = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const x = indexAt(fromMs + PLAYOUT_DELAY_MS + (j * 1000) / 48000);
      const i = Math.floor(x);
      if (i < 0 || i + 1 >= wav.samples.length) throw new Error(`${rec.id}: recording does not cover ${fromMs}–${toMs}`);
      out[j] = wav.samples[i] + (x - i) * (wav.samples[i + 1] - wav.samples[i]);
    }
    return out;
  }

  /** How far an agent's sample clock ran from the server's over the recording (ppm; the pitch error). */
  function timelineDeviationPpm(rec: AgentRec): number {
    const tl = JSON.parse(readFileSync(`${rec.wav}.json`, 'utf8')) as WavTimeline;
    let worst = 0;
    for (let k = 1; k < tl.anchors.length; k++) {
      const [i0, t0] = tl.anchors[k - 1];
      const [i1, t1] = tl.anchors[k];
      worst = Math.max(worst, Math.abs(((t1 - t0) * tl.sampleRate) / 1000 / (i1 - i0) - 1) * 1e6);
    }
    return worst;
  }

  function sine(freqHz: number, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.sin((2 * Math.PI * freqHz * i) / 48000);
    return out;
  }

  /** Every 250 ms chunk of the window has `freqHz` dominant. */
  function allChunksAt(samples: Float64Array, freqHz: number): { ok: boolean; worst: number; chunks: number } {
    const chunk = 12_000;
    let worst = 0;
    let chunks = 0;
    for (let i = 0; i + chunk <= samples.length; i += chunk, chunks++) {
      const f = dominantFrequency(samples.subarray(i, i + chunk), 48000);
      worst = Math.max(worst, Math.abs(f - freqHz));
    }
    return { ok: chunks > 0 && worst < 8, worst, chunks };
  }

  /**
   * The lowest correlation of any 50 ms window of `heard` with the reference (best lag within
   * half a period either way). Short windows because a slewing agent clock bends the pitch by
   * up to 0.5 % for a while (a phase walk of 0.25 period per 50 ms at 1 kHz at most): the
   * content must match everywhere, not only on average. Silence or another sound scores ≈ 0.
   */
  function worstWindowCorrelation(heardSamples: Float64Array, ref: Float64Array): number {
    const w = 2400;
    let worst = 1;
    for (let i = 0; i + w <= heardSamples.length; i += w) {
      worst = Math.min(worst, normalizedCrossCorrelation(ref.subarray(0, w), heardSamples.subarray(i, i + w), 24).correlation);
    }
    return heardSamples.length >= w ? worst : 0;
  }

  const failures: string[] = [];
  const toneRef = sine(1000, 48_000);
  for (const rec of agents) {
    const village = villages[rec.village];
    // 1 kHz tone.
    const toneOn = at(tone.body.id, village, 'on-air');
    const toneOff = at(tone.body.id, village, 'ended');
    const toneHeard = heard(rec, toneOn + EDGE_MS, toneOff - EDGE_MS);
    const f = dominantFrequency(toneHeard, 48000);
    const correlation = worstWindowCorrelation(toneHeard, toneRef);
    if (Math.abs(f - 1000) > 8 || correlation < 0.8) failures.push(`${rec.id} (village ${rec.village}) tone: ${f.toFixed(1)} Hz, worst 50 ms correlation ${correlation.toFixed(3)}`);

    // The file, and the siren in one village.
    // The file's audio lasts its length (its 'ended' event may come later: the decoder's exit is awaited).
    const fileOn = at(file.body.id, village, 'on-air');
    const fileOff = fileOn + FILE_SECONDS * 1000;
    if (rec.village !== SIREN_VILLAGE) {
      const r = allChunksAt(heard(rec, fileOn + EDGE_MS, fileOff - EDGE_MS), 440);
      if (!r.ok) failures.push(`${rec.id} (village ${rec.village}) file: ${r.chunks} chunks, worst ${r.worst.toFixed(1)} Hz off 440`);
      continue;
    }
    const paused = at(file.body.id, village, 'preempted');
    const resumedEvent = events.find((e) => e.programmeId === file.body.id && e.zoneId === village && e.state === 'resumed')!;
    const resumed = resumedEvent.atMs;
    const resumedEnd = resumed + FILE_SECONDS * 1000 - resumedEvent.positionMs;
    const before = allChunksAt(heard(rec, fileOn + EDGE_MS, paused - EDGE_MS), 440);
    const sirenHeard = heard(rec, at(siren.body.id, village, 'on-air') + EDGE_MS, at(siren.body.id, village, 'ended') - EDGE_MS);
    const sirenF = dominantFrequency(sirenHeard, 48000);
    const sirenOk = sirenF > 550 && sirenF < 1250 && toneLevelDb(sirenHeard, 48000, 440) < toneLevelDb(sirenHeard, 48000, sirenF) - 20;
    const after = allChunksAt(heard(rec, resumed + EDGE_MS, resumedEnd - EDGE_MS), 440);
    if (!before.ok || !sirenOk || !after.ok) {
      failures.push(`${rec.id} siren village: before ${before.worst.toFixed(1)} Hz off, siren ${sirenF.toFixed(0)} Hz, after ${after.worst.toFixed(1)} Hz off (${after.chunks} chunks)`);
    }
  }
  t.same(failures, [], 'every agent heard what its village was sent');
  const worstPpm = Math.max(...agents.map(timelineDeviationPpm));
  t.comment(`worst agent sample-clock deviation from server time (clock slewing): ${worstPpm.toFixed(0)} ppm`);

  // What the events say about the file, checked against the file itself.
  const v = villages[SIREN_VILLAGE];
  const pausedAt = events.find((e) => e.programmeId === file.body.id && e.zoneId === v && e.state === 'preempted')!;
  const resumedAt = events.find((e) => e.programmeId === file.body.id && e.zoneId === v && e.state === 'resumed')!;
  t.equal(pausedAt.by, siren.body.id, 'the siren preempted the file');
  t.ok(Math.abs(resumedAt.positionMs - pausedAt.positionMs) <= 20, `resumed where it paused (${pausedAt.positionMs} → ${resumedAt.positionMs} ms)`);
  for (const [i, zone] of villages.entries()) {
    const states = events.filter((e) => e.programmeId === file.body.id && e.zoneId === zone).map((e) => e.state);
    t.same(states, i === SIREN_VILLAGE ? ['on-air', 'preempted', 'resumed', 'ended'] : ['on-air', 'ended'], `village ${i}: file ${states.join(' → ')}`);
    const end = events.find((e) => e.programmeId === file.body.id && e.zoneId === zone && e.state === 'ended')!;
    t.ok(Math.abs(end.positionMs - FILE_SECONDS * 1000) <= 20, `village ${i}: the whole file was read (${end.positionMs} ms)`);
  }
  t.equal(ended.get(file.body.id)?.reason, 'completed');
});
