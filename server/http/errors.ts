// One error shape for every 4xx/5xx: { "error": { "code", "message" } }.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/connect.js';
import { DomainError, type DomainErrorKind } from '../shared/domain-error.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, code, message);
export const unauthorized = (message = 'authentication required') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'not allowed for this account') => new HttpError(403, 'forbidden', message);
export const notFound = (what = 'resource') => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string) => new HttpError(409, code, message);
export const unavailable = (code: string, message: string, retryAfterSeconds: number) =>
  new HttpError(503, code, message, { 'Retry-After': String(retryAfterSeconds) });

/** Up to this much of a refused body is read and discarded so the client gets the answer. */
const DRAIN_LIMIT = 64 * 1024 * 1024;
/** ...and for at most this long: a client that stops sending does not hold the connection. */
const DRAIN_TIMEOUT_MS = 30_000;

type Response = Parameters<RequestHandler>[1];

/** True when the request still has body bytes on the way that nobody has read. */
function bodyUnread(res: Response): boolean {
  const req = res.req;
  const declared = Number(req.headers['content-length'] ?? 0);
  return (declared > 0 || req.headers['transfer-encoding'] !== undefined) && !req.complete;
}

/**
 * A request refused before its body was read (401, 413, 415, 503, a bad form on an upload): the answer
 * is written at once, the rest of the body is read and discarded, and only then is the response ended.
 * Ending it earlier lets Node close the socket after the answer (it does whenever the connection is not
 * kept alive), and closing a socket with unread bytes makes the kernel send a reset that wipes the
 * answer from the client's buffer: the client sees EPIPE, never the error. A body declared larger than
 * DRAIN_LIMIT gets "Connection: close" instead; one that goes past the limit or DRAIN_TIMEOUT_MS is cut.
 */
function answerThenDrain(res: Response, status: number, body: string): void {
  const req = res.req;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_LIMIT) {
    res.setHeader('Connection', 'close');
    res.status(status).type('json').send(body);
    return;
  }
  res.status(status).type('json').setHeader('Content-Length', Buffer.byteLength(body));
  res.write(body);
  let discarded = 0;
  const cut = () => {
    clearTimeout(timer);
    req.destroy();
  };
  const timer = setTimeout(cut, DRAIN_TIMEOUT_MS).unref();
  const done = () => {
    clearTimeout(timer);
    req.off('data', count);
    res.end();
  };
  const count = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DRAIN_LIMIT) cut();
  };
  req.on('data', count).once('end', done).once('close', done);
  req.resume();
}

export function sendError(res: Response, err: HttpError): void {
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  const body = JSON.stringify({ error: { code: err.code, message: err.message } });
  if (bodyUnread(res)) answerThenDrain(res, err.status, body);
  else res.status(err.status).type('json').send(body);
}

/** Parses input with a zod schema; a mismatch is a 400 that names the first offending field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const first = result.error.issues[0]!;
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  throw new HttpError(400, 'validation_failed', `${where}${first.message}`);
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** Errors raised by body-parser carry a `type`; map the ones a client can cause to 4xx. */
const BODY_PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'request body is too large'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'unsupported charset'],
  'request.aborted': [400, 'request_aborted', 'request aborted by the client'],
};

/** The status of each kind of domain error (shared/domain-error.ts): the one place they meet HTTP. */
const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  client_gone: 499,
  exhausted: 500,
  unavailable: 503,
  timeout: 504,
};

/** What an error thrown anywhere means for the client; undefined for a bug (500, logged in full). */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof DomainError) {
    const headers: Record<string, string> =
      err.retryAfterSeconds !== undefined ? { 'Retry-After': String(err.retryAfterSeconds) } : {};
    const mapped = new HttpError(STATUS_BY_KIND[err.kind], err.code, err.message, headers);
    // Exhausted serials need an operator: logged with the domain error as the cause.
    if (err.kind === 'exhausted') mapped.cause = err;
    // A dependency's failure behind it (the store's, say) goes to the log too.
    else if (err.cause) mapped.cause = err.cause;
    return mapped;
  }
  const type = (err as { type?: unknown })?.type;
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) return new HttpError(...BODY_PARSER_ERRORS[type]!);
  if (isDatabaseUnavailable(err)) return databaseUnavailable(err);
  return undefined;
}

/** Readiness says 503 when the database does not answer; the routes agree (and say when to retry). */
function databaseUnavailable(cause: unknown): HttpError {
  const err = unavailable('database_unavailable', 'the database is not answering; try again shortly', 5);
  err.cause = cause;
  return err;
}

export const errorHandler =
  (logger: Logger): ErrorRequestHandler =>
  (err, req, res, _next) => {
    const known = toHttpError(err);
    if (!known) logger.error({ err, requestId: req.id }, 'unhandled error');
    else if (known.cause) logger.error({ err: known.cause, requestId: req.id, code: known.code }, known.message);
    if (res.headersSent) {
      // Too late for a JSON body: cut the response so the client sees it incomplete, not "done".
      res.destroy();
      return;
    }
    sendError(res, known ?? new HttpError(500, 'internal', 'internal server error'));
  };
