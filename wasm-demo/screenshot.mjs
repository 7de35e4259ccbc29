// Redraws docs/wasm-demo.png, the page's screenshot in README and wasm-demo/README.md: four of the
// study's presets (Constant, Step per epoch, One Cycle, Cosine) and V1's per-batch oscillation
// (drawn as a faint band behind them), One Cycle active, the read-out near step 2500.
// Usage, after build.sh: node wasm-demo/screenshot.mjs [out.png]   (Debian's chromium, as the tests)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, '..', 'docs', 'wasm-demo.png'));
const SHOWN = ['Constant Learning Rate', 'Step LR Scheduler Epochs', 'One Cycle LR Scheduler Batches',
  'Cosine Annealing LR Scheduler Epochs', 'Combining Multiple LR Schedulers Epochs V1'];

const server = await serve(path.join(here, 'dist'), 0);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const base = `http://127.0.0.1:${server.address().port}/`;
  await page.goto(base);
  await page.waitForSelector('body[data-ready=true]', { timeout: 20000 });
  // The presets as the page builds them, then only the shown ones, through the page's URL state.
  await page.click('#add-presets');
  const state = JSON.parse(decodeURIComponent(new URL(page.url()).hash.slice(1)));
  const curves = SHOWN.map((n) => state.curves.find((c) => c.name === n));
  if (curves.some((c) => !c)) throw new Error(`screenshot.mjs: a preset is missing: ${SHOWN.join(', ')}`);
  const hash = encodeURIComponent(JSON.stringify({ ...state, curves, active: 2 }));
  await page.goto(base + '#' + hash);
  await page.reload();
  await page.waitForSelector('body[data-ready=true]', { timeout: 20000 });
  const cv = await page.locator('#lr-plot').boundingBox();
  const pad = { l: 64, r: 14 }; // app.js's PAD, for the hover near step 2500 of 7035
  await page.mouse.move(cv.x + pad.l + (cv.width - pad.l - pad.r) * (2500 / 7034), cv.y + cv.height / 2);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`screenshot.mjs: wrote ${out}`);
} finally {
  await browser.close();
  server.close();
}
