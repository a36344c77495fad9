// npm run openapi [-- FILE]: writes the OpenAPI document (as /api/openapi.json serves it with the
// current configuration) to FILE, openapi.json by default.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../server/config.js';
import { openApiDocument } from '../server/openapi/document.js';

const file = process.argv[2] ?? 'openapi.json';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const document = openApiDocument(loadConfig(), version);
writeFileSync(file, JSON.stringify(document, null, 2) + '\n');
console.log(`openapi: wrote ${file} (${Object.keys(document.paths ?? {}).length} paths)`);
