// Chooses the driver for an area of durable bytes from the configuration: the one place that knows
// both exist.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3/storage.js';
import { Scavenger } from './scavenger.js';
import type { Storage } from './storage.js';

/** The kinds of durable bytes; each is a folder (local) or a key prefix (S3) of its own. */
export type StorageArea = 'uploads' | 'documents' | 'exports';

export function openStorage(config: Config, area: StorageArea, logger: Logger): Storage {
  const scavenger = new Scavenger(config.uploads.gcEveryBytes);
  if (config.storage.driver === 's3') {
    return new S3Storage({ settings: config.storage, area, spoolDir: config.spoolDir, logger, scavenger });
  }
  const dir = area === 'uploads' ? config.uploads.dir : join(config.dataDir, area);
  return new LocalStorage(dir, { scavenger });
}
