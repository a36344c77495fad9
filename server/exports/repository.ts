// The export_jobs table: every change of state is one conditional UPDATE, so a cancel, a finish and a
// worker's restart can race and exactly one of them wins.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.js';
import { nowIso } from '../db/time.js';
import { pageByIdDesc, type Page } from '../shared/pagination.js';

export const EXPORT_KINDS = ['full', 'returns'] as const;
/** full: the documents' PDFs, the register, GSTR-1 and the manifest. returns: all but the PDFs. */
export type ExportKind = (typeof EXPORT_KINDS)[number];
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'expired';
const LIVE: JobState[] = ['queued', 'running'];

export interface ExportJobRow {
  id: number;
  kind: ExportKind;
  range_from: string;
  range_to: string;
  state: JobState;
  requested_by: number;
  done: number;
  total: number;
  attempts: number;
  error: string | null;
  result_name: string;
  result_size: number | null;
  result_sha256: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
}

export interface JobRequest {
  kind: ExportKind;
  from: string;
  to: string;
  requestedBy: number;
}

const isUniqueViolation = (err: unknown) =>
  /UNIQUE constraint failed|ER_DUP_ENTRY|Duplicate entry/.test((err as Error)?.message ?? '');

export class ExportJobRepository {
  constructor(private readonly db: Db) {}

  find(id: number): Promise<ExportJobRow | undefined> {
    return this.db('export_jobs').where({ id }).first();
  }

  /** A new queued job, or the live one for the same request (`created: false`). */
  async createOrFind(request: JobRequest): Promise<{ job: ExportJobRow; created: boolean }> {
    const activeKey = `${request.kind}:${request.from}:${request.to}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const live = await this.db('export_jobs').where({ active_key: activeKey }).first();
      if (live) return { job: live, created: false };
      try {
        const [id] = await this.db('export_jobs').insert({
          kind: request.kind,
          range_from: request.from,
          range_to: request.to,
          state: 'queued',
          active_key: activeKey,
          requested_by: request.requestedBy,
          result_name: `${randomBytes(16).toString('hex')}.zip`,
          created_at: nowIso(),
        });
        return { job: (await this.find(Number(id)))!, created: true };
      } catch (err) {
        // Another request inserted the same live job between our read and our insert: read it.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new Error('could not create or find the export job');
  }

  list(limit: number, cursor?: number): Promise<Page<ExportJobRow>> {
    return pageByIdDesc(this.db('export_jobs').select('*'), 'id', limit, cursor);
  }

  /** Jobs a process must pick up again (the in-process engine at start-up). */
  live(): Promise<ExportJobRow[]> {
    return this.db('export_jobs').whereIn('state', LIVE).orderBy('id');
  }

  /** Marks an attempt begun; undefined when the job is no longer live (cancelled before it ran). */
  async startAttempt(id: number): Promise<ExportJobRow | undefined> {
    const changed = await this.db('export_jobs')
      .where({ id })
      .whereIn('state', LIVE)
      .update({ state: 'running', started_at: nowIso(), done: 0, error: null, attempts: this.db.raw('attempts + 1') });
    return changed ? this.find(id) : undefined;
  }

  async state(id: number): Promise<JobState | undefined> {
    return (await this.db('export_jobs').where({ id }).first('state'))?.state;
  }

  async progress(id: number, done: number, total: number): Promise<void> {
    await this.db('export_jobs').where({ id, state: 'running' }).update({ done, total });
  }

  /** False when the job was cancelled meanwhile (its result must then go). */
  async complete(id: number, result: { size: number; sha256: string; done: number }, ttlSeconds: number) {
    const finished = new Date();
    const changed = await this.db('export_jobs')
      .where({ id, state: 'running' })
      .update({
        state: 'completed',
        active_key: null,
        done: result.done,
        total: result.done,
        result_size: result.size,
        result_sha256: result.sha256,
        finished_at: finished.toISOString(),
        expires_at: new Date(finished.getTime() + ttlSeconds * 1000).toISOString(),
      });
    return changed > 0;
  }

  async fail(id: number, reason: string): Promise<void> {
    await this.db('export_jobs')
      .where({ id })
      .whereIn('state', LIVE)
      .update({ state: 'failed', active_key: null, error: reason.slice(0, 500), finished_at: nowIso() });
  }

  /** A worker that stops hands its job back: queued again, to start over elsewhere. */
  async handBack(id: number): Promise<void> {
    await this.db('export_jobs').where({ id, state: 'running' }).update({ state: 'queued', done: 0 });
  }

  /** Cancels a live job; false when it was not live. */
  async cancel(id: number): Promise<boolean> {
    const changed = await this.db('export_jobs')
      .where({ id })
      .whereIn('state', LIVE)
      .update({ state: 'cancelled', active_key: null, finished_at: nowIso() });
    return changed > 0;
  }

  /** Removes a finished job's row; false when it is live (cancel it first). */
  async remove(id: number): Promise<boolean> {
    return (await this.db('export_jobs').where({ id }).whereNotIn('state', LIVE).delete()) > 0;
  }

  /** Completed jobs past their expiry, marked expired; returns their result names (to delete). */
  async expire(now = new Date()): Promise<string[]> {
    const due: { id: number; result_name: string }[] = await this.db('export_jobs')
      .where({ state: 'completed' })
      .andWhere('expires_at', '<', now.toISOString())
      .select('id', 'result_name');
    const names: string[] = [];
    for (const row of due) {
      // Two sweeping processes: the one whose update lands deletes the object.
      if (await this.db('export_jobs').where({ id: row.id, state: 'completed' }).update({ state: 'expired' }))
        names.push(row.result_name);
    }
    return names;
  }

  /** Which of `names` belong to a job (the orphan sweep keeps those). */
  async knownNames(names: string[]): Promise<Set<string>> {
    const rows = await this.db('export_jobs').whereIn('result_name', names).select('result_name');
    return new Set(rows.map((r: { result_name: string }) => r.result_name));
  }
}
