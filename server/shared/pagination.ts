// Keyset pagination, shared by every list: one query shape (`?limit&cursor`) and one page shape.
import type { Knex } from 'knex';
import { z } from 'zod';

/** `?limit` (1-100, default 20) and `?cursor` (the last id of the previous page). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.coerce.number().int().positive().optional(),
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Keyset pagination, newest first: the cursor is the last id seen, so pages never skip or repeat. */
export async function pageByIdDesc<T extends { id: number }>(
  query: Knex.QueryBuilder,
  idColumn: string,
  limit: number,
  cursor?: number,
): Promise<Page<T>> {
  if (cursor !== undefined) query.andWhere(idColumn, '<', cursor);
  const rows: T[] = await query.orderBy(idColumn, 'desc').limit(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}
