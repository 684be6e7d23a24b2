// Structured logging (pino). Whatever is logged goes through one redaction pass that masks
// any field whose name looks like a secret, at any depth, so that a password, token or
// credential never reaches a log line even when someone logs a whole object by mistake.
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export const REDACTED = '[redacted]';
const SECRET_KEY = /pass(word|wd)?|token|secret|authori[sz]ation|credential|cookie|api[-_]?key|hash/i;
const SECRET_QUERY = /([?&](?:[^=&]*(?:token|secret|pass|key|credential)[^=&]*)=)[^&]*/gi;

/** Returns a copy of `value` with secret-looking fields masked, at any depth. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return { type: value.name, message: value.message, stack: value.stack, ...(redactSecrets({ ...value }, depth + 1) as object) };
  }
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : redactSecrets(v, depth + 1);
  }
  return out;
}

/** Masks secret-looking query parameters of a URL (e.g. `?token=...`). */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, `$1${REDACTED}`);
}

export interface LoggerSettings {
  level: LogLevel;
  /** Where to write; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'loa' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      log: (obj) => redactSecrets(obj) as Record<string, unknown>,
    },
    serializers: {
      err: pino.stdSerializers.err,
      req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : undefined,
        ip: req.ip,
      }),
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
