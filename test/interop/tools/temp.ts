/** A temporary directory removed on teardown, and SDP files for zone streams written into it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { CodecName } from '../../../codecs/codec.js';
import { codecInfo } from '../../../codecs/registry.js';
import { packetPtimeMs } from '../../../protocols/rtp/packetization.js';
import { buildStreamSdp } from '../../../protocols/rtp/sdp.js';

export function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `loa-interop-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the SDP a receiver reads for one zone stream in one codec, sent to address:port; returns its path. */
export function writeZoneSdp(dir: string, name: string, o: { zoneId: string; codec: CodecName; address: string; port: number; ttl?: number }): string {
  const file = join(dir, `${name}.sdp`);
  const sdp = buildStreamSdp({
    sessionName: `Loa zone ${o.zoneId}`,
    originAddress: '127.0.0.1',
    connectionAddress: o.address,
    ttl: o.ttl,
    port: o.port,
    codec: codecInfo(o.codec),
    ptime: packetPtimeMs(codecInfo(o.codec)),
    fmtp: o.codec === 'opus' ? 'stereo=0;sprop-stereo=0' : undefined,
  });
  writeFileSync(file, sdp);
  return file;
}
