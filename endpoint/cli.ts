/**
 * `loa endpoint`: runs one speaker agent until SIGINT/SIGTERM.
 * Exit codes: 0 clean stop, 2 usage error, 1 runtime failure.
 */
import type { CodecName } from '../codecs/codec.js';
import { isCodecName } from '../codecs/registry.js';
import { SpeakerAgent, type SpeakerAgentOptions } from './agent.js';
import { PipeSink, parseOutputSpec } from './output.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const ENDPOINT_USAGE = `usage: loa endpoint --server ws(s)://HOST:PORT --id ID --token TOKEN [options]

  --server URL              control channel of the Loa server (ws:// or wss://)
  --id ID                   this endpoint's id
  --token TOKEN             this endpoint's secret (or LOA_ENDPOINT_TOKEN)
  --output OUT              wav:FILE | aplay[:DEVICE] | ffmpeg:ARGS | null   (default aplay)
  --playout-delay-ms N      override the zone's playout delay
  --jitter-target-ms N      buffering before the first sender report (default 60)
  --codecs LIST             codecs in order of preference (default opus,pcmu)
  --output-latency-ms N     delay of the sound device after the agent (default 0)
  --clock-offset-ms N       test/bench only: simulate a local clock that is N ms off
  -h, --help                this text
`;

export class UsageError extends Error {}

export interface ParsedEndpointArgs {
  help: boolean;
  options: SpeakerAgentOptions;
}

const FLAGS = new Set([
  '--server', '--id', '--token', '--output', '--playout-delay-ms', '--jitter-target-ms',
  '--codecs', '--clock-offset-ms', '--output-latency-ms',
]);

function num(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number between ${min} and ${max}, got "${text}"`);
  return n;
}

/** Parses `loa endpoint` arguments (without the sub-command). Throws UsageError. */
export function parseEndpointArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedEndpointArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true, options: { server: '', endpointId: '', token: '' } };
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!FLAGS.has(flag)) throw new UsageError(arg.startsWith('-') ? `unknown option ${flag}` : `unexpected argument "${arg}"`);
    let value: string | undefined;
    if (eq > 0 && arg.startsWith('--')) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
    }
    if (values.has(flag)) throw new UsageError(`${flag} given twice`);
    values.set(flag, value);
  }

  const server = values.get('--server');
  if (!server) throw new UsageError('--server is required');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server is not a URL: "${server}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`--server must be ws:// or wss://, got "${server}"`);
  const endpointId = values.get('--id');
  if (!endpointId) throw new UsageError('--id is required');
  const token = values.get('--token') ?? env.LOA_ENDPOINT_TOKEN;
  if (!token) throw new UsageError('--token is required');

  const options: SpeakerAgentOptions = { server, endpointId, token };
  try {
    options.output = parseOutputSpec(values.get('--output') ?? 'aplay');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.has('--playout-delay-ms')) options.playoutDelayMs = num('--playout-delay-ms', values.get('--playout-delay-ms')!, 0, 10_000);
  if (values.has('--jitter-target-ms')) options.jitterTargetMs = num('--jitter-target-ms', values.get('--jitter-target-ms')!, 0, 5_000);
  if (values.has('--output-latency-ms')) options.outputLatencyMs = num('--output-latency-ms', values.get('--output-latency-ms')!, 0, 5_000);
  if (values.has('--clock-offset-ms')) options.clockOffsetMs = num('--clock-offset-ms', values.get('--clock-offset-ms')!, -1e10, 1e10);
  if (values.has('--codecs')) {
    const list = values.get('--codecs')!.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
    if (list.length === 0) throw new UsageError('--codecs needs at least one codec');
    for (const c of list) if (!isCodecName(c)) throw new UsageError(`--codecs: unknown codec "${c}" (opus, pcmu, pcma, l16)`);
    options.codecs = list as CodecName[];
  }
  return { help: false, options };
}

export interface EndpointCliIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Resolves when the agent should stop; default: SIGINT or SIGTERM. */
  stop?: Promise<unknown>;
}

/** Runs `loa endpoint ARGS`; resolves with the process exit code. */
export async function runEndpointCli(argv: readonly string[], io: EndpointCliIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  let parsed: ParsedEndpointArgs;
  try {
    parsed = parseEndpointArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`loa endpoint: ${e.message}`);
    err(ENDPOINT_USAGE);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    out(ENDPOINT_USAGE);
    return EXIT_OK;
  }

  let agent: SpeakerAgent;
  try {
    agent = new SpeakerAgent(parsed.options);
    await agent.start();
  } catch (e) {
    err(`loa endpoint: ${(e as Error).message}`);
    return EXIT_FAILURE;
  }
  if (agent.sink instanceof PipeSink) {
    try {
      await agent.sink.ready;
    } catch (e) {
      err(`loa endpoint: ${(e as Error).message}`);
      await agent.close();
      return EXIT_FAILURE;
    }
  }
  const id = parsed.options.endpointId;
  agent.on('connected', (w) => out(`[${id}] connected: zone ${w.zoneId}, ${w.codec}, playout delay ${w.playoutDelayMs} ms`));
  agent.on('disconnected', (d) => err(`[${id}] disconnected (${d.code}${d.reason ? ` ${d.reason}` : ''}); reconnecting`));
  agent.on('rejected', (r) => err(`[${id}] rejected by server: ${r.code}: ${r.message}`));
  agent.on('playing', () => out(`[${id}] playing`));
  agent.on('stats', (s) =>
    out(
      `[${id}] loss ${(s.lossFraction * 100).toFixed(1)}% jitter ${s.jitterMs.toFixed(1)} ms buffer ${s.bufferDelayMs.toFixed(0)} ms ` +
        `underruns ${s.underruns} late ${s.late} concealed ${s.concealed} clock ${s.clockSynced ? `${s.clockOffsetMs.toFixed(1)} ms` : 'unsynced'}`,
    ),
  );

  const stop =
    io.stop ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stop;
  await agent.close();
  return EXIT_OK;
}
