/**
 * Interop: a zone's multicast group heard by two real receivers at once.
 * Inside a network namespace this test creates (multicast never leaves the
 * root namespace), a child process runs the Engine with a multicast
 * interface, sets the zone's group (setZoneMulticast), and ffmpeg (SDP whose
 * c= line is the group) and GStreamer (udpsrc multicast-group=…) both decode
 * the tone. Needs root for `ip netns`; without it the test fails with the
 * reason, unless LOA_ALLOW_NO_NETNS=1 asks to skip it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import t from 'tap';
import { canCreateNamespace, multicastNamespace } from '../helpers/netns.js';
import { readMono } from './tools/audio.js';
import { assertSteadyTone } from './tools/tone-checks.js';
import { tempDir } from './tools/temp.js';

const mayRun = canCreateNamespace;
const whyNot = 'creating a network namespace needs root and iproute2 (multicast is never sent from the root namespace)';
const skip = !mayRun && process.env.LOA_ALLOW_NO_NETNS === '1' ? `${whyNot}; skipped because LOA_ALLOW_NO_NETNS=1` : false;

interface ChildReport {
  group: string;
  port: number;
  tone: { freqHz: number; amplitude: number; durationMs: number };
  ended: string;
  ffmpeg: { exit: { code: number | null; signal: string | null }; output: string };
  gst: { exit: { code: number | null; signal: string | null }; output: string; problems: string[] };
  streams: { zoneId: string; codec: string; destinations: number; packets: number }[];
  counters: Record<string, number>;
  errors: unknown[];
}

t.test('a zone multicast group is decoded by ffmpeg and GStreamer together', { skip }, async (t) => {
  if (!mayRun) {
    t.fail(`${whyNot}: run as root (CI does), or set LOA_ALLOW_NO_NETNS=1 to skip this test`);
    return;
  }
  const dir = tempDir(t, 'multicast');
  const ns = multicastNamespace(t, 'loa-interop');

  const childFile = fileURLToPath(new URL('./fixtures/multicast-zone-child.ts', import.meta.url));
  // Own process group: if the child has to be killed, its ffmpeg and gst-launch go with it.
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', childFile, dir], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  t.teardown(killGroup);
  const timer = setTimeout(killGroup, 60_000);
  const code = await exited;
  clearTimeout(timer);
  t.equal(code, 0, `child in the namespace exit code; stderr: ${stderr.trim().slice(-1500)}`);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let report: ChildReport;
  try {
    report = JSON.parse(last) as ChildReport;
  } catch {
    t.fail(`child printed no report: ${stdout.slice(-1000)}`);
    return;
  }
  const { tone } = report;
  t.equal(report.ended, 'completed', 'the tone played to its end');
  t.same(report.errors, [], 'the engine reported no error');
  const group = report.streams.find((s) => s.zoneId === 'village' && s.codec === 'pcmu');
  t.equal(group?.destinations, 1, 'one destination for the zone: the group, whatever the number of listeners');
  t.comment(`engine counters: ${JSON.stringify(report.counters)}`);

  t.equal(report.ffmpeg.exit.code, 0, `ffmpeg exit code; output: ${report.ffmpeg.output.trim().slice(-600)}`);
  t.notMatch(report.ffmpeg.output, /RTP: missed|error/i, 'ffmpeg reports no loss or error');
  const ff = readMono(join(dir, 'ffmpeg.wav'));
  t.equal(ff.sampleRate, 8000);
  assertSteadyTone(t, ff, { who: `ffmpeg on ${report.group}`, freqHz: tone.freqHz, amplitude: tone.amplitude, onAirS: (tone.durationMs + 20) / 1000, gapsAudible: true });

  t.equal(report.gst.exit.code, 0, 'gst-launch exit code');
  t.match(report.gst.output, /Got EOS from element/, 'gst-launch finalised on EOS');
  t.same(report.gst.problems, [], 'gst-launch reports no error or warning');
  const gst = readMono(join(dir, 'gst.wav'));
  t.equal(gst.sampleRate, 8000);
  assertSteadyTone(t, gst, { who: `GStreamer on ${report.group}`, freqHz: tone.freqHz, amplitude: tone.amplitude, onAirS: (tone.durationMs + 20) / 1000, gapsAudible: false });
});
