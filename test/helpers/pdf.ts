import type { Express } from 'express';
import request from 'supertest';
import { extractText, getDocumentProxy } from 'unpdf';

/** Parses a PDF with pdf.js (through unpdf): page count and text, whitespace folded. */
export async function readPdf(bytes: Buffer): Promise<{ pages: number; text: string }> {
  const doc = await getDocumentProxy(new Uint8Array(bytes));
  const { totalPages, text } = await extractText(doc, { mergePages: true });
  return { pages: totalPages, text: text.replace(/\s+/g, ' ') };
}

export const isPdf = (bytes: Buffer) => bytes.subarray(0, 5).toString('latin1') === '%PDF-';

function binaryParser(res: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

/** GET with the body collected as bytes (PDFs, ZIPs, uploaded files), whatever the Content-Type. */
export const getBinary = (app: Express | string, path: string) =>
  request(app)
    .get(path)
    .buffer(true)
    .parse(binaryParser as never);
