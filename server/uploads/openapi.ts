// The upload and file routes in the OpenAPI document; limits and types come from the configuration.
import { z } from 'zod';
import type { Config } from '../config.js';
import { binary, errorBody, errors, isoDateTime, json, page, roles, type Paths } from '../openapi/common.js';
import { pageQuery } from '../shared/pagination.js';
import { ACCEPTED_TYPES, UPLOAD_KINDS } from './kinds.js';

export const uploadView = z
  .object({
    id: z.number().int(),
    name: z.string().meta({ description: '32 hex characters and the extension of what the file really is' }),
    url: z.string().meta({ description: 'a signed URL (private uploads) or the plain path (public)' }),
    urlExpiresAt: isoDateTime.nullable(),
    kind: z.enum(UPLOAD_KINDS as ['image', 'video']),
    size: z.number().int(),
    contentType: z.string(),
    sha256: z.string(),
    originalName: z.string().nullable(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'Upload' });
export type UploadView = z.infer<typeof uploadView>;

const namePath = z.object({ name: z.string().meta({ example: '0123456789abcdef0123456789abcdef.jpg' }) });
/** A signed URL's query, as the upload's `url` carries it: copy the URL whole, never build one. */
const signedQuery = z.object({
  expires: z.string().optional().meta({ description: 'signed URL: its expiry (seconds since 1970)' }),
  reader: z.string().optional().meta({ description: 'signed URL: the user it was issued to' }),
  signature: z.string().optional().meta({ description: 'signed URL: HMAC-SHA256 of name, expiry and reader' }),
});

export function uploadPaths(config: Config): Paths {
  const paths: Paths = {};
  for (const kind of UPLOAD_KINDS) {
    const max = kind === 'image' ? config.uploads.imageMaxBytes : config.uploads.videoMaxBytes;
    paths[`/api/uploads/${kind}`] = {
      post: {
        summary: `Upload ${kind === 'image' ? 'an image' : 'a video'}`,
        tags: ['uploads'],
        ...roles('user'),
        description: `multipart/form-data with exactly one file field \`file\`, at most ${max} bytes. The type is decided by the content (not the name or the declared type): ${[...ACCEPTED_TYPES[kind]].join(', ')}. Customers: ${config.uploads.atOnce} uploads at once, ${config.uploads.quotaBytes} bytes in all.`,
        requestBody: {
          content: {
            'multipart/form-data': { schema: z.object({ file: z.string().meta({ format: 'binary' }) }) },
          },
        },
        responses: {
          '201': json('Stored (`Location` names it)', uploadView),
          ...errors.badRequest(
            'missing_file',
            'unexpected_field',
            'empty_file',
            'malformed_multipart',
            'too_many_files',
            'request_aborted',
          ),
          ...errors.unauthorized,
          ...errors.slowBody,
          '413': json(
            'Larger than the limit, or over the quota. Codes: `payload_too_large`, `quota_exceeded`.',
            errorBody,
          ),
          '415': json(
            'Not multipart, or content of a type not accepted. Codes: `unsupported_media_type`, `unsupported_file_type`.',
            errorBody,
          ),
          '429': json('Too many uploads at once for this account. Codes: `too_many_uploads`.', errorBody),
          '507': json('The server is short of disk space. Codes: `insufficient_storage`.', errorBody),
          ...errors.always,
        },
      },
    };
  }
  paths['/api/uploads'] = {
    get: {
      summary: 'The caller’s uploads, newest first, with signed URLs and usage',
      tags: ['uploads'],
      ...roles('user'),
      requestParams: { query: pageQuery },
      responses: {
        '200': json(
          'One page',
          page(uploadView).extend({
            usage: z.object({ bytes: z.number().int(), quotaBytes: z.number().int().nullable() }),
          }),
        ),
        ...errors.badRequest(),
        ...errors.unauthorized,
        ...errors.always,
      },
    },
  };
  paths['/api/uploads/{name}'] = {
    get: {
      summary: 'A file',
      tags: ['uploads'],
      ...roles('user'),
      security: [{ bearer: [] }, {}],
      description: `The owner or an admin with a bearer token, or anyone with a signed URL (valid ${config.uploads.signedUrlTtlSeconds} s); anyone with UPLOADS_ACCESS=public. HEAD, Range, ETag, 304, 412 and 416.`,
      requestParams: { path: namePath, query: signedQuery },
      responses: {
        ...binary('application/octet-stream', 'The file, with its own Content-Type'),
        ...errors.unauthorized,
        '403': json('An expired or invalid signature. Codes: `url_expired`, `invalid_signature`.', errorBody),
        ...errors.notFound('file'),
        ...errors.always,
      },
    },
    delete: {
      summary: 'Delete a file',
      tags: ['uploads'],
      ...roles('user'),
      description: 'The owner or an admin.',
      requestParams: { path: namePath },
      responses: {
        '204': { description: 'Deleted' },
        ...errors.unauthorized,
        ...errors.notFound('file'),
        ...errors.always,
      },
    },
  };
  return paths;
}
