// The S3 peer for tests and benches: moto_server on a free loopback port, started once per process on
// first use and stopped when the process exits. Under CI=true a missing moto_server fails loudly.
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createS3Client, type S3Settings } from '../../server/storage/s3/client.js';
import { freePort } from './server.js';

export const MOTO_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test-key', AWS_SECRET_ACCESS_KEY: 'test-secret' };

let started: Promise<{ endpoint: string; process: ChildProcess }> | undefined;

async function startMoto(): Promise<{ endpoint: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  child.unref(); // the test process may exit while it runs; the exit hook below stops it
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`moto_server could not start: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code}`)));
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await Promise.race([
      fetch(endpoint).then(
        (r) => r.ok,
        () => false,
      ),
      failed,
    ]);
    if (up) return { endpoint, process: child };
    if (Date.now() > deadline) throw new Error('moto_server did not answer within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The running moto's endpoint (started on first call). The SDK's credential chain gets dummy keys. */
export async function motoEndpoint(): Promise<string> {
  // The SDK's notice that its 2027 releases need Node 22 is for operators (README: Node 24), not tests.
  Object.assign(process.env, MOTO_CREDENTIALS, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  started ??= startMoto();
  return (await started).endpoint;
}

/** Settings for a new, empty bucket on moto, as the server's config would hold them. */
export async function freshBucket(overrides: Partial<S3Settings> = {}): Promise<S3Settings & { client: S3Client }> {
  const settings: S3Settings = {
    driver: 's3',
    bucket: `booking-test-${randomBytes(6).toString('hex')}`,
    prefix: 'app/',
    region: 'us-east-1',
    endpoint: await motoEndpoint(),
    forcePathStyle: true,
    timeoutMs: 5_000,
    maxAttempts: 3,
    partBytes: 5 * 1024 * 1024,
    partsInFlight: 2,
    abandonedUploadAgeSeconds: 86_400,
    ...overrides,
  };
  const client = createS3Client(settings);
  await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  return { ...settings, client };
}

/** The environment that points a server at `bucket` (and gives the SDK its keys). */
export function s3Env(bucket: S3Settings): Record<string, string> {
  return {
    S3_BUCKET: bucket.bucket,
    S3_PREFIX: bucket.prefix,
    S3_REGION: bucket.region,
    S3_ENDPOINT: bucket.endpoint!,
    S3_FORCE_PATH_STYLE: String(bucket.forcePathStyle),
    S3_TIMEOUT_MS: String(bucket.timeoutMs),
    S3_PART_MB: String(bucket.partBytes / (1024 * 1024)),
    S3_PARTS_IN_FLIGHT: String(bucket.partsInFlight),
    ...MOTO_CREDENTIALS,
  };
}
