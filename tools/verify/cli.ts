// npm run verify -- --url https://staging.example.com --email ADMIN [--token T] [--json]
// The admin password comes from ADMIN_PASSWORD or a prompt, never the command line (where `ps` and the
// shell's history would keep it).
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { verify, VerifyAbort, type CheckResult } from './checks.js';

const USAGE = `usage: npm run verify -- --url URL (--email ADMIN_EMAIL | --token ADMIN_TOKEN) [--json]

Runs the deployment checklist against a running booking-core server (http or https) and exits non-zero
if any check fails. Defaults: --url http://127.0.0.1:8002; --email from ADMIN_EMAIL. The password is
read from ADMIN_PASSWORD, or asked for on the terminal.`;

/** Asks for the password on the terminal without echoing it. */
async function promptPassword(): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  process.stderr.write('admin password: ');
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

function print(results: CheckResult[]): void {
  for (const r of results) console.log(`${r.ok ? '✓' : '✗'} ${r.id.padStart(2)}. ${r.name}: ${r.figure}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8002' },
      email: { type: 'string', default: process.env.ADMIN_EMAIL },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const password = values.token ? undefined : process.env.ADMIN_PASSWORD || (await promptPassword());
  if (!values.token && !(values.email && password)) {
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
      password,
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
