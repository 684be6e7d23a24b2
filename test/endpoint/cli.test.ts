import t from 'tap';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, parseEndpointArgs, runEndpointCli, UsageError } from '../../endpoint/cli.js';
import { parseOutputSpec } from '../../endpoint/output.js';
import { ControlServerSession } from '../../protocols/control/server-session.js';

const base = ['--server', 'ws://127.0.0.1:8080', '--id', 'ep-1', '--token', 'tok'];

t.test('arguments are parsed into agent options', async (t) => {
  const { options } = parseEndpointArgs(
    [...base, '--output', 'wav:/tmp/x.wav', '--playout-delay-ms', '250', '--jitter-target-ms=80', '--codecs', 'PCMU, opus', '--clock-offset-ms', '-180000'],
    {},
  );
  t.equal(options.server, 'ws://127.0.0.1:8080');
  t.equal(options.endpointId, 'ep-1');
  t.equal(options.token, 'tok');
  t.same(options.output, { kind: 'wav', path: '/tmp/x.wav' });
  t.equal(options.playoutDelayMs, 250);
  t.equal(options.jitterTargetMs, 80);
  t.same(options.codecs, ['pcmu', 'opus']);
  t.equal(options.clockOffsetMs, -180000);
  t.same(parseEndpointArgs(['--server', 'wss://h/x', '--id', 'a'], { LOA_ENDPOINT_TOKEN: 'env' }).options.token, 'env');
  t.same(parseEndpointArgs(base, {}).options.output, { kind: 'aplay' });
  t.ok(parseEndpointArgs(['--help'], {}).help);
});

t.test('bad arguments give clear errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [[...base, '--volume', '3'], /unknown option --volume/],
    [[...base, 'extra'], /unexpected argument "extra"/],
    [['--id', 'a', '--token', 'b'], /--server is required/],
    [['--server', 'http://h', '--id', 'a', '--token', 'b'], /ws:\/\/ or wss:\/\//],
    [['--server', 'not a url', '--id', 'a', '--token', 'b'], /not a URL/],
    [['--server', 'ws://h', '--token', 'b'], /--id is required/],
    [['--server', 'ws://h', '--id', 'a'], /--token is required/],
    [[...base, '--playout-delay-ms', 'soon'], /--playout-delay-ms must be a number/],
    [[...base, '--playout-delay-ms', '-5'], /--playout-delay-ms must be a number/],
    [[...base, '--codecs', 'mp3'], /unknown codec "mp3"/],
    [[...base, '--output', 'speaker'], /unknown output "speaker"/],
    [[...base, '--output', 'wav:'], /needs a file/],
    [[...base, '--id', 'b'], /--id given twice/],
    [[...base, '--output'], /--output needs a value/],
  ];
  for (const [argv, re] of cases) t.throws(() => parseEndpointArgs(argv, {}), { constructor: UsageError, message: re }, argv.join(' '));
  t.same(parseOutputSpec('ffmpeg:-f mp3 /tmp/o.mp3'), { kind: 'ffmpeg', args: ['-f', 'mp3', '/tmp/o.mp3'] });
  t.same(parseOutputSpec('aplay:hw:1,0'), { kind: 'aplay', device: 'hw:1,0' });
  t.same(parseOutputSpec('null'), { kind: 'null' });
});

t.test('runEndpointCli: usage errors exit 2; a run connects, stops cleanly and writes its WAV', async (t) => {
  const lines: string[] = [];
  const io = { stdout: (l: string) => lines.push(l), stderr: (l: string) => lines.push(l) };
  t.equal(await runEndpointCli(['--id', 'x'], io), EXIT_USAGE);
  t.match(lines.join('\n'), /--server is required[\s\S]*usage: loa endpoint/);
  t.equal(await runEndpointCli(['--help'], io), EXIT_OK);
  // A player that cannot start is a runtime failure with a clear message.
  const prev = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = '/nonexistent/ffmpeg';
  lines.length = 0;
  const failed = await runEndpointCli([...base, '--output', 'ffmpeg:-f null -'], io);
  if (prev === undefined) delete process.env.FFMPEG_PATH;
  else process.env.FFMPEG_PATH = prev;
  t.equal(failed, EXIT_FAILURE);
  t.match(lines.join('\n'), /ffmpeg could not start/);

  const dir = mkdtempSync(join(tmpdir(), 'loa-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  t.teardown(() => new Promise((r) => wss.close(r)));
  let online!: () => void;
  const isOnline = new Promise<void>((r) => (online = r));
  wss.on('connection', (ws) => {
    new ControlServerSession(ws, {
      authenticate: () => ({ zoneId: 'z', codecs: ['pcmu'], playoutDelayMs: 150 }),
      rtp: { host: '127.0.0.1', port: 9 },
      onOnline: () => online(),
    });
  });
  lines.length = 0;
  const wav = join(dir, 'out.wav');
  const code = await runEndpointCli(
    ['--server', `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, '--id', 'ep', '--token', 't', '--output', `wav:${wav}`, '--codecs', 'pcmu'],
    { ...io, stop: isOnline.then(() => new Promise((r) => setTimeout(r, 700))) },
  );
  t.equal(code, EXIT_OK);
  t.match(lines.join('\n'), /connected: zone z, pcmu, playout delay 150 ms/);
  t.ok(existsSync(wav) && existsSync(`${wav}.json`), 'WAV and timeline written on stop');
  const timeline = JSON.parse(readFileSync(`${wav}.json`, 'utf8'));
  t.ok(timeline.frames > 0 && Number.isFinite(timeline.sample0ServerMs), 'silence slots are recorded with their server time');
});
