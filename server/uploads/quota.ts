// Per-user limits on uploads: bytes stored (UPLOAD_QUOTA_MB) and uploads at once (UPLOADS_AT_ONCE).
// Both are checked before the body is stored, and the bytes again while it streams. Admins are exempt
// (they upload the practice's own documents). Concurrent uploads are counted by this process.
import type { AuthUser } from '../auth/tokens.js';
import type { Db } from '../db/connect.js';
import { HttpError } from '../http/errors.js';
import { MULTIPART_OVERHEAD } from './receive.js';

export interface Usage {
  bytes: number;
  /** null for an admin: no quota. */
  quotaBytes: number | null;
}

export const quotaExceeded = (quota: number) =>
  new HttpError(
    413,
    'quota_exceeded',
    `this account's uploads may take at most ${quota} bytes in all; delete some first`,
  );

export class UploadQuota {
  private readonly running = new Map<number, number>();

  constructor(
    private readonly db: Db,
    private readonly quotaBytes: number,
    private readonly atOnce: number,
  ) {}

  async usage(user: AuthUser): Promise<Usage> {
    const [row] = await this.db('uploads').where({ user_id: user.id }).sum({ bytes: 'size' });
    return { bytes: Number(row?.bytes ?? 0), quotaBytes: user.role === 'admin' ? null : this.quotaBytes };
  }

  /**
   * Takes one of the user's upload slots and returns the bytes the upload may still store (Infinity
   * for an admin), or throws 429/413. `release` must be called when the upload is over.
   */
  async begin(user: AuthUser, declaredBytes: number): Promise<{ remaining: number; release(): void }> {
    if (user.role === 'admin') return { remaining: Infinity, release: () => {} };
    const now = this.running.get(user.id) ?? 0;
    if (now >= this.atOnce)
      throw new HttpError(429, 'too_many_uploads', `at most ${this.atOnce} uploads at once per account`, {
        'Retry-After': '5',
      });
    this.running.set(user.id, now + 1);
    const release = () => {
      const left = (this.running.get(user.id) ?? 1) - 1;
      if (left > 0) this.running.set(user.id, left);
      else this.running.delete(user.id);
    };
    try {
      const { bytes } = await this.usage(user);
      const remaining = this.quotaBytes - bytes;
      // The declared length includes the form's boundaries and headers: allow them their room.
      if (remaining <= 0 || declaredBytes > remaining + MULTIPART_OVERHEAD) throw quotaExceeded(this.quotaBytes);
      return { remaining, release };
    } catch (err) {
      release();
      throw err;
    }
  }
}
