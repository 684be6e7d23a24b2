/**
 * The well-known peers the bench compares Loa's fan-out with, on the same
 * machine in the same run: GStreamer's multiudpsink sending one encoded RTP
 * stream to N UDP destinations, and icecast2 serving one Ogg/Opus mount (fed
 * by an ffmpeg source client) to N HTTP listeners. Command and config
 * builders are pure (tested); the runners start and stop the processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CodecName } from '../codecs/codec.js';

/** gst-launch-1.0 arguments: a live 440 Hz tone, encoded once, sent to every client. */
export function multiudpsinkArgs(codec: CodecName, clients: ReadonlyArray<{ host: string; port: number }>, freqHz = 440): string[] {
  if (clients.length === 0) throw new RangeError('multiudpsink needs at least one client');
  const enc =
    codec === 'opus'
      ? ['audio/x-raw,rate=48000,channels=1', '!', 'opusenc', 'frame-size=20', 'bitrate=64000', '!', 'rtpopuspay', 'pt=111']
      : codec === 'pcmu'
        ? ['audio/x-raw,rate=8000,channels=1', '!', 'mulawenc', '!', 'rtppcmupay', 'min-ptime=20000000', 'max-ptime=20000000']
        : codec === 'pcma'
          ? ['audio/x-raw,rate=8000,channels=1', '!', 'alawenc', '!', 'rtppcmapay', 'min-ptime=20000000', 'max-ptime=20000000']
          : ['audio/x-raw,format=S16BE,rate=48000,channels=1', '!', 'rtpL16pay', 'min-ptime=20000000', 'max-ptime=20000000'];
  return [
    '-q',
    'audiotestsrc',
    'is-live=true',
    'wave=sine',
    `freq=${freqHz}`,
    'samplesperbuffer=960',
    '!',
    'audioconvert',
    '!',
    'audioresample',
    '!',
    ...enc,
    '!',
    'multiudpsink',
    'sync=false',
    `clients=${clients.map((c) => `${c.host}:${c.port}`).join(',')}`,
  ];
}

export interface IcecastSetup {
  port: number;
  sourcePassword: string;
  mount: string;
  maxClients: number;
  dir: string;
}

/** icecast2's XML config: one mount, room for every listener, dropping root for icecast2. */
export function icecastConfig(s: IcecastSetup): string {
  return `<icecast>
  <location>bench</location><admin>bench@localhost</admin>
  <limits>
    <clients>${s.maxClients + 10}</clients><sources>2</sources>
    <queue-size>524288</queue-size><client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout><source-timeout>10</source-timeout><burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>${s.sourcePassword}</source-password>
    <admin-user>admin</admin-user><admin-password>${s.sourcePassword}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${s.port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths>
    <basedir>${s.dir}</basedir><logdir>${s.dir}/log</logdir><pidfile>${s.dir}/icecast.pid</pidfile>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>-</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot><changeowner><user>icecast2</user><group>icecast</group></changeowner></security>
</icecast>
`;
}

/** ffmpeg as an Icecast source client: a live 440 Hz tone in Ogg/Opus, one encode. */
export function ffmpegIcecastSourceArgs(s: Pick<IcecastSetup, 'port' | 'sourcePassword' | 'mount'>, freqHz = 440): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freqHz}:sample_rate=48000`,
    '-ac',
    '1',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
    '-frame_duration',
    '20',
    '-content_type',
    'audio/ogg',
    '-f',
    'ogg',
    `icecast://source:${s.sourcePassword}@127.0.0.1:${s.port}${s.mount}`,
  ];
}

export interface PeerProcess {
  name: string;
  /** Processes whose CPU counts as the peer's. */
  pids: number[];
  stop(): Promise<void>;
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill('SIGINT');
  });
}

export function startMultiudpsink(codec: CodecName, clients: ReadonlyArray<{ host: string; port: number }>): PeerProcess {
  const c = spawn('gst-launch-1.0', multiudpsinkArgs(codec, clients), { stdio: 'ignore' });
  return { name: 'multiudpsink', pids: [c.pid!], stop: () => stopChild(c) };
}

/** Starts icecast2 (dropping root to icecast2, as it insists) and an ffmpeg source; resolves once the mount is live. */
export async function startIcecast(port: number, maxClients: number): Promise<PeerProcess & { mount: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'loa-bench-icecast-'));
  mkdirSync(path.join(dir, 'log'));
  const setup: IcecastSetup = { port, sourcePassword: 'benchsource', mount: '/loa.opus', maxClients, dir };
  writeFileSync(path.join(dir, 'icecast.xml'), icecastConfig(setup));
  chmodSync(dir, 0o755);
  const ids = spawnSync('id', ['-u', 'icecast2']);
  const gid = spawnSync('getent', ['group', 'icecast']);
  if (ids.status === 0) {
    const uid = Number(ids.stdout.toString().trim());
    const g = gid.status === 0 ? Number(gid.stdout.toString().split(':')[2]) : 0;
    chownSync(path.join(dir, 'log'), uid, g);
  }
  const ice = spawn('icecast2', ['-c', path.join(dir, 'icecast.xml')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await fetch(`http://127.0.0.1:${port}/status-json.xsl`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline || ice.exitCode !== null) {
      await stopChild(ice);
      rmSync(dir, { recursive: true, force: true });
      throw new Error('icecast2 did not start');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const src = spawn('ffmpeg', ffmpegIcecastSourceArgs(setup), { stdio: 'ignore' });
  const liveBy = Date.now() + 10_000;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/status-json.xsl`).then((r) => r.text(), () => '');
    if (status.includes(setup.mount)) break;
    if (Date.now() > liveBy || src.exitCode !== null) {
      await stopChild(src);
      await stopChild(ice);
      rmSync(dir, { recursive: true, force: true });
      throw new Error('the ffmpeg source did not reach icecast2');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name: 'icecast',
    mount: setup.mount,
    pids: [ice.pid!, src.pid!],
    stop: async () => {
      await stopChild(src);
      await stopChild(ice);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
