// `npm start` runs this first: compile with tsc only when dist/ is missing or older than a source
// file, so a fresh clone starts with one command and a deployed slug (already built) starts at once.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const entry = 'dist/server/index.js';

function newestMtime(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    newest = Math.max(newest, item.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
const sources = Math.max(newestMtime('server'), newestMtime('workers'), statSync('tsconfig.build.json').mtimeMs);
if (sources > built && !existsSync('node_modules/typescript/bin/tsc')) {
  // A production install without dev dependencies: the slug was built at deploy time; run it as it is.
  console.warn('booking-core: dist/ looks older than the sources, but TypeScript is not installed; starting as built');
} else if (sources > built) {
  console.log('booking-core: compiling TypeScript to dist/ ...');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
