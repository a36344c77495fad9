// Signed JWTs (HS256, jose) carrying the user id and the user's token version, with an expiry. A token
// is accepted only while its user exists and still has that version: bumping the version (a password
// change, "log out everywhere") revokes every token issued before. The user's role is read with the
// version, so a demoted admin loses admin rights as quickly.
import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

export type Role = 'customer' | 'admin';
export interface AuthUser {
  id: number;
  role: Role;
}

/** What a token is checked against on every request. */
export interface TokenHolder {
  role: Role;
  tokenVersion: number;
}

/** The current state of user `id`, or undefined for a user that no longer exists. */
export type HolderLookup = (id: number) => Promise<TokenHolder | undefined>;

const ISSUER = 'booking-core';
/**
 * How long a user's role and token version are taken from memory instead of the database: a token
 * revoked through another process (or a role changed in the database) may pass for at most this long.
 * The process that revokes forgets at once.
 */
export const HOLDER_CACHE_MS = 2_000;

export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Tokens whose signature was already checked, until they expire. jose verifies through WebCrypto,
   * ~0.15-0.25 ms a call here: a client sending the same token on every request pays it once.
   */
  private readonly verified = new LRUCache<string, { id: number; version: number; expiresAt: number }>({
    max: 10_000,
  });
  private readonly holders = new LRUCache<number, { holder: TokenHolder | null }>({
    max: 10_000,
    ttl: HOLDER_CACHE_MS,
  });

  constructor(
    secret: string,
    private readonly ttl: string,
    private readonly lookup: HolderLookup,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(user: { id: number; tokenVersion: number }): Promise<string> {
    return new SignJWT({ ver: user.tokenVersion })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(this.ttl)
      .sign(this.key);
  }

  /** The user's role and token version now (cached for HOLDER_CACHE_MS); undefined once deleted. */
  async holder(id: number): Promise<TokenHolder | undefined> {
    const cached = this.holders.get(id);
    if (cached) return cached.holder ?? undefined;
    const holder = await this.lookup(id);
    this.holders.set(id, { holder: holder ?? null });
    return holder;
  }

  /** After this process changed a user's version or role: the next request reads it anew. */
  forget(id: number): void {
    this.holders.delete(id);
  }

  /** Resolves to the user, or to a reason the token is refused. */
  async verify(token: string): Promise<AuthUser | { refused: string }> {
    const claims = await this.checkSignature(token);
    if ('refused' in claims) return claims;
    const holder = await this.holder(claims.id);
    if (!holder) return { refused: 'the account no longer exists' };
    if (holder.tokenVersion !== claims.version) return { refused: 'token has been revoked' };
    return { id: claims.id, role: holder.role };
  }

  private async checkSignature(token: string): Promise<{ id: number; version: number } | { refused: string }> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt > Date.now()) return known;
      this.verified.delete(token);
      return { refused: 'token has expired' };
    }
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      const id = Number(payload.sub);
      const version = payload.ver;
      if (!Number.isSafeInteger(id) || typeof version !== 'number' || !Number.isSafeInteger(version))
        return { refused: 'token is invalid' };
      const claims = { id, version, expiresAt: (payload.exp ?? 0) * 1000 };
      this.verified.set(token, claims);
      return claims;
    } catch (err) {
      return { refused: err instanceof errors.JWTExpired ? 'token has expired' : 'token is invalid' };
    }
  }
}
