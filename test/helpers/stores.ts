// Which storage drivers the upload and file suites run against, and a look inside each from the
// outside (the folder, or the bucket through its own client) to check what the server left there.
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  DeleteObjectCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../server/runtime.js';
import { withContext, type TestContext } from './context.js';
import { S3Storage } from '../../server/storage/s3/storage.js';
import { LocalStorage } from '../../server/storage/local.js';
import type { Storage } from '../../server/storage/storage.js';
import { createS3Client } from '../../server/storage/s3/client.js';
import { sha256File } from './server.js';
import { freshBucket, s3Env } from './moto.js';
import { spawnSync } from 'node:child_process';

export type StoreKind = 'local' | 's3';

function motoInstalled(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

/** Local always; S3 (on moto) when moto_server is installed, and always under CI=true (missing: fail). */
export const STORE_KINDS: StoreKind[] = process.env.CI === 'true' || motoInstalled() ? ['local', 's3'] : ['local'];

/** The environment for a context on `kind`: nothing for local, a fresh moto bucket for S3. */
export async function storeEnv(kind: StoreKind): Promise<Record<string, string>> {
  return kind === 's3' ? s3Env(await freshBucket()) : {};
}

/** Runs `fn` with a SQLite context of its own on `kind` storage, closed whatever happens. */
export async function withContextOn<T>(
  kind: StoreKind,
  env: Record<string, string>,
  fn: (ctx: TestContext) => Promise<T>,
): Promise<T> {
  return withContext({ ...(await storeEnv(kind)), ...env }, fn);
}

export interface StoreProbe {
  /** Complete objects, sorted. */
  names(): Promise<string[]>;
  /** Unfinished writes: temp files, spooled parts, incomplete multipart uploads. */
  pending(): Promise<number>;
  sha256(name: string): Promise<string>;
  /** Removes an object behind the server's back (another process, an operator). */
  remove(name: string): Promise<void>;
}

/** A look into one of the runtime's stores: uploads by default, or its documents' or exports' store. */
export function storeProbe(rt: Runtime, storage: Storage = rt.storage): StoreProbe {
  if (!(storage instanceof S3Storage)) {
    if (!(storage instanceof LocalStorage)) throw new Error('a store of neither kind');
    const dir = storage.dir;
    const entries = () => readdirSync(dir).sort();
    return {
      names: async () => entries().filter((f) => !f.startsWith('.')),
      pending: async () => entries().filter((f) => f.startsWith('.')).length,
      sha256: (name) => sha256File(join(dir, name)),
      remove: async (name) => rmSync(join(dir, name)),
    };
  }
  if (rt.config.storage.driver !== 's3') throw new Error('an S3 store on a local configuration');
  const client = createS3Client(rt.config.storage);
  const Bucket = storage.bucket;
  const Prefix = storage.keyPrefix;
  return {
    async names() {
      const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix }));
      return (listed.Contents ?? []).map((o) => o.Key!.slice(Prefix.length)).sort();
    },
    async pending() {
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix }));
      const spooled = readdirSync(rt.config.spoolDir).length;
      return (uploads.Uploads ?? []).length + spooled;
    },
    async sha256(name) {
      const got = await client.send(new GetObjectCommand({ Bucket, Key: Prefix + name }));
      const hash = createHash('sha256');
      for await (const chunk of got.Body as AsyncIterable<Buffer>) hash.update(chunk);
      return hash.digest('hex');
    },
    async remove(name) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: Prefix + name }));
    },
  };
}
