// Piscina task: invoice view -> HTML (Handlebars, escaped) -> PDF in Chromium -> temp file.
// The browser is launched once by the main thread; each worker connects to it over CDP and keeps
// one page, recycled after PDF_PAGE_RENDERS renders or any error. JavaScript is off and every request
// from the page is refused, so a template can never fetch a URL.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import Handlebars from 'handlebars';
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer-core';
import { embeddedFontsCss } from './fonts.js';

export interface RenderTask {
  /** The browser to use; a new value means the main thread restarted it. */
  wsEndpoint: string;
  view: unknown;
  outPath: string;
  timeoutMs: number;
  pageRenders: number;
}

/**
 * Posted to the main thread for each page a worker opens. A page outlives the connection that opened
 * it, so when piscina ends this thread (idle, or a render aborted) the main thread closes it.
 */
export interface PageOpened {
  invoicePage: { thread: number; wsEndpoint: string; targetId: string };
}

export interface RenderResult {
  path: string;
  size: number;
  sha256: string;
}

// PDF_TEMPLATES_DIR, handed over by the renderer when it starts the pool.
const { templatesDir } = workerData as { templatesDir: string };
const template = Handlebars.compile(readFileSync(join(templatesDir, 'invoice.hbs'), 'utf8'), { strict: true });
// The page's document: styles and ~300 KB of embedded fonts, parsed once per page. Each render only
// swaps the body, which measured 18 ms per invoice instead of 48 ms for a whole new document.
const shell = `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>${embeddedFontsCss()}\n${readFileSync(join(templatesDir, 'invoice.css'), 'utf8')}</style></head><body></body></html>`;

interface PageDocument {
  fonts: Iterable<{ status: string; load(): Promise<unknown> }>;
}

/**
 * What page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }) asks Chromium for,
 * with the PDF returned in the reply itself. page.pdf streams it back in further IO.read round trips
 * and waits for fonts in one more; an invoice is a few tens of KB and its page has every font loaded
 * already (freshPage), so one message does it (measured: less CPU per invoice in this thread).
 */
const PRINT_TO_PDF = {
  paperWidth: 8.27, // A4 in inches; the template's @page rule sets size and margins
  paperHeight: 11.7,
  marginTop: 0,
  marginBottom: 0,
  marginLeft: 0,
  marginRight: 0,
  printBackground: true,
  preferCSSPageSize: true,
  generateTaggedPDF: true, // accessible PDFs, as puppeteer makes by default
  transferMode: 'ReturnAsBase64',
} as const;

interface InvoicePage {
  page: Page;
  cdp: CDPSession;
  uses: number;
}

let browser: Browser | undefined;
let endpoint: string | undefined;
let current: InvoicePage | undefined;
/**
 * The page that takes over when `current` has done its PDF_PAGE_RENDERS, opened in the background as
 * it retires: a fresh page (new tab, its settings, the shell with ~300 KB of fonts) takes ~0.1 s, which
 * would otherwise fall on the next invoice. Undefined inside the promise if it could not be opened.
 */
let successor: Promise<InvoicePage | undefined> | undefined;

async function connect(wsEndpoint: string): Promise<Browser> {
  if (browser && endpoint === wsEndpoint && browser.connected) return browser;
  // A new browser: pages of the old one go with it.
  current = undefined;
  successor = undefined;
  await browser?.disconnect().catch(() => {});
  browser = await puppeteer.connect({ browserWSEndpoint: wsEndpoint, defaultViewport: null, protocolTimeout: 120_000 });
  endpoint = wsEndpoint;
  return browser;
}

async function freshPage(b: Browser, wsEndpoint: string, timeoutMs: number): Promise<InvoicePage> {
  const p = await b.newPage();
  const cdp = await p.createCDPSession();
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  const opened: PageOpened = { invoicePage: { thread: threadId, wsEndpoint, targetId: targetInfo.targetId } };
  parentPort?.postMessage(opened);
  const page: InvoicePage = { page: p, cdp, uses: 0 };
  try {
    await p.setJavaScriptEnabled(false);
    await p.setRequestInterception(true);
    p.on('request', (request) => {
      if (request.isInterceptResolutionHandled()) return;
      if (request.url().startsWith('data:')) void request.continue();
      else void request.abort('blockedbyclient');
    });
    await p.setContent(shell, { waitUntil: 'load', timeout: timeoutMs });
    // Every face the shell declares is loaded now, once per page, rather than when an invoice first
    // uses it. No render then has a font to wait for: each one used to await document.fonts.ready, which
    // also waited for a screen layout that printing does again (measured in this thread at c = 1:
    // ~8 ms to put the body in before, ~4 ms now, printing ~2 ms longer).
    const unloaded = await p.evaluate(async () => {
      const faces = [...(globalThis as unknown as { document: PageDocument }).document.fonts];
      await Promise.all(faces.map((face) => face.load()));
      return faces.filter((face) => face.status !== 'loaded').length;
    });
    if (unloaded) throw new Error(`${unloaded} of the invoice's fonts did not load`);
  } catch (err) {
    // Not yet anyone's `current`: close it here, or it stays open until this worker ends.
    await closePage(page);
    throw err;
  }
  return page;
}

async function closePage(old: InvoicePage | undefined): Promise<void> {
  await old?.cdp.detach().catch(() => {});
  await old?.page.close().catch(() => {});
}

/** After an error: the page may be in any state, so the next render starts on another. */
async function recyclePage(): Promise<void> {
  const old = current;
  current = undefined;
  await closePage(old);
}

/** After PDF_PAGE_RENDERS: the successor opens and the old page closes while the next invoice is on its way. */
function retirePage(b: Browser, task: RenderTask): void {
  void closePage(current);
  current = undefined;
  successor = freshPage(b, task.wsEndpoint, task.timeoutMs).catch(() => undefined);
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

/**
 * Puts the invoice in the page: one plain Runtime.evaluate (it works with the page's JavaScript off).
 * The HTML goes in as a JSON string literal, which is a valid JavaScript one, so no markup can break
 * out of it; what the markup itself contains was escaped by the template.
 */
async function swapBody(cdp: CDPSession, html: string): Promise<void> {
  const { exceptionDetails } = await cdp.send('Runtime.evaluate', {
    expression: `document.body.innerHTML = ${JSON.stringify(html)}; undefined`,
  });
  if (exceptionDetails) throw new Error(`could not put the invoice in the page: ${exceptionDetails.text}`);
}

async function render(task: RenderTask): Promise<RenderResult> {
  const b = await connect(task.wsEndpoint);
  if (!current) {
    const next = successor;
    successor = undefined;
    current = (await next) ?? (await freshPage(b, task.wsEndpoint, task.timeoutMs));
  }
  const { cdp } = current;
  await swapBody(cdp, template(task.view));
  const { data } = await cdp.send('Page.printToPDF', PRINT_TO_PDF);
  const pdf = Buffer.from(data, 'base64');
  // Synchronous on purpose: this thread does nothing else meanwhile, and a few tens of KB into the page
  // cache take microseconds, where the asynchronous open, write and close are three thread-pool round trips.
  writeFileSync(task.outPath, pdf, { flag: 'wx' });
  if (++current.uses >= task.pageRenders) retirePage(b, task);
  return { path: task.outPath, size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex') };
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
