// npm run bench [-- db uploads s3 row-cache files invoices export memory | tunings | soak --minutes N]: runs the chosen benchmarks (all by default)
// and prints each one's table of measured figures, with ratios against baselines measured in the same run.
import { benchDb } from './db.js';
import { benchExport } from './export.js';
import { benchFiles } from './files.js';
import { benchInvoices } from './invoices.js';
import { benchMemory } from './memory.js';
import { benchSoak } from './soak.js';
import { benchTunings } from './tunings.js';
import { benchRowCache } from './row-cache.js';
import { benchS3 } from './s3.js';
import { benchUploads } from './uploads.js';

const BENCHES: Record<string, () => Promise<void>> = {
  db: benchDb,
  uploads: benchUploads,
  s3: benchS3,
  'row-cache': benchRowCache,
  files: benchFiles,
  invoices: benchInvoices,
  export: benchExport,
  memory: benchMemory,
  tunings: benchTunings,
  soak: benchSoak,
};

// `--minutes N` belongs to the soak; its value is not a benchmark's name.
const chosen = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && all[i - 1] !== '--minutes');
// The long soak and the tunings comparison run only when named: `npm run bench -- soak --minutes 20`.
const names = chosen.length ? chosen : Object.keys(BENCHES).filter((n) => n !== 'soak' && n !== 'tunings');
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; choose from: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  const started = Date.now();
  await bench();
  console.log(`\n(${name}: ${Math.round((Date.now() - started) / 1000)} s)`);
}
