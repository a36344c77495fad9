// Pieces every capability's part of the OpenAPI document uses: the one error shape and its statuses,
// the bearer scheme, pages, and binary answers served send-style (Range, ETag, 304, 412, 416).
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiResponsesObject } from 'zod-openapi';

export type Operation = ZodOpenApiOperationObject;
export type Paths = Record<string, Partial<Record<'get' | 'post' | 'patch' | 'delete', Operation>>>;

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable and machine-readable, e.g. validation_failed' }),
      message: z.string().meta({ description: 'for people; never a secret or a stack' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every error, whatever the route: `{ "error": { "code", "message" } }`.' });

const retryAfter = {
  'Retry-After': { description: 'seconds after which a retry makes sense', schema: { type: 'integer' as const } },
};

/** An error status with the codes a route may answer with under it. */
function error(description: string, codes: string[], headers?: typeof retryAfter) {
  return {
    description: `${description}. Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    headers,
    content: { 'application/json': { schema: errorBody } },
  };
}

/** A request body that stops arriving for BODY_IDLE_TIMEOUT_MS. */
const slowBody = { '408': error('The body stopped arriving', ['request_timeout']) };

export const errors = {
  slowBody,
  badRequest: (...codes: string[]) => ({ '400': error('Bad input', ['validation_failed', ...codes]) }),
  /** A JSON body: bad JSON, too large (`BODY_LIMIT`), an encoding or charset the parser refuses. */
  jsonBody: (...codes: string[]) => ({
    '400': error('Bad input', ['validation_failed', 'invalid_json', 'request_aborted', ...codes]),
    ...slowBody,
    '413': error('The body is larger than BODY_LIMIT', ['payload_too_large']),
    '415': error('The body is in an encoding or charset the server does not read', [
      'unsupported_encoding',
      'unsupported_charset',
    ]),
  }),
  unauthorized: { '401': error('No valid bearer token (or it was revoked)', ['unauthorized']) },
  forbidden: { '403': error('The account may not do this', ['forbidden']) },
  notFound: (what: string) => ({ '404': error(`No such ${what}, or not the caller's`, ['not_found']) }),
  conflict: (...codes: string[]) => ({ '409': error('The resource is not in a state that allows this', codes) }),
  rateLimited: {
    '429': error('Too many attempts from this client in the window', ['too_many_requests'], retryAfter),
  },
  /** Every route: the server's own failure and a database that does not answer. */
  always: {
    '500': error('Unexpected failure (logged with the request id)', ['internal']),
    '503': error(
      'A backend does not answer, or memory is short; retry after Retry-After',
      ['database_unavailable', 'memory_pressure', 'storage_unavailable', 'shutting_down'],
      retryAfter,
    ),
  },
} satisfies Record<string, unknown>;

/** A JSON request body of `schema`. */
export const jsonRequest = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

/** A JSON answer of `schema`. */
export const json = (description: string, schema: z.ZodType) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearer = [{ bearer: [] }];

/** Who may call an operation: in the description, and as `x-roles` for tools. */
export const roles = (...who: ('anyone' | 'customer' | 'admin' | 'user' | 'operator')[]) => ({
  'x-roles': who,
  ...(who.includes('anyone') ? { security: [] } : { security: bearer }),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: 'pass as `?cursor` for the next page; null on the last' }),
  });

export const idPath = z.object({ id: z.string().meta({ description: 'a positive integer id', example: '42' }) });

/** A stored file's answer: Range, HEAD, ETag and conditional requests, like the `send` package. */
export function binary(contentType: string, what: string): ZodOpenApiResponsesObject {
  const headers = {
    ETag: { description: 'strong: the SHA-256 of the bytes, quoted', schema: { type: 'string' as const } },
    'Accept-Ranges': { schema: { type: 'string' as const, enum: ['bytes'] } },
    'Last-Modified': { schema: { type: 'string' as const } },
    'Content-Disposition': { schema: { type: 'string' as const } },
  };
  const bytes = { [contentType]: { schema: z.string().meta({ format: 'binary' }) } };
  return {
    '200': { description: `${what} (HEAD: the same headers, no body)`, headers, content: bytes },
    '206': {
      description: 'One range (`Range: bytes=a-b`): `Content-Range: bytes a-b/size`',
      headers: { ...headers, 'Content-Range': { schema: { type: 'string' as const } } },
      content: bytes,
    },
    '304': { description: '`If-None-Match` (or `If-Modified-Since`) matches: not modified' },
    '412': {
      description: '`If-Match` or `If-Unmodified-Since` fails. Codes: `precondition_failed`.',
      content: { 'application/json': { schema: errorBody } },
    },
    '416': {
      description: 'The range is outside the file: `Content-Range: bytes */size`. Codes: `range_not_satisfiable`.',
      headers: { 'Content-Range': { schema: { type: 'string' as const } } },
      content: { 'application/json': { schema: errorBody } },
    },
  };
}

export const isoDateTime = z.string().meta({ format: 'date-time', description: 'ISO 8601, UTC' });
