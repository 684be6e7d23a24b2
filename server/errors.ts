// The one error type routes throw: an HTTP status, a stable machine code, and a message key
// that the error handler translates for the caller's language.
import type { MessageKey, MessageParams } from './i18n.js';

/** One of several reasons (a CAP document can be wrong in many places at once). */
export interface ApiErrorDetail {
  /** Where, in the caller's terms (an XPath-like path in a CAP document). */
  path: string;
  code: string;
  messageKey: MessageKey;
  params: MessageParams;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly messageKey: MessageKey,
    readonly params: MessageParams = {},
    readonly details: readonly ApiErrorDetail[] = [],
  ) {
    super(`${code}: ${messageKey}`);
    this.name = 'ApiError';
  }
}

export const notFound = (what: 'zone' | 'endpoint' | 'media' | 'user' | 'token' | 'role', id: string) =>
  new ApiError(404, 'not_found', 'not_found', { what: `what_${what}`, id });
export const forbidden = () => new ApiError(403, 'forbidden', 'forbidden');
export const forbiddenGlobal = () => new ApiError(403, 'forbidden', 'forbidden_global');
export const unauthorized = () => new ApiError(401, 'unauthorized', 'unauthorized');

/** The database is away (down, restarting, unreachable, too slow): the caller may retry later. */
export const databaseUnavailable = () => new ApiError(503, 'database-unavailable', 'database_unavailable');
