// Errors of the timetable and as-run routes: a status, a stable code, a translated sentence,
// and for an invalid entry the list of fields at fault (so a form can mark each one).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestLang } from '../app.js';
import type { LoaConfig } from '../config.js';
import { translate, type MessageKey, type MessageParams } from '../i18n.js';

export interface FieldError {
  field: string;
  message: string;
}

export class TimetableError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly messageKey: MessageKey,
    readonly params: MessageParams = {},
    readonly errors?: FieldError[],
  ) {
    super(`${code}: ${messageKey}`);
    this.name = 'TimetableError';
  }
}

export const invalidEntry = (errors: FieldError[]) =>
  new TimetableError(422, 'invalid_entry', 'timetable_invalid', { detail: errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ') }, errors);

/** Answers TimetableErrors; everything else goes on to the app's error handler. */
export function installTimetableErrors(app: FastifyInstance, config: LoaConfig): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (!(error instanceof TimetableError)) throw error;
    request.log.info({ code: error.code, status: error.statusCode }, 'request rejected');
    const body: { error: string; message: string; errors?: FieldError[] } = {
      error: error.code,
      message: translate(requestLang(request, config), error.messageKey, error.params),
    };
    if (error.errors) body.errors = error.errors;
    return reply.status(error.statusCode).send(body);
  });
}
