// Invoice rendering: invoices/s and latency over HTTP at concurrency 1, 2 and 8, beside the raw ceiling
// (the same Chromium driven directly with page.pdf at the same concurrency, no HTTP, no pool) and the
// naive way (launch Chromium per request), with the memory of node and of the Chromium tree.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import puppeteer from 'puppeteer-core';
import { chromiumArgs } from '../server/pdf/browser.js';
import { discoverChrome } from '../server/pdf/discover.js';
import { embeddedFontsCss } from '../workers/fonts.js';
import {
  booking,
  cannonLoad,
  customer,
  fmt,
  MiB,
  sampleMemory,
  serverMemory,
  startServer,
  table,
  verdict,
  type LoadResult,
} from './lib.js';
import { TAX_INVOICE } from '../server/invoices/view-model.js';

const view = {
  document: TAX_INVOICE,
  original: null,
  reason: null,
  number: 'INV/26-27/000001',
  invoiceDate: '29 Nov 2026',
  supplier: {
    name: 'Acme Tax Consultants LLP',
    address: '4th Floor, 12 MG Road, Bengaluru 560001',
    gstin: '29ABCDE1234F1ZW',
    stateCode: '29',
    stateName: 'Karnataka',
  },
  recipient: {
    name: 'Bench Traders',
    address: '1 MG Road',
    city: 'Bengaluru',
    pincode: '560001',
    stateCode: '29',
    stateName: 'Karnataka',
    gstin: null,
  },
  placeOfSupply: { code: '29', name: 'Karnataka' },
  reverseCharge: false,
  intraState: true,
  lines: [
    {
      index: 1,
      description: 'GST returns (monthly)',
      scheduled: '30 Nov 2026',
      sac: '998232',
      rate: '18%',
      halfRate: '9%',
      taxable: '₹1,999.00',
      cgst: '₹179.91',
      sgst: '₹179.91',
      igst: '₹0.00',
      total: '₹2,358.82',
    },
  ],
  totals: {
    taxable: '₹1,999.00',
    cgst: '₹179.91',
    sgst: '₹179.91',
    igst: '₹0.00',
    total: '₹2,358.82',
    words: 'Rupees Two Thousand Three Hundred Fifty Eight and Eighty Two Paise Only',
  },
  notes: null,
};

function fullHtml(): string {
  const body = Handlebars.compile(readFileSync('templates/invoice.hbs', 'utf8'))(view);
  return `<!doctype html><html><head><meta charset="utf-8"><style>${embeddedFontsCss()}\n${readFileSync('templates/invoice.css', 'utf8')}</style></head><body>${body}</body></html>`;
}

const WARM_UP_RENDERS = 200;
// Each concurrency is measured in alternating rounds (HTTP, raw, HTTP, raw, ...), so that drift in what
// the shared machine has to spare falls on both sides alike; each side's rate is renders / seconds
// over all its rounds.
const ROUNDS = 3;
const RENDERS_PER_ROUND = 80;

/**
 * The same browser (same build, same flags) driven directly: one page per concurrent client; each
 * render puts the invoice's body in the page (the per-invoice work any renderer does) and calls
 * page.pdf. No HTTP, no pool, no database, no temp file. page.pdf, as any caller gets it, waits for
 * document.fonts.ready and reads the PDF back in IO.read round trips; the server's pages load their
 * fonts when they open and take the PDF in printToPDF's reply, so HTTP can come out above 1x. Its
 * memory is sampled in a last round of its own: reading smaps_rollup four times a second costs the
 * processes read ~8 % of their rate at c = 1, so no round that is timed is sampled, on either side.
 */
async function rawCeiling(concurrency: number) {
  const exe = (await discoverChrome(process.env.CHROME_PATH))!;
  const browser = await puppeteer.launch({
    executablePath: exe.path,
    headless: exe.headless,
    args: chromiumArgs(exe),
  });
  const html = fullHtml();
  const body = Handlebars.compile(readFileSync('templates/invoice.hbs', 'utf8'))(view);
  const pages = await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const p = await browser.newPage();
      await p.setContent(html);
      return p;
    }),
  );
  const renderAll = async (count: number) => {
    let next = 0;
    await Promise.all(
      pages.map(async (p) => {
        while (next++ < count) {
          await p.evaluate((h) => {
            (globalThis as unknown as { document: { body: { innerHTML: string } } }).document.body.innerHTML = h;
          }, body);
          await p.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
        }
      }),
    );
  };
  await renderAll(WARM_UP_RENDERS); // as the server is warmed up before it is measured
  let renders = 0;
  let seconds = 0;
  return {
    async round(count: number): Promise<void> {
      const started = performance.now();
      await renderAll(count);
      seconds += (performance.now() - started) / 1000;
      renders += count;
    },
    async close(): Promise<{ rate: number; chromePss: { avg: number; peak: number } }> {
      const sampler = sampleMemory(browser.process()!.pid!);
      await renderAll(RENDERS_PER_ROUND);
      const memory = sampler.stop();
      await browser.close();
      return { rate: renders / seconds, chromePss: memory.sumPss };
    },
  };
}

async function naive(total: number): Promise<number> {
  const exe = (await discoverChrome(process.env.CHROME_PATH))!;
  const html = fullHtml();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const browser = await puppeteer.launch({
      executablePath: exe.path,
      headless: exe.headless,
      args: chromiumArgs(exe),
    });
    const p = await browser.newPage();
    await p.setContent(html);
    await p.pdf({ format: 'A4', printBackground: true });
    await browser.close();
  }
  return total / ((performance.now() - started) / 1000);
}

export async function benchInvoices(): Promise<void> {
  // Every measured download is an invoice's first: rendered, stored, then sent from the store. The
  // comparison is with Chromium's own ceiling. Repeats (served from the store) are measured apart.
  const server = await startServer();
  try {
    const auth = await customer(server.url);
    const total = WARM_UP_RENDERS + 3 * (ROUNDS + 1) * RENDERS_PER_ROUND;
    const ids: number[] = [];
    for (let i = 0; i < total; i++) ids.push(await booking(server.url, auth));
    const fresh = ids.map((id) => `/api/bookings/${id}/invoice`);
    let used = 0;
    // autocannon: a much lighter client than node:http, so the server gets the CPU it would in production.
    const render = (connections: number, amount: number) => {
      const paths = fresh.slice(used, (used += amount));
      return cannonLoad(server.url, connections, amount, { Authorization: auth }, paths);
    };
    // Issue the numbers, start the workers, warm Chromium and the JIT (throughput climbs over the first
    // ~200 renders, on this side and on the raw ceiling's alike).
    await render(2, WARM_UP_RENDERS);
    const rows = [];
    const results: Record<number, { rps: number; raw: number }> = {};
    let nodePeakAt1 = 0;
    let memoryAt8: ReturnType<ReturnType<typeof sampleMemory>['stop']> | undefined;
    let rawPssAt8 = { avg: 0, peak: 0 };
    for (const c of [1, 2, 8]) {
      const raw = await rawCeiling(c);
      const rounds: LoadResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        rounds.push(await render(c, RENDERS_PER_ROUND));
        await raw.round(RENDERS_PER_ROUND);
      }
      const { rate: rawRate, chromePss: rawPss } = await raw.close();
      // Memory in a round of its own, with no other browser running: PSS splits shared pages between
      // every process that maps them, so a second Chromium would make this one's look smaller.
      const sampler = sampleMemory(server.pid);
      const memoryRound = await render(c, RENDERS_PER_ROUND);
      const mem = sampler.stop();
      if (c === 1) nodePeakAt1 = mem.nodeRss.peak;
      if (c === 8) memoryAt8 = mem;
      if (c === 8) rawPssAt8 = rawPss;
      const rps = (ROUNDS * RENDERS_PER_ROUND) / rounds.reduce((n, r) => n + r.seconds, 0);
      results[c] = { rps, raw: rawRate };
      rows.push({
        concurrency: c,
        'HTTP invoices/s': fmt.n(rps),
        'p50 / p95 (worst round)': `${fmt.ms(Math.max(...rounds.map((r) => r.p50)))} / ${fmt.ms(Math.max(...rounds.map((r) => r.p95)))}`,
        errors: [...rounds, memoryRound].reduce((n, r) => n + r.errors, 0),
        'raw page.pdf/s': fmt.n(rawRate),
        'HTTP / raw': fmt.ratio(rps / rawRate),
        'node RSS peak': fmt.mib(mem.nodeRss.peak),
        'node+chromium PSS avg/peak': `${fmt.mib(mem.sumPss.avg)} / ${fmt.mib(mem.sumPss.peak)}`,
      });
    }
    const naiveRate = await naive(8);
    // Repeat downloads: 16 stored invoices, each sent from the store, no render.
    const repeats = fresh.slice(0, 16);
    const storedRate = (await cannonLoad(server.url, 8, 1000, { Authorization: auth }, repeats)).rps;
    table(
      `Invoices (compiled server, PDF_WORKERS=2), ${ROUNDS} rounds of ${RENDERS_PER_ROUND} renders a side, alternating`,
      rows,
    );
    const idle = serverMemory(server.pid);
    table('Baselines and memory', [
      { measure: 'naive: launch Chromium per request', value: `${fmt.n(naiveRate)} invoices/s` },
      { measure: 'HTTP at concurrency 8 vs naive', value: fmt.ratio(results[8]!.rps / naiveRate) },
      {
        measure: 'repeat downloads of stored invoices (c=8)',
        value: `${fmt.n(storedRate, 0)} invoices/s (${fmt.ratio(storedRate / results[8]!.rps)} first downloads)`,
      },
      {
        measure: 'node RSS growth per extra concurrent download (c=1 → c=8 peaks)',
        value: fmt.mib((memoryAt8!.nodeRss.peak - nodePeakAt1) / 7),
      },
      {
        measure: 'at c=8: node PSS avg/peak',
        value: `${fmt.mib(memoryAt8!.nodePss.avg)} / ${fmt.mib(memoryAt8!.nodePss.peak)}`,
      },
      {
        measure: 'at c=8: Chromium PSS avg/peak (RSS peak)',
        value: `${fmt.mib(memoryAt8!.chromePss.avg)} / ${fmt.mib(memoryAt8!.chromePss.peak)} (${fmt.mib(memoryAt8!.chromeRss.peak)})`,
      },
      {
        measure: "raw ceiling at c=8: its Chromium PSS avg/peak (the server's idle one beside it)",
        value: `${fmt.mib(rawPssAt8.avg)} / ${fmt.mib(rawPssAt8.peak)}`,
      },
      {
        measure: 'after the run: node PSS / Chromium PSS',
        value: `${fmt.mib(idle.nodePss)} / ${fmt.mib(idle.chromePss)}`,
      },
    ]);
    table('Invoice targets', [
      verdict(
        'HTTP >= 0.9x raw ceiling (c = 1, 2, 8)',
        [1, 2, 8].every((c) => results[c]!.rps / results[c]!.raw >= 0.9),
        [1, 2, 8].map((c) => fmt.ratio(results[c]!.rps / results[c]!.raw)).join(', '),
      ),
      verdict('HTTP >= 10x naive', results[8]!.rps / naiveRate >= 10, fmt.ratio(results[8]!.rps / naiveRate)),
      verdict(
        'node RSS < 5 MiB per concurrent download',
        (memoryAt8!.nodeRss.peak - nodePeakAt1) / 7 < 5 * MiB,
        fmt.mib((memoryAt8!.nodeRss.peak - nodePeakAt1) / 7),
      ),
      verdict(
        'node + Chromium PSS avg < 400 MiB at c=8',
        memoryAt8!.sumPss.avg < 400 * MiB,
        fmt.mib(memoryAt8!.sumPss.avg),
      ),
      verdict(
        'node + Chromium PSS peak < 600 MiB at c=8',
        memoryAt8!.sumPss.peak < 600 * MiB,
        fmt.mib(memoryAt8!.sumPss.peak),
      ),
    ]);
  } finally {
    await server.stop();
  }
}
