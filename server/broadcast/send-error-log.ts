/**
 * Logs the media engine's send failures — datagrams the kernel refused
 * (ENETUNREACH, EPERM from a firewall, …) and datagrams dropped because a
 * socket's send queue was full — from its periodic streamStats events: at
 * most one line per zone stream per interval, with what happened since the
 * last line and the destinations most affected. A loudspeaker that cannot be
 * reached fails 50 times a second; the log gets one line a minute about it.
 */
import type { Logger } from '../logger.js';
import type { StreamStatsEvent } from '../../engine/protocol.js';

/** One line per zone stream per minute at most. */
export const SEND_ERROR_LOG_INTERVAL_MS = 60_000;

export class SendErrorLog {
  /** Per zone stream: the counts last logged and when. */
  private readonly logged = new Map<string, { ssrc: number; errors: number; dropped: number; at: number }>();
  /** Lines held back by the interval. */
  suppressed = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs = SEND_ERROR_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  onStreamStats(e: StreamStatsEvent): void {
    const errors = e.sendErrors ?? 0;
    const dropped = e.sendDropped ?? 0;
    const key = `${e.zoneId}/${e.codec}`;
    let last = this.logged.get(key);
    // A new stream (new SSRC) counts from zero again.
    if (last && last.ssrc !== e.ssrc) last = { ...last, ssrc: e.ssrc, errors: 0, dropped: 0 };
    const before = last ?? { ssrc: e.ssrc, errors: 0, dropped: 0, at: -Infinity };
    if (errors === before.errors && dropped === before.dropped) return;
    const now = this.now();
    if (now - before.at < this.intervalMs) {
      // The counts keep growing in the engine: the next line reports all of it.
      this.suppressed++;
      return;
    }
    this.logger.warn(
      {
        zoneId: e.zoneId,
        codec: e.codec,
        sendErrors: errors - before.errors,
        sendDropped: dropped - before.dropped,
        totalSendErrors: errors,
        totalSendDropped: dropped,
        destinations: (e.failing ?? []).slice(0, 5),
      },
      'media engine could not send to some destinations',
    );
    this.logged.set(key, { ssrc: e.ssrc, errors, dropped, at: now });
  }
}
