// The invoice's fonts come from npm (@fontsource), embedded as data: URIs, so a PDF looks the same on
// every machine (₹ and Devanagari included) and the page never fetches anything.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
/** Subsets an Indian invoice needs: Latin, Latin Extended (₹ is U+20B9) and Devanagari. */
const SUBSETS = ['latin', 'latin-ext', 'devanagari'];
const WEIGHTS = [400, 700];

function fontFaces(pkg: string, weight: number): string {
  const cssPath = require.resolve(`${pkg}/${weight}.css`);
  const css = readFileSync(cssPath, 'utf8');
  // Each block in fontsource's CSS is one subset: "/* noto-sans-latin-400-normal */ @font-face {...}".
  const blocks = css
    .split(/(?=\/\* )/)
    .filter((block) => SUBSETS.some((s) => block.startsWith(`/* ${pkg.split('/')[1]}-${s}-${weight}-normal */`)));
  return blocks
    .map((block) =>
      block
        .replace(
          /src: url\(\.\/files\/([\w-]+\.woff2)\) format\('woff2'\)(, url\([^)]+\) format\('woff'\))?/,
          (_m, file: string) => {
            const data = readFileSync(join(dirname(cssPath), 'files', file)).toString('base64');
            return `src: url(data:font/woff2;base64,${data}) format('woff2')`;
          },
        )
        // A PDF is printed once: wait for the font rather than print a fallback.
        .replace('font-display: swap', 'font-display: block'),
    )
    .join('\n');
}

export function embeddedFontsCss(): string {
  return WEIGHTS.map((w) => fontFaces('@fontsource/noto-sans', w)).join('\n');
}
