/**
 * A private network namespace for multicast tests: its loopback up, multicast on, and the
 * multicast range routed to it, so groups are sent and joined there and never leave the
 * machine's own namespace. Removed on teardown. Creating one needs root and iproute2.
 */
import { execFileSync, spawnSync } from 'node:child_process';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Whether this process may create a namespace (root, and `ip` installed). */
export const canCreateNamespace = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });

/** Creates the namespace `${prefix}-${pid}` ready for multicast on lo; returns its name. */
export function multicastNamespace(t: Teardown, prefix: string): string {
  const ns = `${prefix}-${process.pid}`;
  ip('netns', 'add', ns);
  t.teardown(() => ip('netns', 'del', ns));
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'multicast', 'on');
  ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
  return ns;
}
