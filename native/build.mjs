// Builds the sendmmsg addon (native/loa_send.c) with node-gyp; run by `npm ci` / `npm install`
// (the package's "install" script). A failed build does not fail the install: the engine then
// sends through dgram and says so at start (engine/send-backend.ts). LOA_SKIP_NATIVE=1 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
if (process.env.LOA_SKIP_NATIVE === '1') {
  console.log('loa: native sendmmsg addon skipped (LOA_SKIP_NATIVE=1); sends go through dgram');
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.log(`loa: no sendmmsg on ${process.platform}; sends go through dgram`);
  process.exit(0);
}
// node-gyp downloads Node's headers unless told where they are: a distribution's Node (Debian)
// ships them under <prefix>/include/node, so an offline machine builds too.
const args = ['rebuild'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
// npm puts its own node-gyp in the environment of a script; else the one in node_modules or on PATH.
const local = path.join(dir, '../node_modules/node-gyp/bin/node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(local) ? local : undefined);
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  : spawnSync('node-gyp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status === 0) {
  console.log('loa: native sendmmsg addon built (native/build/Release/loa_send.node)');
} else {
  // The compiler's own error lines, then node-gyp's verdict.
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n');
  const why = r.error ? r.error.message : [...lines.filter((l) => /error/i.test(l) && !l.startsWith('gyp')).slice(0, 6), ...lines.filter((l) => l.startsWith('gyp ERR! stack Error'))].join('\n');
  console.warn(`loa: WARNING: the native sendmmsg addon did not build; sends will go through dgram (slower).\n${why}`);
}
process.exit(0);
