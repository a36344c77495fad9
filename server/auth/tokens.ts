// Signed JWTs (HS256, jose) carrying the user id and role, with an expiry.
import { errors, jwtVerify, SignJWT } from 'jose';

export type Role = 'customer' | 'admin';
export interface AuthUser {
  id: number;
  role: Role;
}

const ISSUER = 'booking-core';

export class TokenService {
  private readonly key: Uint8Array;
  constructor(
    secret: string,
    private readonly ttl: string,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(user: AuthUser): Promise<string> {
    return new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(this.ttl)
      .sign(this.key);
  }

  /** Resolves to the user, or to a reason the token is refused. */
  async verify(token: string): Promise<AuthUser | { refused: string }> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      const id = Number(payload.sub);
      const role = payload.role;
      if (!Number.isSafeInteger(id) || (role !== 'customer' && role !== 'admin'))
        return { refused: 'token is invalid' };
      return { id, role };
    } catch (err) {
      return { refused: err instanceof errors.JWTExpired ? 'token has expired' : 'token is invalid' };
    }
  }
}
