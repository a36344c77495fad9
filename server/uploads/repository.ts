import type { Db } from '../db/connect.js';
import { nowIso } from '../db/time.js';
import type { UploadKind } from './kinds.js';
import type { ReceivedFile } from './receive.js';

export interface UploadRow {
  id: number;
  user_id: number;
  kind: UploadKind;
  name: string;
  original_name: string;
  size: number;
  content_type: string;
  sha256: string;
  created_at: string;
}

export async function insertUpload(db: Db, userId: number, kind: UploadKind, file: ReceivedFile): Promise<UploadRow> {
  const row = {
    user_id: userId,
    kind,
    name: file.name,
    original_name: file.originalName,
    size: file.size,
    content_type: file.contentType,
    sha256: file.sha256,
    created_at: nowIso(),
  };
  const [id] = await db('uploads').insert(row);
  return { id: Number(id), ...row };
}

export const findUpload = (db: Db, name: string) => db<UploadRow>('uploads').where({ name }).first();

export const uploadsQuery = (db: Db, userId: number) => db('uploads').where({ user_id: userId }).select('*');

export const deleteUploadRow = (db: Db, id: number) => db('uploads').where({ id }).delete();

export function publicUpload(u: UploadRow) {
  return {
    id: u.id,
    name: u.name,
    url: `/api/uploads/${u.name}`,
    kind: u.kind,
    size: Number(u.size),
    contentType: u.content_type,
    sha256: u.sha256,
    originalName: u.original_name,
    createdAt: u.created_at,
  };
}

/** Which of `names` have a row (the orphan sweep keeps those). */
export async function knownUploadNames(db: Db, names: string[]): Promise<Set<string>> {
  const rows = await db('uploads').whereIn('name', names).select('name');
  return new Set(rows.map((row: { name: string }) => row.name));
}
