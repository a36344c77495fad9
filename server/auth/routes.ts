import { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { loginBody, passwordBody, registerBody } from './schemas.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import type { LimiterStoreFactory } from '../redis/rate-limit-store.js';
import { conflict, HttpError, notFound, parseInput, sendError, unauthorized } from '../http/errors.js';
import { authenticate, currentUser } from './middleware.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { TokenService } from './tokens.js';
import { createUser, findUserByEmail, findUserById, publicUser, revokeTokens, type UserRow } from './users.js';

export function authRoutes(deps: {
  db: Db;
  tokens: TokenService;
  config: Config;
  /** Where each limiter counts: Redis when configured (one limit for every process), else memory. */
  limiterStore: LimiterStoreFactory;
}): Router {
  const { db, tokens, config } = deps;
  const router = Router();
  const session = async (user: UserRow) => ({
    token: await tokens.sign({ id: user.id, tokenVersion: Number(user.token_version) }),
    user: publicUser(user),
  });
  // Each client gets its own bucket per route (express-rate-limit refuses one store for two limiters).
  const limiter = (what: string, limit = config.auth.loginRateLimit) =>
    rateLimit({
      store: deps.limiterStore(what.replace(/\W+/g, '-')),
      windowMs: config.auth.loginRateWindowMs,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: (_req, res, _next, options) => {
        const retryAfter = Math.ceil(options.windowMs / 1000);
        sendError(
          res,
          new HttpError(429, 'too_many_requests', `too many ${what} attempts, try again later`, {
            'Retry-After': String(retryAfter),
          }),
        );
      },
    });

  // Open registration costs a 16 MiB scrypt per call: limited per client like login.
  router.post('/register', limiter('registration', config.auth.registerRateLimit), async (req, res) => {
    const body = parseInput(registerBody, req.body);
    const user = await createUser(db, body);
    if (!user) throw conflict('email_taken', 'an account with this email already exists');
    res.status(201).json(await session(user));
  });

  router.post('/login', limiter('login'), async (req, res) => {
    const body = parseInput(loginBody, req.body);
    const user = await findUserByEmail(db, body.email);
    // One message for an unknown email and a wrong password, and the same work for both.
    if (!(await verifyPassword(body.password, user?.password_hash)) || !user) {
      throw unauthorized('email or password is incorrect');
    }
    res.json(await session(user));
  });

  router.get('/me', authenticate(tokens), async (req, res) => {
    const user = await findUserById(db, currentUser(req).id);
    if (!user) throw notFound('user');
    res.json({ user: publicUser(user) });
  });

  // A new password revokes every token issued before; the answer carries a fresh one for this client.
  router.post('/password', authenticate(tokens), limiter('password change'), async (req, res) => {
    const body = parseInput(passwordBody, req.body);
    const user = await findUserById(db, currentUser(req).id);
    if (!user) throw unauthorized('the account no longer exists');
    if (!(await verifyPassword(body.currentPassword, user.password_hash)))
      throw unauthorized('the current password is incorrect');
    const version = await revokeTokens(db, user.id, await hashPassword(body.newPassword));
    tokens.forget(user.id);
    res.json(await session({ ...user, token_version: version }));
  });

  // "Log out everywhere": every token of this account stops working, this one too.
  router.post('/logout-all', authenticate(tokens), async (req, res) => {
    const { id } = currentUser(req);
    await revokeTokens(db, id);
    tokens.forget(id);
    res.status(204).end();
  });

  return router;
}
