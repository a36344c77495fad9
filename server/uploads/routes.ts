import type { UploadView } from './openapi.js';
import { Router, type RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';
import { authenticate, currentUser } from '../auth/middleware.js';
import type { AuthUser, TokenService } from '../auth/tokens.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import type { DiskMonitor } from '../health/disk.js';
import { pageByIdDesc, pageQuery } from '../shared/pagination.js';
import { MemoryCachedStorage } from '../files/memory-cache.js';
import { servedObject, serveObject, type ServedObject } from '../files/serve.js';
import { HttpError, notFound, parseInput } from '../http/errors.js';
import { OBJECT_NAME, type Storage } from '../storage/storage.js';
import { ACCEPTED_TYPES, UPLOAD_KINDS, type UploadKind } from './kinds.js';
import { filePath, mayRead, type UploadAccess } from './access.js';
import { quotaExceeded, type UploadQuota } from './quota.js';
import { downloadName, insufficientStorage, receiveUpload } from './receive.js';
import { deleteUploadRow, findUpload, insertUpload, publicUpload, uploadsQuery, type UploadRow } from './repository.js';

interface Deps {
  db: Db;
  tokens: TokenService;
  config: Config;
  storage: Storage;
  disk: DiskMonitor;
  /** Refuses heavy work under memory pressure (503). */
  heavyGuard: RequestHandler;
  access: UploadAccess;
  quota: UploadQuota;
  onUploadBytes?: (kind: UploadKind, bytes: number) => void;
}

export function uploadRoutes(deps: Deps): Router {
  const { db, tokens, config, storage } = deps;
  const router = Router();
  const required = authenticate(tokens);
  const optional = authenticate(tokens, { required: false });
  const { access, quota } = deps;
  /** An upload as its reader sees it: with a URL that reader's browser can use in <img>/<video>. */
  const present = (row: UploadRow, reader: AuthUser): UploadView => ({
    ...publicUpload(row),
    ...access.urlFor(row.name, reader),
  });
  const describe = (row: UploadRow) =>
    servedObject({
      name: row.name,
      size: Number(row.size),
      etag: `"${row.sha256}"`,
      lastModified: new Date(row.created_at),
      contentType: row.content_type,
      // Saved under the client's name with the extension of what the file really is.
      downloadName: downloadName(row.original_name, row.name.split('.').pop()!),
      inline: row.content_type.startsWith('image/') || row.content_type.startsWith('video/'),
      cacheControl: 'private, no-cache', // replaced per request by what the reader's access allows
    });
  // Rows never change once written (names are never reused), so their header values are worked out
  // once per name. On SQLite (one process, by design) the row itself is kept too, and serving needs no
  // database round trip after the first request: deleting evicts. With MySQL several processes may
  // serve, and another one may delete: the row is then read on every request (one primary-key lookup),
  // so a file deleted anywhere is gone everywhere at once. Small files' bytes stay cached either way:
  // they are reached only through a row.
  const rowsStayValid = config.database.kind === 'sqlite';
  const cache = new LRUCache<string, { row: UploadRow; served: ServedObject }>({ max: 10_000 });
  const lookup = async (name: string) => {
    if (!OBJECT_NAME.test(name)) return undefined;
    const cached = cache.get(name);
    if (cached && rowsStayValid) return cached;
    const row = await findUpload(db, name);
    if (!row) {
      if (cached) forget(name);
      return undefined;
    }
    if (cached) return cached;
    const entry = { row, served: describe(row) };
    cache.set(name, entry);
    return entry;
  };
  const forget = (name: string) => {
    cache.delete(name);
    fileBytes.forget(name);
  };
  // The bytes behind the names: small files from memory, the rest streamed from storage.
  const fileBytes = new MemoryCachedStorage(storage, config.uploads.memoryCacheBytes);
  const maxBytes = { image: config.uploads.imageMaxBytes, video: config.uploads.videoMaxBytes };

  for (const kind of UPLOAD_KINDS) {
    router.post(`/${kind}`, required, deps.heavyGuard, async (req, res) => {
      // Refused before a byte is written when the declared body would leave less than the floor free.
      const declared = Number(req.headers['content-length']) || 0;
      if (!(await deps.disk.hasRoomFor(config.uploads.dir, declared))) throw insufficientStorage();
      const user = currentUser(req);
      const slot = await quota.begin(user, declared);
      try {
        // On failure the error handler answers and drains what the client still sends.
        const overQuota = slot.remaining < maxBytes[kind];
        const file = await receiveUpload(req, {
          storage,
          maxBytes: Math.min(maxBytes[kind], slot.remaining),
          tooLarge: overQuota ? () => quotaExceeded(config.uploads.quotaBytes) : undefined,
          accept: ACCEPTED_TYPES[kind],
          onBytes: (bytes) => deps.onUploadBytes?.(kind, bytes),
        });
        try {
          const row = await insertUpload(db, user.id, kind, file);
          res.status(201).location(filePath(row.name)).json(present(row, user));
        } catch (err) {
          await storage.delete(file.name);
          throw err;
        }
      } finally {
        slot.release();
      }
    });
  }

  router.get('/', required, async (req, res) => {
    const q = parseInput(pageQuery, req.query);
    const user = currentUser(req);
    const page = await pageByIdDesc<UploadRow>(uploadsQuery(db, user.id), 'id', q.limit, q.cursor);
    res.json({
      items: page.items.map((row) => present(row, user)),
      nextCursor: page.nextCursor,
      usage: await quota.usage(user),
    });
  });

  router.get('/:name', optional, async (req, res) => {
    const found = await lookup(String(req.params.name));
    if (!found) throw notFound('file');
    const cacheControl = await access.check(req, found.row);
    await serveObject(req, res, fileBytes, { ...found.served, cacheControl });
  });

  router.delete('/:name', required, async (req, res) => {
    const row = (await lookup(String(req.params.name)))?.row;
    if (!row || !mayRead(req.user, row)) throw notFound('file');
    // The row first: a crash between the two leaves an orphan object (swept at start), never a row
    // without its bytes.
    await deleteUploadRow(db, row.id);
    forget(row.name);
    await storage.delete(row.name);
    res.status(204).end();
  });

  router.all('/:name', (_req, _res, next) => next(new HttpError(405, 'method_not_allowed', 'use GET, HEAD or DELETE')));
  return router;
}
