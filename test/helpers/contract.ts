// Every JSON answer the suite receives from an in-process app is checked against the OpenAPI document:
// the route and status must be documented and the body must match the schema (ajv). A mismatch is
// recorded here and fails the test that received it (contract-hooks.ts).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import express, { type Express, type RequestHandler } from 'express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.js';
import { openApiDocument } from '../../server/openapi/document.js';

type Doc = ReturnType<typeof openApiDocument>;
const DOC_ID = 'https://booking-core.test/openapi.json';

export const contractDocument: Doc = openApiDocument(
  loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'contract-')) }),
  'test',
);

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: DOC_ID, components: contractDocument.components ?? {} });

const withAbsoluteRefs = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(withAbsoluteRefs);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOC_ID}${v}` : withAbsoluteRefs(v),
    ]),
  );
};

/** Document paths as matchers: `/api/bookings/{id}` matches `/api/bookings/7`. */
const routes = Object.entries(contractDocument.paths ?? {}).map(([template, item]) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  item: item as Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>,
}));
// Literal paths first: /api/uploads/image before /api/uploads/{name}.
routes.sort((a, b) => a.template.split('{').length - b.template.split('{').length);

const validators = new Map<string, ReturnType<Ajv2020['compile']>>();

export interface Violation {
  route: string;
  status: number;
  problem: string;
}
// On globalThis: mocha loads the root hooks (contract-hooks.ts) through require and the suites through
// import, which gives this module two instances; both must see one list.
const shared = globalThis as { contractViolations?: Violation[] };
const violations: Violation[] = (shared.contractViolations ??= []);

/** What `method path → status` with `body` breaks in the contract, if anything. */
export function checkAnswer(method: string, path: string, status: number, body: unknown): string | undefined {
  const route = routes.find((r) => r.pattern.test(path));
  if (!route) return status === 404 || status === 405 ? undefined : 'the path is not in the document';
  const operation = route.item[method === 'head' ? 'get' : method];
  if (!operation) return status === 404 || status === 405 ? undefined : `${method.toUpperCase()} is not documented`;
  const response = operation.responses?.[String(status)];
  if (!response) return `status ${status} is not documented`;
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return `status ${status} is documented without a JSON body`;
  const key = `${method} ${route.template} ${status}`;
  let validate = validators.get(key);
  if (!validate) validators.set(key, (validate = ajv.compile(withAbsoluteRefs(schema) as object)));
  if (validate(body)) return undefined;
  return ajv.errorsText(validate.errors);
}

/** The app with every JSON answer checked on its way out. */
export function checkedApp(app: Express): Express {
  const outer = express();
  const record: RequestHandler = (req, res, next) => {
    res.json = function (body: unknown) {
      const problem = checkAnswer(req.method.toLowerCase(), req.originalUrl.split('?')[0]!, res.statusCode, body);
      if (problem) violations.push({ route: `${req.method} ${req.originalUrl}`, status: res.statusCode, problem });
      return Object.getPrototypeOf(res).json.call(res, body);
    };
    next();
  };
  outer.disable('x-powered-by');
  outer.use(record, app);
  return outer;
}

/** The violations recorded since the last call. */
export function takeViolations(): Violation[] {
  return violations.splice(0);
}
