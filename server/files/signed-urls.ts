// Expiring signed URLs for private files, for the places a bearer header cannot go (<img>, <video>).
// The signature is an HMAC-SHA256 over the object's name, the expiry and the reader (the user it was
// issued to), under a key derived from JWT_SECRET; it is checked in constant time. A URL works until it
// expires, for as long as its reader may still read the file (checked on every request).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedUrl {
  url: string;
  expiresAt: string;
}

export type SignatureCheck = { reader: number; expiresAt: number } | { refused: 'expired' | 'invalid' };

export class UrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    // Its own key: a signature can never be replayed as a JWT, nor a JWT's as a signature.
    this.key = createHmac('sha256', secret).update('booking-core: signed file URLs').digest();
  }

  private mac(name: string, expires: number, reader: number): Buffer {
    return createHmac('sha256', this.key).update(`${name}\n${expires}\n${reader}`).digest();
  }

  /** `path` (the file's route) with `expires`, `reader` and `signature` in its query. */
  sign(path: string, name: string, reader: number): SignedUrl {
    const expires = Math.floor(this.now() / 1000) + this.ttlSeconds;
    const signature = this.mac(name, expires, reader).toString('base64url');
    return {
      url: `${path}?expires=${expires}&reader=${reader}&signature=${signature}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  check(name: string, query: { expires?: unknown; reader?: unknown; signature?: unknown }): SignatureCheck {
    const { expires, reader, signature } = query;
    if (typeof expires !== 'string' || typeof reader !== 'string' || typeof signature !== 'string')
      return { refused: 'invalid' };
    if (!/^\d{1,12}$/.test(expires) || !/^\d{1,15}$/.test(reader)) return { refused: 'invalid' };
    const given = Buffer.from(signature, 'base64url');
    const expected = this.mac(name, Number(expires), Number(reader));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'invalid' };
    const expiresAt = Number(expires) * 1000;
    if (expiresAt <= this.now()) return { refused: 'expired' };
    return { reader: Number(reader), expiresAt };
  }
}
