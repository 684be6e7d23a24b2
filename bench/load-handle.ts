/** The driver's side of one load process (bench/load-process.ts): fork, send, await replies. */
import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriverMessage, LoadMessage } from './load-protocol.js';

const here = fileURLToPath(import.meta.url);
const file = fileURLToPath(new URL(`./load-process${extname(here)}`, import.meta.url));

export class LoadHandle {
  online = 0;
  private readonly waiters: Array<{ type: LoadMessage['type']; resolve: (m: LoadMessage) => void; reject: (e: Error) => void }> = [];
  private exited = false;
  private readonly exitPromise: Promise<void>;
  lastError = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: LoadMessage) => {
      if (m.type === 'online') this.online = m.online;
      if (m.type === 'error') this.lastError = m.message;
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    this.exitPromise = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`load process exited${this.lastError ? `: ${this.lastError}` : ''}`));
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(): Promise<LoadHandle> {
    const execArgv = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const h = new LoadHandle(fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await h.next('ready', 60_000);
    return h;
  }

  send(m: DriverMessage): void {
    if (!this.exited) this.child.send(m);
  }

  next<T extends LoadMessage['type']>(type: T, timeoutMs = 30_000): Promise<Extract<LoadMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`load process ${this.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as Extract<LoadMessage, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  async request<T extends LoadMessage['type']>(m: DriverMessage, reply: T, timeoutMs = 30_000): Promise<Extract<LoadMessage, { type: T }>> {
    const p = this.next(reply, timeoutMs);
    this.send(m);
    return p;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.send({ type: 'close' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exitPromise;
    clearTimeout(t);
  }
}
