/**
 * Runs a program (never through a shell) with bytes on stdin and collects its
 * stdout, bounded in time and size and cancellable: the child is killed on
 * timeout, abort, or when its output passes the limit.
 */
import { spawn } from 'node:child_process';
import { SpeechError } from './synthesizer.js';

export interface RunOptions {
  input?: Buffer;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

const STDERR_TAIL = 1000;

export function runProcess(command: string, args: readonly string[], opts: RunOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new SpeechError('aborted', `${command}: aborted before start`));
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let failure: SpeechError | undefined;
    const stop = (err: SpeechError) => {
      failure ??= err;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new SpeechError('timeout', `${command} took longer than ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = () => stop(new SpeechError('aborted', `${command}: aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > opts.maxOutputBytes) return stop(new SpeechError('bad_audio', `${command} wrote more than ${opts.maxOutputBytes} bytes`));
      chunks.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_TAIL);
    });
    // EPIPE when the child exits (or is killed) before reading all its input: the exit status tells the story.
    child.stdin.on('error', () => {});
    child.on('error', (err) => stop(new SpeechError('engine_failed', `cannot run ${command}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) {
        const how = code === null ? `signal ${signal}` : `exit code ${code}`;
        return reject(new SpeechError('engine_failed', `${command} failed (${how}): ${stderr.trim() || 'no message'}`));
      }
      resolve(Buffer.concat(chunks));
    });
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}
