import { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { conflict, HttpError, notFound, parseInput, sendError, unauthorized } from '../http/errors.js';
import { authenticate, currentUser } from './middleware.js';
import { verifyPassword } from './passwords.js';
import type { TokenService } from './tokens.js';
import { createUser, findUserByEmail, findUserById, publicUser, type UserRow } from './users.js';

const email = z.email().max(254);
const password = z.string().min(8, 'must be at least 8 characters').max(200);
const registerBody = z.object({ email, password, name: z.string().trim().min(1).max(120) });
const loginBody = z.object({ email: z.string().max(254), password: z.string().max(200) });

export function authRoutes(deps: { db: Db; tokens: TokenService; config: Config }): Router {
  const { db, tokens, config } = deps;
  const router = Router();
  const session = async (user: UserRow) => ({ token: await tokens.sign(user), user: publicUser(user) });

  router.post('/register', async (req, res) => {
    const body = parseInput(registerBody, req.body);
    const user = await createUser(db, body);
    if (!user) throw conflict('email_taken', 'an account with this email already exists');
    res.status(201).json(await session(user));
  });

  const loginLimiter = rateLimit({
    windowMs: config.auth.loginRateWindowMs,
    limit: config.auth.loginRateLimit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, res, _next, options) => {
      const retryAfter = Math.ceil(options.windowMs / 1000);
      sendError(
        res,
        new HttpError(429, 'too_many_requests', 'too many login attempts, try again later', {
          'Retry-After': String(retryAfter),
        }),
      );
    },
  });

  router.post('/login', loginLimiter, async (req, res) => {
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

  return router;
}
