// Whether the database answers, as last seen: fed by the pg pool's events, the API's errors and
// the readiness probe. It logs once when the database goes away and once when it is back (with
// how long it was away), not once per failed request: an outage under load fails hundreds a second.
import type { Logger } from '../logger.js';
import { unavailableReason } from './unavailable.js';

export interface AvailabilityState {
  available: boolean;
  /** Since when (ms since epoch) the database is away; null while it answers. */
  downSinceMs: number | null;
  /** The error that made it away (code and first line). */
  reason: string | null;
  /** Failures seen during this outage. */
  failures: number;
}

export class DatabaseAvailability {
  #log: Logger | null = null;
  #state: AvailabilityState = { available: true, downSinceMs: null, reason: null, failures: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  /** Logs transitions from now on (the database opens before the server's logger is known to it). */
  attachLogger(logger: Logger): void {
    this.#log = logger.child({ component: 'database' });
  }

  get state(): Readonly<AvailabilityState> {
    return { ...this.#state };
  }

  get available(): boolean {
    return this.#state.available;
  }

  /** A connection-class error was seen (see unavailable.ts). */
  failed(err: unknown): void {
    const reason = unavailableReason(err);
    if (this.#state.available) {
      this.#state = { available: false, downSinceMs: this.now(), reason, failures: 1 };
      this.#log?.error({ reason }, 'database unavailable: the API answers 503 and rows are kept to be written later; audio goes on');
    } else {
      this.#state.failures++;
      this.#state.reason = reason;
    }
  }

  /** A query or a new connection succeeded. */
  succeeded(): void {
    if (this.#state.available) return;
    const awayMs = this.now() - (this.#state.downSinceMs ?? this.now());
    this.#log?.info({ awayMs, failures: this.#state.failures }, 'database is back');
    this.#state = { available: true, downSinceMs: null, reason: null, failures: 0 };
  }
}
