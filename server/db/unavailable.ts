// Which errors mean "the database is away" (down, restarting, unreachable, not answering in
// time) rather than "this query is wrong". The API answers the first kind with a 503 the caller
// can wait out, the second with a 500; startup retries only the first kind.
// pg and PGlite errors reach us unwrapped through kysely; a wrapper may keep the original as `cause`.

/** Socket errors of a lost or refused connection (Node's `code`). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs of a server that is shutting down, starting up, full or cancelling on timeout. */
const SQLSTATES = new Set([
  '57P01', // admin_shutdown (pg_ctl stop -m fast)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '57014', // query_canceled (statement_timeout)
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
  '53100', // disk_full (the database's own disk)
  '58030', // io_error
]);

/** Messages of pg (client and pool) and PGlite that carry no code. */
const MESSAGES = [
  /Connection terminated/i, // "…unexpectedly", "…due to connection timeout"
  /timeout exceeded when trying to connect/i, // pool connectionTimeoutMillis
  /Query read timeout/i, // client query_timeout
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Cannot use a pool after calling end on the pool/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /PGlite is closed/i,
  /driver has already been destroyed/i, // kysely after close(): requests caught by a shutdown
  /database (is )?unavailable/i,
];

/** True when `err` (or an error in its `cause` chain) says the database cannot be reached now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')) return true; // class 08: connection exception
    }
    if (typeof message === 'string' && MESSAGES.some((re) => re.test(message))) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
  }
  return false;
}

/** A short reason for logs and /readyz: the code and the first line of the message. */
export function unavailableReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' && e.message ? e.message.split('\n')[0] : String(err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}
