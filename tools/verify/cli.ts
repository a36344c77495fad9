// npm run verify -- --url http://127.0.0.1:8002 --email ADMIN --password ... [--token T] [--json]
import { parseArgs } from 'node:util';
import { verify, VerifyAbort, type CheckResult } from './checks.js';

const USAGE = `usage: npm run verify -- --url URL (--email ADMIN_EMAIL --password ADMIN_PASSWORD | --token ADMIN_TOKEN) [--json]

Runs the deployment checklist against a running booking-core server and exits non-zero if any check fails.
Defaults: --url http://127.0.0.1:8002; --email/--password from ADMIN_EMAIL/ADMIN_PASSWORD.`;

function print(results: CheckResult[]): void {
  for (const r of results) console.log(`${r.ok ? '✓' : '✗'} ${r.id.padStart(2)}. ${r.name}: ${r.figure}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8002' },
      email: { type: 'string', default: process.env.ADMIN_EMAIL },
      password: { type: 'string', default: process.env.ADMIN_PASSWORD },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.token && !(values.email && values.password)) {
    console.error(`booking-core verify: admin credentials are needed\n${USAGE}`);
    return 2;
  }
  // Progress only on a terminal; a log or CI gets the checklist alone.
  const tty = process.stderr.isTTY;
  const progress = tty ? (text: string) => process.stderr.write(`\r\x1b[K  ${text}`) : undefined;
  try {
    const started = Date.now();
    const results = await verify({
      url: values.url!,
      email: values.email,
      password: values.password,
      token: values.token,
      progress,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const failed = results.filter((r) => !r.ok).length;
    const summary = { passed: results.length - failed, failed, seconds: Math.round((Date.now() - started) / 100) / 10 };
    if (values.json) console.log(JSON.stringify({ url: values.url, checks: results, summary }, null, 2));
    else {
      print(results);
      console.log(`verify: ${summary.passed} passed, ${summary.failed} failed (${summary.seconds} s)`);
    }
    return failed ? 1 : 0;
  } catch (err) {
    if (tty) process.stderr.write('\r\x1b[K');
    if (err instanceof VerifyAbort) {
      if (values.json) console.log(JSON.stringify({ url: values.url, error: err.message }));
      console.error(`booking-core verify: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main();
