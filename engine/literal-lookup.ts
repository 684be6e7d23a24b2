/**
 * dgram's `lookup` for a socket whose destinations are IP literals (learned
 * from packets, or validated when configured): answers at once, without the
 * dns.lookup call and deferral Node otherwise makes for every datagram sent.
 * That per-send lookup was the largest share of the worker's fan-out time in
 * the bench profile. Names (not expected here) still go through dns.lookup.
 */
import dns from 'node:dns';
import { isIPv4 } from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

export function literalLookup(hostname: string, options: unknown, callback: LookupCallback): void {
  if (isIPv4(hostname)) {
    callback(null, hostname, 4);
    return;
  }
  dns.lookup(hostname, { family: 4 }, (err, address, family) => callback(err, address, family));
}
