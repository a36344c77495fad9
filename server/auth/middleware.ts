// Bearer authentication and role checks. A missing/invalid/expired token is 401; a wrong role 403.
import type { RequestHandler } from 'express';
import { forbidden, unauthorized } from '../http/errors.js';
import type { AuthUser, Role, TokenService } from './tokens.js';

declare module 'express-serve-static-core' {
  interface Request {
    user?: AuthUser;
  }
}

function bearer(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/);
  return match?.[1];
}

/** Sets req.user when a valid token is present; with `required`, refuses requests without one. */
export function authenticate(tokens: TokenService, { required = true } = {}): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) return required ? next(unauthorized()) : next();
    const token = bearer(header);
    if (!token) return next(unauthorized('expected "Authorization: Bearer <token>"'));
    const result = await tokens.verify(token);
    if ('refused' in result) return next(unauthorized(result.refused));
    req.user = result;
    next();
  };
}

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => next(req.user?.role === role ? undefined : forbidden(`requires the ${role} role`));
}

/** For handlers behind authenticate(): the user is known to be there. */
export function currentUser(req: { user?: AuthUser }): AuthUser {
  if (!req.user) throw unauthorized();
  return req.user;
}
