// Export jobs from a test's side: ask for one, wait for a state, and reduce a ZIP to what must match
// between a job's result and the streamed export (entry names and the hashes of their bytes).
import { expect } from 'chai';
import request from 'supertest';
import type { App } from './context.js';
import { getBinary } from './pdf.js';
import { sha256 } from './server.js';
import { unzip } from './zip.js';

export interface JobView {
  id: number;
  url: string;
  state: string;
  kind: string;
  progress: { done: number; total: number };
  attempts: number;
  error: string | null;
  result: { size: number; sha256: string; url: string } | null;
}

export async function requestExport(app: App, admin: string, body: Record<string, string>, status = 202) {
  const res = await request(app).post('/api/admin/exports').set('Authorization', admin).send(body).expect(status);
  return res.body as JobView;
}

export async function readJob(app: App, admin: string, id: number): Promise<JobView> {
  return (await request(app).get(`/api/admin/exports/${id}`).set('Authorization', admin).expect(200)).body;
}

/** Polls the job until `done(job)`; every state seen is passed to `seen`. */
export async function waitForJob(
  app: App,
  admin: string,
  id: number,
  done: (job: JobView) => boolean = (job) => !['queued', 'running'].includes(job.state),
  { timeoutMs = 60_000, seen }: { timeoutMs?: number; seen?: (job: JobView) => void } = {},
): Promise<JobView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await readJob(app, admin, id);
    seen?.(job);
    if (done(job)) return job;
    if (Date.now() > until) throw new Error(`export job ${id} still ${job.state} (${JSON.stringify(job.progress)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Name -> SHA-256 of every entry (a name twice fails); the manifest without its generation time. */
export async function zipContent(zip: Buffer): Promise<Record<string, string>> {
  const content: Record<string, string> = {};
  for (const entry of await unzip(zip)) {
    expect(content, `${entry.name} is in the ZIP twice`).to.not.have.property(entry.name);
    if (entry.name === 'manifest.json') {
      const { generatedAt, ...rest } = JSON.parse(entry.data.toString());
      expect(generatedAt).to.be.a('string');
      content[entry.name] = sha256(Buffer.from(JSON.stringify(rest)));
    } else content[entry.name] = sha256(entry.data);
  }
  return content;
}

export async function downloadResult(app: App, admin: string, job: JobView): Promise<Buffer> {
  const res = await getBinary(app, job.result!.url).set('Authorization', admin).expect(200);
  expect(sha256(res.body), 'the download is the recorded result').to.equal(job.result!.sha256);
  return res.body;
}

export async function streamedExport(app: App, admin: string, query: Record<string, string>): Promise<Buffer> {
  return (await getBinary(app, '/api/admin/invoices/export').query(query).set('Authorization', admin).expect(200)).body;
}
