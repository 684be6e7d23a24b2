#!/usr/bin/env node
// `npm test`: make sure the real peers are here (install them when we can),
// type-check, then run the tap suite. Arguments are passed on to tap
// (e.g. `npm test -- test/codecs`). A missing peer is a failure, never a skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EXTRA_PACKAGES, PEERS, hasPostgresServer, installCommand, missingPeers } from './peers.mjs';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

let missing = missingPeers();
if (missing.length > 0) {
  const packages = [...new Set([...missing.map(([, pkg]) => pkg), ...EXTRA_PACKAGES])];
  const isRoot = process.getuid?.() === 0;
  if (isRoot && process.env.LOA_NO_INSTALL !== '1') {
    console.log(`Installing the test peers: ${packages.join(' ')}`);
    run('sh', ['-c', installCommand(packages)], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    missing = missingPeers();
  }
  if (missing.length > 0) {
    console.error(`The test suite drives real peers, and these are missing: ${missing.map(([c]) => c).join(', ')}.`);
    console.error(`Install them (as root) with:\n  ${installCommand([...new Set([...missing.map(([, p]) => p), ...EXTRA_PACKAGES])])}`);
    process.exit(1);
  }
}
if (!hasPostgresServer()) {
  console.error('PostgreSQL server binaries (initdb, pg_ctl) are missing. Install them with:\n  apt-get install -y postgresql');
  process.exit(1);
}

// Our own addon (native/: the sendmmsg fan-out) is built by `npm ci`, which only warns when it
// cannot (no compiler then). Here a missing build is retried now that the compiler is a peer,
// and still missing it fails: the send tests must run on the backend production uses.
const ADDON = 'native/build/Release/loa_send.node';
if (!existsSync(ADDON) && process.env.LOA_SKIP_NATIVE !== '1') run('node', ['native/build.mjs']);
if (!existsSync(ADDON) && process.env.LOA_SKIP_NATIVE !== '1') {
  console.error(`The sendmmsg addon (${ADDON}) could not be built; see the compiler output above (LOA_SKIP_NATIVE=1 runs the suite without it).`);
  process.exit(1);
}

console.log(`Peers present: ${PEERS.map(([c]) => c).join(', ')}`);
console.log(`Database: ${process.env.DATABASE_URL ? 'PostgreSQL server (DATABASE_URL)' : 'embedded PGlite'}`);

if (process.env.LOA_SKIP_TYPECHECK !== '1') {
  const tsc = run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  if (tsc !== 0) {
    console.error('Type check failed.');
    process.exit(tsc);
  }
}
process.exit(run('npx', ['tap', ...process.argv.slice(2)]));
