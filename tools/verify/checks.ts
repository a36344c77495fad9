// The deployment verification checklist (13 checks and the stability items), run against a live server
// through its public API. It creates a customer, a booking (confirmed, so that its invoice is issued)
// and uploads, and removes the uploads and cancels the booking afterwards, which credits the invoice.
import { randomBytes } from 'node:crypto';
import { extractText, getDocumentProxy } from 'unpdf';
import { mediaChunks, mediaHead, mediaSha256, type MediaKind } from '../media.js';
import { upload, type UploadResponse } from '../multipart.js';
import { ApiError, Client, watchMemory, type MemoryWatch } from './client.js';

const MiB = 1024 * 1024;

export interface CheckResult {
  id: string;
  name: string;
  ok: boolean;
  /** The measured figure, as printed. */
  figure: string;
}

export interface VerifyOptions {
  url: string;
  email?: string;
  password?: string;
  token?: string;
  /** Called with progress text during long steps (the CLI shows it on a TTY only). */
  progress?: (text: string) => void;
}

/** The server cannot be checked at all (unreachable, refused credentials): exit code 2. */
export class VerifyAbort extends Error {}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const failure = (err: unknown) => (err instanceof ApiError ? `${err.status} ${err.code}` : (err as Error).message);

async function pdfPages(bytes: Buffer): Promise<number> {
  const doc = await getDocumentProxy(new Uint8Array(bytes));
  return (await extractText(doc)).totalPages;
}

export async function verify(options: VerifyOptions): Promise<CheckResult[]> {
  const client = new Client(options.url);
  const results: CheckResult[] = [];
  const record = (id: string, name: string, ok: boolean, figure: string) => results.push({ id, name, ok, figure });
  const progress = options.progress ?? (() => {});

  // Preconditions: reachable, admin credentials accepted.
  try {
    await client.json('/api/health');
  } catch (err) {
    throw new VerifyAbort(`cannot reach ${options.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  let admin: string;
  try {
    admin = `Bearer ${options.token ?? (await client.json('/api/auth/login', { method: 'POST', body: { email: options.email, password: options.password } })).token}`;
    const me = await client.json('/api/auth/me', { auth: admin });
    client.operator = admin;
    if (me.user.role !== 'admin') throw new VerifyAbort(`${me.user.email} is not an admin`);
  } catch (err) {
    if (err instanceof VerifyAbort) throw err;
    throw new VerifyAbort(`admin credentials refused: ${failure(err)}`);
  }

  const email = `verify-${randomBytes(6).toString('hex')}@example.invalid`;
  const customer = `Bearer ${(await client.json('/api/auth/register', { method: 'POST', body: { email, password: randomBytes(12).toString('hex'), name: 'Deployment Verification' } })).token}`;
  const booking = await client.json('/api/bookings', {
    method: 'POST',
    auth: customer,
    body: {
      serviceCode: (await client.json('/api/services')).items[0].code,
      scheduledAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      notes: 'created by npm run verify',
      billing: {
        name: 'Deployment Verification',
        address: '1 Test Street',
        city: 'Bengaluru',
        state: '29',
        pincode: '560001',
      },
    },
  });
  // The practice confirms it: a tax invoice is issued for confirmed bookings only.
  await client.json(`/api/admin/bookings/${booking.id}`, {
    method: 'PATCH',
    auth: admin,
    body: { status: 'confirmed' },
  });
  const baseline = {
    tempFiles: (await client.json('/api/health/ready', { auth: admin }).catch((e: ApiError) => e)).tempFiles?.pdf ?? 0,
    /** Chromium's process count once idle after rendering (workers keep their pages open). */
    chromium: 0,
  };
  const created: string[] = [];

  const send = async (
    endpoint: 'image' | 'video',
    kind: MediaKind,
    size: number,
    label: string,
  ): Promise<UploadResponse> => {
    const res = await upload(
      client.url(`/api/uploads/${endpoint}`),
      [{ filename: `verify.${kind}`, content: mediaChunks(kind, size) }],
      {
        headers: { Authorization: customer },
        onProgress:
          size >= 50 * MiB
            ? (sent) => progress(`${label}: ${Math.min(100, Math.round((sent / size) * 100))}%`)
            : undefined,
      },
    );
    client.seen.statuses.push(res.status);
    if (res.status === 201) created.push(res.body.name);
    return res;
  };
  const storedMatches = async (res: UploadResponse, kind: MediaKind, size: number) => {
    if (res.status !== 201) return false;
    const stored = await client.download(res.body.url);
    return stored.status === 200 && stored.size === size && stored.sha256 === mediaSha256(kind, size);
  };
  const uploadCheck = async (
    id: string,
    name: string,
    endpoint: 'image' | 'video',
    kind: MediaKind,
    size: number,
    maxGrowth: number,
    allow413 = false,
  ) => {
    const watch = await watchMemory(client);
    const res = await send(endpoint, kind, size, `${name}`);
    const w: MemoryWatch = await watch.stop();
    const growth = w.maxRss - w.startRss;
    if (allow413 && res.status === 413) {
      record(
        id,
        name,
        growth < maxGrowth,
        `413 (over the server's limit), memory +${mib(growth)}, /api/health ${Math.round(w.maxHealthMs)} ms`,
      );
      return { res, w };
    }
    const same = await storedMatches(res, kind, size);
    const healthOk = id !== '3' || w.maxHealthMs < 1000;
    const detail =
      res.status === 201
        ? `sha256 ${same ? 'equal' : 'DIFFERENT'}`
        : `${res.status} ${res.body?.error?.code ?? ''}`.trim();
    record(
      id,
      name,
      res.status === 201 && same && growth < maxGrowth && healthOk,
      `${detail}, memory +${mib(growth)} (limit ${mib(maxGrowth)})${id === '3' ? `, /api/health ${Math.round(w.maxHealthMs)} ms` : ''}`,
    );
    return { res, w };
  };

  // 1-3: uploads
  const small = await send('image', 'png', 256 * 1024, 'small image');
  record(
    '1',
    'Small upload (< 1 MiB image)',
    await storedMatches(small, 'png', 256 * 1024),
    small.status === 201 ? `${small.status}, sha256 equal` : `${small.status} ${small.body?.error?.code ?? ''}`,
  );
  // Warm-up, not a check. Socket reads allocate a buffer each, and V8 collects them only after some
  // tens of MiB of garbage, so a fresh process's RSS climbs once to that plateau. Growth is measured
  // after it, in the steady state a running server is in, where it must not depend on file size.
  await send('video', 'mp4', 64 * MiB, 'warm-up upload');
  const image = await uploadCheck('2', '10 MiB image upload', 'image', 'jpeg', 10 * MiB, 5 * MiB);
  const video = await uploadCheck('3', '100 MiB video upload', 'video', 'mp4', 100 * MiB, 10 * MiB, true);

  // 4-5: invoices
  const invoiceCheck = async (id: string, name: string, path: string, auth: string) => {
    try {
      const res = await client.fetch(path, { headers: { Authorization: auth } });
      const bytes = Buffer.from(await res.arrayBuffer());
      const pages = res.status === 200 ? await pdfPages(bytes) : 0;
      let tempFiles = -1;
      for (let i = 0; i < 20 && tempFiles !== baseline.tempFiles; i++) {
        tempFiles = (await client.json('/api/health/ready', { auth: admin })).tempFiles.pdf;
        if (tempFiles !== baseline.tempFiles) await new Promise((r) => setTimeout(r, 100));
      }
      record(
        id,
        name,
        res.status === 200 && pages === 1 && tempFiles === baseline.tempFiles,
        `${res.status}, ${pages} page PDF, ${bytes.length} bytes, temp files ${tempFiles}/${baseline.tempFiles}`,
      );
    } catch (err) {
      record(id, name, false, failure(err));
    }
  };
  await invoiceCheck('4', 'Customer invoice download', `/api/bookings/${booking.id}/invoice`, customer);
  await invoiceCheck('5', 'Admin invoice download', `/api/admin/bookings/${booking.id}/invoice`, admin);
  baseline.chromium = (await client.memory()).chromium.processes;

  // 6-10: serving the largest stored file
  const large = [video.res, image.res].find((r) => r.status === 201);
  if (!large) {
    for (const [id, name] of [
      ['6', 'Range: first MiB'],
      ['7', 'Range: second MiB'],
      ['8', 'Range beyond the end'],
      ['9', 'Plain request'],
      ['10', 'If-None-Match'],
    ]) {
      record(id!, name!, false, 'no large file could be uploaded');
    }
  } else {
    const { url, size, sha256 } = large.body;
    const kind: MediaKind = large === video.res ? 'mp4' : 'jpeg';
    const head = mediaHead(kind, size, 2 * MiB);
    const first = await client.download(url, { Range: 'bytes=0-1048575' }, MiB);
    record(
      '6',
      'Range: bytes=0-1048575',
      first.status === 206 &&
        first.headers.get('content-range') === `bytes 0-1048575/${size}` &&
        first.headers.get('content-length') === String(MiB) &&
        first.head.equals(head.subarray(0, MiB)),
      `${first.status}, ${first.headers.get('content-range')}, ${first.size} bytes`,
    );
    const second = await client.download(url, { Range: 'bytes=1048576-2097151' }, MiB);
    const joined = Buffer.concat([first.head, second.head]);
    record(
      '7',
      'Range: bytes=1048576-2097151',
      second.status === 206 && second.head.equals(head.subarray(MiB, 2 * MiB)) && joined.equals(head),
      `${second.status}, ${second.size} bytes, parts concatenate to the file head: ${joined.equals(head)}`,
    );
    const beyond = await client.download(url, { Range: `bytes=${size + 10}-` });
    record(
      '8',
      'Range beyond the end',
      beyond.status === 416 && beyond.headers.get('content-range') === `bytes */${size}`,
      `${beyond.status}, ${beyond.headers.get('content-range')}`,
    );
    const plain = await client.download(url);
    const etag = plain.headers.get('etag');
    record(
      '9',
      'Plain request',
      plain.status === 200 &&
        !!etag &&
        plain.headers.get('content-length') === String(size) &&
        plain.headers.get('accept-ranges') === 'bytes' &&
        plain.sha256 === sha256,
      `${plain.status}, ETag ${etag}, ${plain.size} bytes`,
    );
    const cached = await client.download(url, { 'If-None-Match': etag ?? '' });
    record(
      '10',
      'If-None-Match',
      cached.status === 304 && cached.size === 0 && cached.headers.get('etag') === etag,
      `${cached.status}, ${cached.size} body bytes, ETag ${cached.headers.get('etag') ? 'present' : 'missing'}`,
    );
  }

  // 11: memory report
  try {
    const m = await client.memory();
    const ok =
      [m.total, m.used, m.available].every((n) => typeof n === 'number' && n >= 0) &&
      ['ok', 'warning', 'critical'].includes(m.status);
    record('11', '/api/health/memory', ok, `${m.status}, ${m.percent}% of ${mib(m.total)} (${m.limit?.source})`);
  } catch (err) {
    record('11', '/api/health/memory', false, failure(err));
  }

  // 12: five concurrent 50 MiB uploads
  {
    const watch = await watchMemory(client);
    let sent = 0;
    const total = 5 * 50 * MiB;
    const all = await Promise.all(
      Array.from({ length: 5 }, () =>
        upload(client.url('/api/uploads/video'), [{ filename: 'verify.mp4', content: mediaChunks('mp4', 50 * MiB) }], {
          // As the admin: a customer may run only UPLOADS_AT_ONCE uploads at once; admins have no limit.
          headers: { Authorization: admin },
          onProgress: (() => {
            let last = 0;
            return (n: number) => {
              sent += n - last;
              last = n;
              progress(`5 x 50 MiB uploads: ${Math.min(100, Math.round((sent / total) * 100))}%`);
            };
          })(),
        }).catch((err) => ({ status: 0, headers: {}, body: { error: { code: (err as Error).message } } })),
      ),
    );
    const w = await watch.stop();
    for (const r of all) {
      client.seen.statuses.push(r.status);
      if (r.status === 201) created.push(r.body.name);
    }
    const statuses = all.map((r) => r.status);
    record(
      '12',
      'Five concurrent 50 MiB uploads',
      statuses.every((s) => s === 201) && w.maxPercent < 85,
      `statuses ${statuses.join(',')}, peak memory ${w.maxPercent}% (limit 85%)`,
    );
  }

  // 13: twenty concurrent GET /api/bookings
  {
    const times: number[] = [];
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const started = performance.now();
        const res = await client.fetch('/api/bookings', { headers: { Authorization: customer } });
        await res.arrayBuffer();
        times.push(performance.now() - started);
        return res.status;
      }),
    );
    times.sort((a, b) => a - b);
    const p95 = times[Math.ceil(times.length * 0.95) - 1]!;
    record(
      '13',
      'Twenty concurrent GET /api/bookings',
      statuses.every((s) => s === 200) && p95 < 2000,
      `all ${statuses.every((s) => s === 200) ? '200' : statuses.join(',')}, p95 ${Math.round(p95)} ms`,
    );
  }

  // Clean up what was created, then the stability items.
  for (const name of created)
    await client.fetch(`/api/uploads/${name}`, { method: 'DELETE', headers: { Authorization: admin } }).catch(() => {});
  // Cancelled with a credit note: a run in production leaves the books right (an invoice and its
  // credit note, no gap in either series).
  await client
    .json(`/api/admin/bookings/${booking.id}`, {
      method: 'PATCH',
      auth: admin,
      body: { status: 'cancelled', reason: 'deployment verification (npm run verify)' },
    })
    .catch(() => {});
  await invoiceCheck('14', 'Cancellation credits the invoice', `/api/admin/bookings/${booking.id}/credit-note`, admin);

  // 15: an export job (the register and GSTR-1 of today, no PDFs) completes where jobs run (a worker
  // with REDIS_URL, the web process without), and its result downloads with the recorded hash.
  try {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(new Date());
    let job = await client.json('/api/admin/exports', {
      method: 'POST',
      auth: admin,
      body: { from: today, to: today, kind: 'returns' },
    });
    const started = performance.now();
    while (['queued', 'running'].includes(job.state) && performance.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 250));
      job = await client.json(`/api/admin/exports/${job.id}`, { auth: admin });
    }
    const got =
      job.state === 'completed' ? await client.download(job.result.url, { Authorization: admin }, 2) : undefined;
    if (got)
      await client.fetch(`/api/admin/exports/${job.id}`, { method: 'DELETE', headers: { Authorization: admin } });
    record(
      '15',
      'An export job completes and downloads',
      got?.status === 200 && got.sha256 === job.result.sha256 && got.head.toString('latin1') === 'PK',
      got
        ? `${job.state} in ${Math.round(performance.now() - started)} ms, ${got.size} bytes, hash ${got.sha256 === job.result.sha256 ? 'matches' : 'differs'}`
        : `still ${job.state} after 60 s${job.error ? `: ${job.error}` : ' (is a worker running?)'}`,
    );
  } catch (err) {
    record('15', 'An export job completes and downloads', false, failure(err));
  }

  let ready = await client.json('/api/health/ready', { auth: admin }).catch(() => undefined);
  let chromium = (await client.memory()).chromium.processes;
  for (let i = 0; i < 50 && (ready?.tempFiles?.pdf !== baseline.tempFiles || chromium > baseline.chromium); i++) {
    await new Promise((r) => setTimeout(r, 100));
    ready = await client.json('/api/health/ready', { auth: admin }).catch(() => undefined);
    chromium = (await client.memory()).chromium.processes;
  }
  record(
    'S1',
    'Temp files back to their starting count',
    ready?.tempFiles?.pdf === baseline.tempFiles && ready?.tempFiles?.uploadsInProgress === 0,
    `PDF temp files ${ready?.tempFiles?.pdf}/${baseline.tempFiles}, unfinished uploads ${ready?.tempFiles?.uploadsInProgress}`,
  );
  const fivexx = client.seen.statuses.filter((s) => s >= 500);
  record('S2', 'No 5xx seen', fivexx.length === 0, `${fivexx.length} of ${client.seen.statuses.length} responses`);
  record(
    'S3',
    'Chromium process count back to idle',
    chromium <= baseline.chromium,
    `${chromium} processes (idle after rendering: ${baseline.chromium})`,
  );
  return results;
}
