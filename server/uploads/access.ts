// Who may read an upload, and for how long an answer may be kept. Uploads are private documents (PAN,
// Aadhaar, bank statements): the owner and admins read them with their bearer token, or through a
// signed URL issued to one of them (for <img> and <video>, which cannot send a header). With
// UPLOADS_ACCESS=public anyone holding the name reads it, as a public, immutable resource.
import type { Request } from 'express';
import type { AuthUser, TokenService } from '../auth/tokens.js';
import type { UrlSigner } from '../files/signed-urls.js';
import { HttpError, notFound, unauthorized } from '../http/errors.js';
import type { UploadRow } from './repository.js';

export const filePath = (name: string) => `/api/uploads/${name}`;

export const mayRead = (user: { id: number; role: string } | undefined, row: Pick<UploadRow, 'user_id'>) =>
  user !== undefined && (user.role === 'admin' || user.id === row.user_id);

const PUBLIC_CACHE = 'public, max-age=31536000, immutable';
/** A bearer read: any cache the browser keeps is its own, and it asks again (304 from the ETag). */
const BEARER_CACHE = 'private, no-cache';

export class UploadAccess {
  constructor(
    private readonly mode: 'private' | 'public',
    private readonly tokens: TokenService,
    private readonly signer: UrlSigner,
  ) {}

  /** The URL a reader is given for the file: signed in private mode, the plain path in public mode. */
  urlFor(name: string, reader: AuthUser): { url: string; urlExpiresAt: string | null } {
    if (this.mode === 'public') return { url: filePath(name), urlExpiresAt: null };
    const signed = this.signer.sign(filePath(name), name, reader.id);
    return { url: signed.url, urlExpiresAt: signed.expiresAt };
  }

  /**
   * Resolves to the Cache-Control of the answer when `req` may read `row`; throws 401 (no credentials),
   * 403 (a signature that is expired, tampered with or issued to someone who may not read it) or 404
   * (a bearer who may not read it: a stranger's file looks like a missing one).
   */
  async check(req: Request, row: UploadRow): Promise<string> {
    if (this.mode === 'public') return PUBLIC_CACHE;
    if (req.query.signature !== undefined) {
      const result = this.signer.check(row.name, req.query);
      if ('refused' in result)
        throw result.refused === 'expired'
          ? new HttpError(403, 'url_expired', 'this file link has expired; ask for a new one')
          : new HttpError(403, 'invalid_signature', 'this file link is not valid');
      const reader = await this.tokens.holder(result.reader);
      if (!mayRead(reader && { id: result.reader, role: reader.role }, row))
        throw new HttpError(403, 'invalid_signature', 'this file link is not valid');
      // Never kept past the signature's life.
      return `private, max-age=${Math.max(0, Math.floor((result.expiresAt - Date.now()) / 1000))}`;
    }
    if (!req.user) throw unauthorized('a bearer token or a signed link is required for this file');
    if (!mayRead(req.user, row)) throw notFound('file');
    return BEARER_CACHE;
  }
}
