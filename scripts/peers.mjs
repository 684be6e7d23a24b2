// The real third-party peers the test suite drives (docs/testing.md), the
// Debian packages that provide them, and a check that they are all present.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** command on PATH → Debian package that provides it */
export const PEERS = [
  ['ffmpeg', 'ffmpeg'],
  ['sox', 'sox'],
  ['espeak-ng', 'espeak-ng'],
  ['icecast2', 'icecast2'],
  ['gst-launch-1.0', 'gstreamer1.0-tools'],
  ['baresip', 'baresip-core'],
  ['sipp', 'sip-tester'],
  ['chromium', 'chromium'],
  ['tcpdump', 'tcpdump'],
  ['nft', 'nftables'],
  ['ip', 'iproute2'],
  ['xmlsec1', 'xmlsec1'], // signs CAP alerts for the signature tests (an independent XML-DSig)
  ['xmllint', 'libxml2-utils'], // libxml2's exclusive c14n, the reference ours must equal
  ['g++', 'g++'], // builds our sendmmsg addon (native/), which the send tests must exercise
  ['make', 'make'],
];

/** Packages installed together with the commands (plugins, codecs, fonts). */
export const EXTRA_PACKAGES = [
  'libsox-fmt-all',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'gstreamer1.0-plugins-bad',
  'chromium-driver',
  'fonts-liberation',
];

export function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** PostgreSQL server binaries: on PATH or in Debian's versioned directory. */
export function hasPostgresServer() {
  if (hasCommand('initdb') && hasCommand('pg_ctl')) return true;
  for (const v of ['17', '16', '15', '14', '13']) {
    if (existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) return true;
  }
  return false;
}

export function missingPeers() {
  return PEERS.filter(([cmd]) => !hasCommand(cmd));
}

export function installCommand(packages) {
  return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}
