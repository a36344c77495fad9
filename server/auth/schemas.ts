// What the auth routes accept and answer: the same schemas validate requests and describe the API.
import { z } from 'zod';
import { isoDateTime } from '../openapi/common.js';

const email = z.email().max(254);
const password = z.string().min(8, 'must be at least 8 characters').max(200);
export const registerBody = z.object({ email, password, name: z.string().trim().min(1).max(120) });
export const loginBody = z.object({ email: z.string().max(254), password: z.string().max(200) });
export const passwordBody = z.object({ currentPassword: z.string().max(200), newPassword: password });

export const userView = z
  .object({
    id: z.number().int(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['customer', 'admin']),
    createdAt: isoDateTime,
  })
  .meta({ id: 'User' });

export const sessionView = z.object({
  token: z.string().meta({ description: 'a bearer token (JWT) for `Authorization: Bearer <token>`' }),
  user: userView,
});
export type UserView = z.infer<typeof userView>;
