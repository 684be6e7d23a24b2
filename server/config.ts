// Server configuration: environment variables over an optional JSON file (LOA_CONFIG=path).
// Every setting is checked once, here, so that the rest of the server can trust it; a bad
// value stops the start with a sentence that names the setting, the value and what is allowed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ffmpegPath } from '../codecs/ffmpeg.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LANGS = ['vi', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/** 0: any free port (tests, several servers on one machine). */
const PortOrAny = Type.Integer({ minimum: 0, maximum: 65535 });
const IPV4 = '^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$';

/** The validated configuration, as the server uses it. */
export const LoaConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Port,
  dataDir: Type.String({ minLength: 1 }),
  databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  ffmpegPath: Type.String({ minLength: 1 }),
  timezone: Type.String({ minLength: 1 }),
  demoData: Type.Boolean(),
  adminPassword: Type.Optional(Type.String({ minLength: 8 })),
  logLevel: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
  maxUploadMb: Type.Integer({ minimum: 1, maximum: 10240 }),
  rtpPort: PortOrAny,
  multicastInterface: Type.Optional(Type.String({ pattern: IPV4 })),
  publicHost: Type.Optional(Type.String({ minLength: 1 })),
  lang: Type.Union(LANGS.map((l) => Type.Literal(l))),
  /** PostgreSQL only: give up opening a connection after this long. */
  dbConnectTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  /** PostgreSQL only: the server cancels a statement running longer (statement_timeout). */
  dbStatementTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  /** PostgreSQL only: the client stops waiting for an answer after this long (a server that never answers). */
  dbQueryTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  /** PostgreSQL only: the server ends a session left idle inside a transaction this long. */
  dbIdleInTransactionTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  /** Tries to reach the database at startup before giving up; 0: keep trying. */
  dbStartAttempts: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  /** Longest wait between two startup tries (they back off from 0.5 s up to this). */
  dbRetryMaxMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  /** CAP <geocode> valueNames read as zones' administrative unit codes, comma-separated. */
  capGeocodeNames: Type.String({ minLength: 1 }),
  /** Hosts a CAP resource (or an alert's audio URL) may be fetched from even on an internal address, comma-separated. */
  capAllowHosts: Type.String(),
});
export type LoaConfig = Static<typeof LoaConfigSchema>;

interface Setting {
  env: string;
  key: keyof LoaConfig;
  kind: 'string' | 'port' | 'int' | 'bool' | 'enum' | 'timezone' | 'url';
  expected: string;
  fallback?: () => unknown;
  values?: readonly string[];
  /** Never echo the value in an error (it may be a secret). */
  secret?: boolean;
}

const SETTINGS: Setting[] = [
  { env: 'LOA_HOST', key: 'host', kind: 'string', expected: 'a host name or IP address to listen on', fallback: () => '0.0.0.0' },
  { env: 'LOA_PORT', key: 'port', kind: 'port', expected: 'an integer 1–65535', fallback: () => 8080 },
  { env: 'LOA_DATA_DIR', key: 'dataDir', kind: 'string', expected: 'a directory path', fallback: () => './data' },
  { env: 'DATABASE_URL', key: 'databaseUrl', kind: 'url', expected: 'a postgres:// or postgresql:// URL (unset for the embedded database)' },
  { env: 'FFMPEG_PATH', key: 'ffmpegPath', kind: 'string', expected: 'the path of an ffmpeg binary', fallback: ffmpegPath },
  { env: 'LOA_TIMEZONE', key: 'timezone', kind: 'timezone', expected: 'an IANA time zone such as Asia/Ho_Chi_Minh', fallback: () => 'Asia/Ho_Chi_Minh' },
  { env: 'LOA_DEMO_DATA', key: 'demoData', kind: 'bool', expected: 'true or false', fallback: () => true },
  { env: 'LOA_ADMIN_PASSWORD', key: 'adminPassword', kind: 'string', expected: 'a password of at least 8 characters', secret: true },
  { env: 'LOA_LOG_LEVEL', key: 'logLevel', kind: 'enum', values: LOG_LEVELS, expected: `one of ${LOG_LEVELS.join(', ')}`, fallback: () => 'info' },
  { env: 'LOA_MAX_UPLOAD_MB', key: 'maxUploadMb', kind: 'int', expected: 'an integer number of megabytes 1–10240', fallback: () => 200 },
  { env: 'LOA_RTP_PORT', key: 'rtpPort', kind: 'port', expected: 'an integer 0–65535 (0: any free port)', fallback: () => 5004 },
  {
    env: 'LOA_MULTICAST_INTERFACE',
    key: 'multicastInterface',
    kind: 'string',
    expected: 'the IPv4 address of the interface that sends zone multicast groups (unset: no multicast)',
  },
  { env: 'LOA_PUBLIC_HOST', key: 'publicHost', kind: 'string', expected: 'a host name or IP address' },
  { env: 'LOA_LANG', key: 'lang', kind: 'enum', values: LANGS, expected: `one of ${LANGS.join(', ')}`, fallback: () => 'vi' },
  { env: 'LOA_DB_CONNECT_TIMEOUT_MS', key: 'dbConnectTimeoutMs', kind: 'int', expected: 'milliseconds 100–600000', fallback: () => 5000 },
  { env: 'LOA_DB_STATEMENT_TIMEOUT_MS', key: 'dbStatementTimeoutMs', kind: 'int', expected: 'milliseconds 100–3600000', fallback: () => 15_000 },
  { env: 'LOA_DB_QUERY_TIMEOUT_MS', key: 'dbQueryTimeoutMs', kind: 'int', expected: 'milliseconds 100–3600000', fallback: () => 20_000 },
  {
    env: 'LOA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    key: 'dbIdleInTransactionTimeoutMs',
    kind: 'int',
    expected: 'milliseconds 100–3600000',
    fallback: () => 60_000,
  },
  { env: 'LOA_DB_START_ATTEMPTS', key: 'dbStartAttempts', kind: 'int', expected: 'a number of tries (0: keep trying)', fallback: () => 0 },
  { env: 'LOA_DB_RETRY_MAX_MS', key: 'dbRetryMaxMs', kind: 'int', expected: 'milliseconds 100–600000', fallback: () => 30_000 },
  { env: 'LOA_CAP_GEOCODE_NAMES', key: 'capGeocodeNames', kind: 'string', expected: 'geocode valueNames, comma-separated', fallback: () => 'MA_DVHC' },
  { env: 'LOA_CAP_ALLOW_HOSTS', key: 'capAllowHosts', kind: 'string', expected: 'host names, comma-separated', fallback: () => '' },
];

/** A comma-separated setting as a list (empty items dropped). */
export function listSetting(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Intl throws a RangeError for a time zone it does not know. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

function shown(s: Setting, raw: unknown): string {
  if (s.secret) return 'the value given';
  // A URL may carry a password: show it without its user information.
  const text = JSON.stringify(raw);
  return s.kind === 'url' ? text.replace(/\/\/[^@/]*@/, '//***@') : text;
}

function fail(s: Setting, raw: unknown, what: string): never {
  throw new ConfigError(`${s.env}: ${shown(s, raw)} is not ${what}; expected ${s.expected}`);
}

function coerce(s: Setting, raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (s.kind) {
    case 'port':
    case 'int': {
      const n = typeof text === 'number' ? text : /^[0-9]+$/.test(String(text)) ? Number(text) : NaN;
      if (!Number.isInteger(n)) fail(s, raw, s.kind === 'port' ? 'a port' : 'an integer');
      return n;
    }
    case 'bool': {
      if (typeof text === 'boolean') return text;
      const t = String(text).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      return fail(s, raw, 'a boolean');
    }
    case 'enum': {
      const t = String(text).toLowerCase();
      if (!s.values!.includes(t)) fail(s, raw, 'allowed');
      return t;
    }
    case 'timezone':
      if (typeof text !== 'string' || !isValidTimeZone(text)) fail(s, raw, 'a known time zone');
      return text;
    case 'url':
      if (typeof text !== 'string' || !/^postgres(ql)?:\/\//.test(text)) fail(s, raw, 'a PostgreSQL URL');
      return text;
    case 'string':
      if (typeof text !== 'string' || text === '') fail(s, raw, 'a non-empty string');
      return text;
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`LOA_CONFIG: ${JSON.stringify(file)} cannot be read (${(err as Error).message}); expected the path of a JSON file`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`LOA_CONFIG: ${JSON.stringify(file)} is not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`LOA_CONFIG: ${JSON.stringify(file)} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Loads the configuration. The JSON file (LOA_CONFIG) may use either the environment names
 * (`"LOA_PORT": 8080`) or the config keys (`"port": 8080`); the environment wins over the file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoaConfig {
  const file = env.LOA_CONFIG ? readConfigFile(env.LOA_CONFIG) : {};
  const known = new Set(SETTINGS.flatMap((s) => [s.env, s.key as string]));
  for (const k of Object.keys(file)) {
    if (!known.has(k)) throw new ConfigError(`LOA_CONFIG: unknown setting ${JSON.stringify(k)} in ${env.LOA_CONFIG}`);
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const fromEnv = env[s.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (file[s.env] ?? file[s.key]);
    if (raw === undefined || raw === null || raw === '') {
      if (s.fallback) out[s.key] = s.fallback();
      continue;
    }
    out[s.key] = coerce(s, raw);
  }
  // Ranges and remaining shape checks come from the schema; map the first error back to its setting.
  const first = Value.Errors(LoaConfigSchema as TSchema, out).First();
  if (first) {
    const key = first.path.replace(/^\//, '').split('/')[0];
    const s = SETTINGS.find((x) => x.key === key);
    if (s) fail(s, out[s.key], s.kind === 'port' ? 'a port' : 'allowed');
    throw new ConfigError(`configuration: ${first.path} ${first.message}`);
  }
  const config = out as LoaConfig;
  config.dataDir = path.resolve(config.dataDir);
  return config;
}
