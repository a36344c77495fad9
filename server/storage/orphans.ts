// Objects without a row. Writes store the object before its row and deletes remove the row before its
// object, so a row never names a missing object; a crash between the two steps leaves an orphan
// object instead, which this sweep removes once it is older than any write still in progress.
import type { Logger } from 'pino';
import type { ListedObject, Storage } from './storage.js';

const BATCH = 500;

/**
 * Deletes every object older than `olderThanSeconds` whose name `known` does not return.
 * Returns how many went.
 */
export async function sweepOrphans(
  storage: Storage,
  known: (names: string[]) => Promise<Set<string>>,
  olderThanSeconds: number,
  logger: Logger,
): Promise<number> {
  const before = Date.now() - olderThanSeconds * 1000;
  let removed = 0;
  let batch: ListedObject[] = [];
  const flush = async () => {
    const rows = await known(batch.map((o) => o.name));
    for (const object of batch) {
      if (rows.has(object.name)) continue;
      await storage.delete(object.name);
      removed++;
    }
    batch = [];
  };
  for await (const object of storage.list()) {
    if (object.modifiedAt.getTime() > before) continue;
    batch.push(object);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length) await flush();
  if (removed) logger.warn({ objects: removed, driver: storage.driver }, 'removed stored objects that had no row');
  return removed;
}
