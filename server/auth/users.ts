import type { UserView } from './schemas.js';
import type { Db } from '../db/connect.js';
import { isUniqueViolation } from '../db/connect.js';
import { nowIso } from '../db/time.js';
import { hashPassword } from './passwords.js';
import type { Role, TokenHolder } from './tokens.js';

export interface UserRow {
  id: number;
  email: string;
  password_hash: string;
  name: string;
  role: Role;
  token_version: number;
  created_at: string;
}

/** The user as the API shows it (auth/schemas.ts). */
export type PublicUser = UserView;

export const publicUser = (u: UserRow): PublicUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.created_at,
});

export const findUserByEmail = (db: Db, email: string) =>
  db<UserRow>('users').where({ email: email.toLowerCase() }).first();

export const findUserById = (db: Db, id: number) => db<UserRow>('users').where({ id }).first();

/** Inserts a user; resolves to undefined when the email is taken (even in a race). */
export async function createUser(
  db: Db,
  input: { email: string; password: string; name: string; role?: Role },
): Promise<UserRow | undefined> {
  const row = {
    email: input.email.toLowerCase(),
    password_hash: await hashPassword(input.password),
    name: input.name,
    role: input.role ?? 'customer',
    token_version: 0,
    created_at: nowIso(),
  };
  try {
    const [id] = await db('users').insert(row);
    return { id: Number(id), ...row };
  } catch (err) {
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
}

/** A token's holder as TokenService checks it: role and token version, or undefined once deleted. */
export async function tokenHolder(db: Db, id: number): Promise<TokenHolder | undefined> {
  const row = await db<UserRow>('users').select('role', 'token_version').where({ id }).first();
  return row && { role: row.role, tokenVersion: Number(row.token_version) };
}

/** Revokes every token of the user issued so far (optionally setting a new password hash at once). */
export async function revokeTokens(db: Db, id: number, passwordHash?: string): Promise<number> {
  await db('users')
    .where({ id })
    .update({ token_version: db.raw('token_version + 1'), ...(passwordHash ? { password_hash: passwordHash } : {}) });
  const row = await db<UserRow>('users').select('token_version').where({ id }).first();
  return Number(row?.token_version ?? 0);
}

/** Makes sure the configured admin exists with the configured password (ADMIN_EMAIL / ADMIN_PASSWORD). */
export async function ensureAdmin(db: Db, admin: { email: string; password: string }): Promise<void> {
  const existing = await findUserByEmail(db, admin.email);
  if (!existing) {
    await createUser(db, { ...admin, name: 'Administrator', role: 'admin' });
    return;
  }
  await db('users')
    .where({ id: existing.id })
    .update({ role: 'admin', password_hash: await hashPassword(admin.password) });
}
