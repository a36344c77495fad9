// Piscina task: invoice view -> HTML (Handlebars, escaped) -> PDF in Chromium -> temp file.
// The browser is launched once by the main thread; each worker connects to it over CDP and keeps
// one page, recycled after PDF_PAGE_RENDERS renders or any error. JavaScript is off and every request
// from the page is refused, so a template can never fetch a URL.
import { createWriteStream, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { DigestStream } from '../server/storage/digest-stream.js';
import { embeddedFontsCss } from './fonts.js';

export interface RenderTask {
  /** The browser to use; a new value means the main thread restarted it. */
  wsEndpoint: string;
  view: unknown;
  outPath: string;
  timeoutMs: number;
  pageRenders: number;
}

export interface RenderResult {
  path: string;
  size: number;
  sha256: string;
}

// Compiled from dist/workers or run from workers/: templates/ sits at the project root either way.
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));
const template = Handlebars.compile(readFileSync(join(root, 'templates/invoice.hbs'), 'utf8'), { strict: true });
// The page's document: styles and ~300 KB of embedded fonts, parsed once per page. Each render only
// swaps the body, which measured 18 ms per invoice instead of 48 ms for a whole new document.
const shell = `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>${embeddedFontsCss()}\n${readFileSync(join(root, 'templates/invoice.css'), 'utf8')}</style></head><body></body></html>`;

interface PageDocument {
  body: { innerHTML: string };
  fonts: { ready: Promise<unknown> };
}

let browser: Browser | undefined;
let endpoint: string | undefined;
let page: Page | undefined;
let pageUses = 0;

async function connect(wsEndpoint: string): Promise<Browser> {
  if (browser && endpoint === wsEndpoint && browser.connected) return browser;
  page = undefined;
  await browser?.disconnect().catch(() => {});
  browser = await puppeteer.connect({ browserWSEndpoint: wsEndpoint, defaultViewport: null, protocolTimeout: 120_000 });
  endpoint = wsEndpoint;
  return browser;
}

async function freshPage(b: Browser, timeoutMs: number): Promise<Page> {
  const p = await b.newPage();
  await p.setJavaScriptEnabled(false);
  await p.setRequestInterception(true);
  p.on('request', (request) => {
    if (request.isInterceptResolutionHandled()) return;
    if (request.url().startsWith('data:')) void request.continue();
    else void request.abort('blockedbyclient');
  });
  await p.setContent(shell, { waitUntil: 'load', timeout: timeoutMs });
  pageUses = 0;
  return p;
}

async function recyclePage(): Promise<void> {
  const old = page;
  page = undefined;
  await old?.close().catch(() => {});
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`render timed out after ${ms} ms`), { code: 'RENDER_TIMEOUT' })),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

async function render(task: RenderTask): Promise<RenderResult> {
  const b = await connect(task.wsEndpoint);
  page ??= await freshPage(b, task.timeoutMs);
  const p = page;
  const body = template(task.view);
  // Runs inside the page (through CDP, so it works with the page's JavaScript off).
  await p.evaluate(async (html) => {
    const doc = (globalThis as unknown as { document: PageDocument }).document;
    doc.body.innerHTML = html;
    await doc.fonts.ready;
  }, body);
  const pdf = await p.createPDFStream({
    format: 'A4',
    printBackground: true,
    preferCSSPageSize: true,
    timeout: task.timeoutMs,
  });
  const measure = new DigestStream();
  await pipeline(
    Readable.fromWeb(pdf as import('node:stream/web').ReadableStream<Uint8Array>),
    measure,
    createWriteStream(task.outPath, { flags: 'wx' }),
  );
  if (++pageUses >= task.pageRenders) await recyclePage();
  return { path: task.outPath, size: measure.size, sha256: measure.sha256 };
}

export default async function renderInvoice(task: RenderTask): Promise<RenderResult> {
  try {
    return await withTimeout(render(task), task.timeoutMs);
  } catch (err) {
    // A page that failed (or timed out mid-render) may be in any state: start the next render on a new one.
    await recyclePage();
    await unlink(task.outPath).catch(() => {});
    throw err;
  }
}
