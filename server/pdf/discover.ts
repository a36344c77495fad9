// Which Chromium renders invoices. CHROME_PATH wins; then Debian's chromium-headless-shell (twice as
// fast and ~40 % leaner than full chromium here); then a full Chromium or Chrome; last, the npm
// package @sparticuz/chromium (an optional dependency) so a machine without any browser still renders.
import { accessSync, constants } from 'node:fs';
import { basename, join } from 'node:path';

export interface ChromeExecutable {
  path: string;
  /** puppeteer's `headless`: 'shell' for the headless shell, true (new headless) for a full browser. */
  headless: 'shell' | true;
  source: string;
  extraArgs: string[];
}

// Debian's /usr/bin/chromium* are shell wrappers that do not exec: the binaries under /usr/lib/chromium
// come first so that the pid we hold (for memory figures and crash handling) is the browser's own.
const CANDIDATES = [
  '/usr/lib/chromium/chromium-headless-shell',
  '/usr/bin/chromium-headless-shell',
  '/usr/lib/chromium/chromium',
  'chromium',
  'chromium-browser',
  'google-chrome-stable',
  'google-chrome',
];

export const INSTALL_HINT =
  "no Chromium found: install Debian's chromium-headless-shell (apt-get install chromium-headless-shell), " +
  'set CHROME_PATH, or reinstall npm packages so the optional @sparticuz/chromium is present';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  if (name.includes('/')) return executable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const kindOf = (path: string): ChromeExecutable['headless'] =>
  basename(path).includes('headless-shell') ? 'shell' : true;

export async function discoverChrome(chromePath?: string): Promise<ChromeExecutable | undefined> {
  if (chromePath) {
    if (!executable(chromePath)) throw new Error(`CHROME_PATH=${chromePath} is not an executable file`);
    return { path: chromePath, headless: kindOf(chromePath), source: 'CHROME_PATH', extraArgs: [] };
  }
  for (const candidate of CANDIDATES) {
    const path = onPath(candidate);
    if (path) return { path, headless: kindOf(path), source: 'system', extraArgs: [] };
  }
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    const path = await sparticuz.executablePath();
    // Its own flags minus those that fight ours (headless mode and sandbox are set by the launcher).
    const extraArgs = sparticuz.args.filter((a: string) => !/^--(headless|no-sandbox|single-process)/.test(a));
    return { path, headless: 'shell', source: '@sparticuz/chromium', extraArgs };
  } catch {
    return undefined;
  }
}
