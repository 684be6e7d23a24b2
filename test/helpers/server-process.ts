// A real `loa server` process for fault tests: its pino lines parsed as they come, waits on a
// line, and the process's life (exit code) watched. Optionally wrapped in a command (e.g.
// `unshare -m sh -c …` to give it a private mount namespace).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ServerProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  lines: LogLine[];
  /** Everything printed, raw (stdout and stderr). */
  output(): string;
  /** Exit code once exited (null while it runs). */
  exited: Promise<number | null>;
  /** Resolves with the first line (past or future) matching `test`; rejects if the process exits first or after timeoutMs. */
  waitFor(test: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** The http://127.0.0.1:port of the 'Loa server listening' line. */
  listening(timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Wrap the command: receives node's argv, returns [file, args]. */
  wrap?: (argv: string[]) => [string, string[]];
}

export function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): ServerProcess {
  const argv = [process.execPath, path.join(repo, 'bin/loa.js'), 'server'];
  const [file, args] = options.wrap ? options.wrap(argv) : [argv[0], argv.slice(1)];
  const child = spawn(file, args, {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOA_FROM_SOURCE: '1', LOA_HOST: '127.0.0.1', LOA_RTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let raw = '';
  let partial = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    raw += d;
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.startsWith('{')) {
        try {
          lines.push(JSON.parse(line) as LogLine);
        } catch {
          /* not a log line */
        }
      }
    }
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (raw += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      if (signal) raw += `\n[killed by ${signal}]`;
      resolve(exitCode);
      for (const l of listeners) l();
    }),
  );
  const waitFor = (test: (l: LogLine) => boolean, what: string, timeoutMs = 120_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(test);
        if (hit) return done(() => resolve(hit));
        if (exitCode !== undefined) done(() => reject(new Error(`server exited (${exitCode}) before ${what}:\n${raw.slice(-3000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}:\n${raw.slice(-3000)}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  return {
    child,
    lines,
    output: () => raw,
    exited,
    waitFor,
    listening: async (timeoutMs) => String((await waitFor((l) => l.msg === 'Loa server listening', 'the server to listen', timeoutMs)).url),
    kill: (signal = 'SIGKILL') => {
      if (exitCode === undefined) child.kill(signal);
    },
  };
}

/** Thrown by a check to stop waiting at once (e.g. the process under test died). */
export class GiveUp extends Error {}

/** Polls `check` until it returns a value (not undefined), or throws after timeoutMs (or when it throws GiveUp). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch((err: unknown) => {
      if (err instanceof GiveUp) throw err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
