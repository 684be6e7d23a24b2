/** `loa bench` options: parsed and checked once, with a sentence for each mistake. */
import type { CodecName } from '../codecs/codec.js';

export type PeerChoice = 'none' | 'icecast' | 'multiudpsink' | 'both';

export interface BenchOptions {
  counts: number[];
  durationS: number;
  /** Time after every agent is online before the window opens (clock sync converges, SRs arrive). */
  warmupS: number;
  codec: CodecName;
  impair: boolean;
  peer: PeerChoice;
  outDir: string;
  /** 'real': the Loa server (bin/loa.js server); 'standin': bench/standin-server.ts (development only). */
  server: 'real' | 'standin';
  /** Zones (villages) the endpoints are spread over. */
  zones: number;
  /** Load processes hosting the agents; 0 = one per ~150 agents, at most 4. */
  loadProcesses: number;
  /** Write a V8 CPU profile of the server (all its threads) into the output directory. */
  cpuProf: boolean;
  /** Endpoints that run as full SpeakerAgents (the rest are light endpoints); spread over the zones. */
  fullAgents: number;
  /** Agents' simulated clock errors are spread uniformly over ±this, ms. */
  clockSpreadMs: number;
  seed: number;
  /** Runs of every count, interleaved (1, 2, …, 1, 2, …). */
  repeat: number;
  help: boolean;
}

export const BENCH_USAGE = `usage: loa bench [options]
  --n 100,300,500,1000   endpoint counts to measure (default 100,300,500)
  --duration-s 10        steady-state window per count, seconds
  --warmup-s 15          after all agents are online, before the window (clock sync converges)
  --codec opus           opus | pcmu | pcma | l16
  --impair               5 % loss and 30 ms jitter on every agent's downlink
  --peer both            icecast | multiudpsink | both | none: the same fan-out by a well-known peer
  --out bench/results    where <timestamp>.json, .md and .svg go
  --zones 10             villages the endpoints are spread over
  --load-processes 0     processes hosting the agents (0: one per ~150, at most 4)
  --full-agents 100      endpoints run as full speaker agents (decode, playout); the rest are light endpoints
  --clock-spread-ms 300000  agents' clock errors, uniform over ± this
  --server real          real | standin (development stand-in: engine + control channel, no database)
  --cpu-prof             V8 CPU profile of the server into the output directory
  --seed 1               seed of clock offsets and impairment
  --repeat 1             runs of every count (interleaved); the report adds medians and worst`;

export class BenchUsageError extends Error {}

const CODECS: CodecName[] = ['opus', 'pcmu', 'pcma', 'l16'];

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    counts: [100, 300, 500],
    durationS: 10,
    warmupS: 15,
    codec: 'opus',
    impair: false,
    peer: 'both',
    outDir: 'bench/results',
    server: 'real',
    zones: 10,
    loadProcesses: 0,
    cpuProf: false,
    clockSpreadMs: 300_000,
    fullAgents: 100,
    seed: 1,
    repeat: 1,
    help: false,
  };
  const positiveInt = (name: string, v: string | undefined, min = 1): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < min) throw new BenchUsageError(`${name} needs an integer ≥ ${min}, got ${JSON.stringify(v ?? '')}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.indexOf('=');
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = () => (eq > 0 ? raw.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--n': {
        const v = value() ?? '';
        const counts = v.split(',').map((s) => positiveInt('--n', s.trim()));
        if (counts.length === 0) throw new BenchUsageError('--n needs at least one count');
        o.counts = counts;
        break;
      }
      case '--duration-s':
        o.durationS = positiveInt('--duration-s', value());
        break;
      case '--warmup-s':
        o.warmupS = positiveInt('--warmup-s', value(), 0);
        break;
      case '--codec': {
        const v = value();
        if (!CODECS.includes(v as CodecName)) throw new BenchUsageError(`--codec must be one of ${CODECS.join(', ')}, got ${JSON.stringify(v ?? '')}`);
        o.codec = v as CodecName;
        break;
      }
      case '--impair':
        o.impair = true;
        break;
      case '--peer': {
        const v = value();
        if (!['none', 'icecast', 'multiudpsink', 'both'].includes(v ?? '')) throw new BenchUsageError(`--peer must be icecast, multiudpsink, both or none, got ${JSON.stringify(v ?? '')}`);
        o.peer = v as PeerChoice;
        break;
      }
      case '--out': {
        const v = value();
        if (!v) throw new BenchUsageError('--out needs a directory');
        o.outDir = v;
        break;
      }
      case '--server': {
        const v = value();
        if (v !== 'real' && v !== 'standin') throw new BenchUsageError(`--server must be real or standin, got ${JSON.stringify(v ?? '')}`);
        o.server = v;
        break;
      }
      case '--zones':
        o.zones = positiveInt('--zones', value(), 2);
        break;
      case '--load-processes':
        o.loadProcesses = positiveInt('--load-processes', value(), 0);
        break;
      case '--full-agents':
        o.fullAgents = positiveInt('--full-agents', value(), 0);
        break;
      case '--clock-spread-ms':
        o.clockSpreadMs = positiveInt('--clock-spread-ms', value(), 0);
        break;
      case '--seed':
        o.seed = positiveInt('--seed', value(), 0);
        break;
      case '--repeat':
        o.repeat = positiveInt('--repeat', value());
        break;
      case '--cpu-prof':
        o.cpuProf = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new BenchUsageError(`unknown option ${JSON.stringify(raw)}`);
    }
  }
  return o;
}

/** How many load processes host n agents: explicit, or one per ~150 agents, 1–4. */
export function loadProcessCount(n: number, requested: number): number {
  if (requested > 0) return Math.min(requested, n);
  return Math.max(1, Math.min(4, Math.ceil(n / 150)));
}

/** Agent i's simulated clock error: a seeded spread over ±spreadMs (deterministic per seed). */
export function clockOffsetFor(i: number, spreadMs: number, seed: number): number {
  if (spreadMs === 0) return 0;
  // An integer hash (splitmix-like) of (seed, i) mapped to [-1, 1).
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return Math.round(((x / 0x1_0000_0000) * 2 - 1) * spreadMs);
}
