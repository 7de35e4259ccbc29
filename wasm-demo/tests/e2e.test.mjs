// End-to-end tests of the page in Debian's headless Chromium (playwright-core, no downloaded
// browser). Run by test.sh after build.sh: `node --test tests/`. Screenshots and measurements go
// to artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const artifacts = path.join(here, '..', 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

let server, browser, base;
const f32 = (x) => Math.fround(x);

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), 'run build.sh first');
  server = await serve(dist, 0);
  base = `http://127.0.0.1:${server.address().port}/`;
  // playwright gives every launch a fresh, empty --user-data-dir of its own.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

// A fresh page that records console errors and uncaught exceptions.
async function open(hash = '') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
  await page.goto(base + hash);
  await page.waitForSelector('body[data-ready=true]', { timeout: 20000 });
  return { page, problems, close: () => context.close() };
}

const item = (page, i) => page.locator(`#curves li[data-index="${i}"]`);
const data = (page, i) => item(page, i).evaluate((el) => ({ ...el.dataset }));

function close(actual, expected, rel = 1e-6) {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${actual} != ${expected}`);
}

test('page loads without console errors and shows the default preset', async () => {
  const { page, problems, close: done } = await open();
  assert.equal(await page.title(), 'sched-core: every PyTorch LR schedule, live');
  assert.equal(await page.locator('#kind').inputValue(), 'StepLR');
  const d = await data(page, 0);
  assert.equal(d.valid, 'true');
  assert.equal(d.steps, '7035');
  // StepLR(step_size=2, gamma=0.95) stepped per epoch: epoch 14 has gamma^7.
  close(Number(d.lrLast), f32(0.001) * 0.95 ** 7);
  const kinds = await page.locator('#kind option').allTextContents();
  assert.equal(kinds.length, 22);
  assert.equal(kinds[0], 'LambdaLR');
  assert.equal(kinds.at(-1), 'Fixed');
  assert.equal(await page.locator('#preset option').count(), 15);
  await page.screenshot({ path: path.join(artifacts, 'default.png') });
  assert.deepEqual(problems, []);
  await done();
});

test('pick a schedule, change a parameter: the plotted data follow', async () => {
  const { page, problems, close: done } = await open();
  await page.selectOption('#kind', 'ExponentialLR');
  assert.equal(await page.locator('[data-param=gamma]').inputValue(), '0.95');
  close(Number((await data(page, 0)).lrLast), f32(0.001) * 0.95 ** 14);
  await page.fill('[data-param=gamma]', '0.5');
  close(Number((await data(page, 0)).lrLast), f32(0.001) * 0.5 ** 14, 1e-5);
  assert.equal(JSON.parse(await page.locator('#spec').inputValue()).gamma, 0.5);

  await page.selectOption('#kind', 'StepLR');
  // PyTorch's defaults fill the form: gamma 0.1; step_size is required (form starts at 2).
  assert.equal(await page.locator('[data-param=gamma]').inputValue(), '0.1');
  assert.equal(await page.locator('[data-param=step_size]').inputValue(), '2');
  await page.fill('[data-param=step_size]', '3');
  close(Number((await data(page, 0)).lrLast), f32(0.001) * 0.1 ** 4, 1e-5);

  // Horizon: per-batch stepping of the same schedule decays every 3 batches.
  await page.selectOption('#stepping', 'batch');
  const d = await data(page, 0);
  assert.equal(Number(d.lrLast), 0); // 0.1^(7034/3) underflows f32 to 0, as PyTorch's f32 would
  await page.selectOption('#mode', 'steps');
  await page.fill('#steps', '10');
  assert.equal((await data(page, 0)).steps, '10');
  close(Number((await data(page, 0)).lrLast), f32(0.001) * 0.1 ** 3, 1e-5);

  // Hover read-out of step and value.
  const box = await page.locator('#lr-plot').boundingBox();
  await page.mouse.move(box.x + box.width - 12, box.y + box.height / 2);
  const ro = page.locator('#readout');
  assert.equal(await ro.getAttribute('data-step'), '9');
  close(Number(await ro.locator('div[data-index="0"]').getAttribute('data-lr')), f32(0.001) * 0.1 ** 3, 1e-5);
  assert.deepEqual(problems, []);
  await done();
});

test('invalid values show the core\'s message next to the field, and no stale curve', async () => {
  const { page, problems, close: done } = await open();
  await page.fill('[data-param=step_size]', '0');
  assert.equal(await page.locator('[data-err-for=step_size]').textContent(), 'StepLR: `step_size` must be >= 1');
  assert.equal(await page.locator('#error').textContent(), 'StepLR: `step_size` must be >= 1');
  assert.equal((await data(page, 0)).valid, 'false');
  assert.equal((await data(page, 0)).lrLast, undefined);
  assert.ok(await page.locator('[data-param=step_size]').evaluate((e) => e.classList.contains('invalid')));
  await page.screenshot({ path: path.join(artifacts, 'invalid.png') });

  await page.fill('[data-param=step_size]', 'abc');
  assert.match(await page.locator('[data-err-for=step_size]').textContent(), /^step_size: invalid type: string "abc", expected an integer >= 1/);

  await page.fill('[data-param=step_size]', '4');
  assert.equal(await page.locator('[data-err-for=step_size]').textContent(), '');
  assert.equal((await data(page, 0)).valid, 'true');

  await page.fill('[data-param=gamma]', '-1');
  assert.equal(await page.locator('[data-err-for=gamma]').textContent(), 'StepLR: `gamma` must be > 0 and finite');

  // A pasted spec: serde's messages, as host-train prints them.
  await page.fill('#spec', '{"kind":"StepLR","step_sise":2}');
  assert.match(await page.locator('#error').textContent(), /^unknown field `step_sise`, expected `step_size` or `gamma`/);
  await page.fill('#spec', '{"kind":"StepLr"}');
  assert.match(await page.locator('#error').textContent(), /^kind: unknown variant `StepLr`, expected one of `LambdaLR`, .*`WarmupLR`, `Fixed` at line 1 column 17$/);
  assert.equal((await data(page, 0)).valid, 'false');
  await page.fill('#spec', '{"kind":"CosineAnnealingLR","T_max":5,"eta_min":0.0001}');
  assert.equal(await page.locator('#kind').inputValue(), 'CosineAnnealingLR');
  assert.equal(await page.locator('[data-param=T_max]').inputValue(), '5');
  assert.equal(await page.locator('#error').textContent(), '');
  assert.equal((await data(page, 0)).valid, 'true');

  await page.fill('#lr', '-0.1');
  assert.equal(await page.locator('#lr-err').textContent(), 'optimizer: `lr` must be >= 0 and finite');
  assert.deepEqual(problems, []);
  await done();
});

test('a shared URL restores the state', async () => {
  const state = {
    curves: [
      { name: 'one cycle', spec: JSON.stringify({ kind: 'OneCycleLR', max_lr: 0.01, total_steps: 1000, three_phase: true }), lr: '0.01', momentum: '0', mode: 'steps', steps: '1000', epochs: '15', batches: '469', stepping: 'batch', metrics: '' },
      { name: 'cos', spec: JSON.stringify({ kind: 'CosineAnnealingLR', T_max: 500 }), lr: '0.01', momentum: '0.9', mode: 'steps', steps: '1000', epochs: '15', batches: '469', stepping: 'batch', metrics: '' },
    ],
    active: 1,
    log: false,
  };
  const { page, problems, close: done } = await open('#' + encodeURIComponent(JSON.stringify(state)));
  assert.equal(await page.locator('#curves li').count(), 2);
  assert.equal(await page.locator('#kind').inputValue(), 'CosineAnnealingLR');
  assert.equal(await page.locator('[data-param=T_max]').inputValue(), '500');
  assert.equal(await page.locator('#name').inputValue(), 'cos');
  assert.equal(await page.locator('#log').isChecked(), false);
  const d0 = await data(page, 0), d1 = await data(page, 1);
  close(Number(d0.lrMax), f32(0.01), 1e-6);
  close(Number(d0.mFirst), f32(0.95), 1e-6);
  close(Number(d1.lrFirst), f32(0.01), 1e-6);
  assert.equal(Number(d1.mLast), f32(0.9));
  // Editing updates the URL, which reopens to the same state.
  await page.fill('[data-param=T_max]', '250');
  const url = await page.evaluate(() => location.href);
  const again = await open(url.slice(base.length));
  assert.equal(await again.page.locator('[data-param=T_max]').inputValue(), '250');
  assert.deepEqual(await data(again.page, 1), await data(page, 1));
  await again.close();

  // CSV of the active curve, in host-train's `curve` format.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'step,lr,momentum');
  assert.equal(csv.length, 1001);
  assert.equal(csv[1], '0,9.99999978e-3,8.99999976e-1'); // f32 0.01 and 0.9, as host-train prints them
  assert.equal(download.suggestedFilename(), 'cos.csv');
  assert.deepEqual(problems, []);
  await done();
});

test('the study\'s 14 presets overlay; recompute + redraw of 14 x 7,035 steps under 16 ms', async () => {
  const { page, problems, close: done } = await open();
  await page.click('#add-presets');
  await item(page, 0).locator('button.remove').click();
  const n = await page.locator('#curves li').count();
  assert.equal(n, 14);
  for (let i = 0; i < n; i++) {
    const d = await data(page, i);
    assert.equal(d.valid, 'true', d.name);
    assert.equal(d.steps, '7035', d.name);
  }
  // Drag the lr slider across: every input event recomputes all 14 curves in wasm and redraws.
  await page.evaluate(() => { window.demo.timings.length = 0; });
  const box = await page.locator('#lr-slider').boundingBox();
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let k = 1; k <= 60; k++) await page.mouse.move(box.x + 2 + (box.width - 4) * k / 60, box.y + box.height / 2);
  await page.mouse.up();
  const drag = await page.evaluate(() => window.demo.timings.map((t) => ({ ...t })));
  assert.ok(drag.length >= 30, `only ${drag.length} updates while dragging`);
  assert.ok(drag.every((t) => t.steps === 14 * 7035));
  const bench = await page.evaluate(() => window.demo.bench(50));
  const stats = (xs) => { const s = [...xs].sort((a, b) => a - b); return { n: s.length, median: s[s.length >> 1], p95: s[Math.floor(s.length * 0.95)], max: s.at(-1) }; };
  const result = {
    drag_total_ms: stats(drag.map((t) => t.total)),
    drag_compute_ms: stats(drag.map((t) => t.compute)),
    drag_draw_ms: stats(drag.map((t) => t.draw)),
    bench_total_ms: stats(bench),
    wasm_bytes: Number(fs.readFileSync(path.join(dist, 'wasm-size.txt'), 'utf8')),
  };
  fs.writeFileSync(path.join(artifacts, 'perf.json'), JSON.stringify(result, null, 2));
  console.log('perf', JSON.stringify(result));
  assert.ok(result.drag_total_ms.median < 16, `median recompute+redraw ${result.drag_total_ms.median} ms`);
  // bench_total_ms (back-to-back updates without a frame in between) is recorded, not asserted:
  // on a loaded 2-core CI machine it swings with the neighbours.

  // The plateau preset reduces its lr on the example losses.
  const plateau = await data(page, 11);
  assert.equal(plateau.name, 'Reduce LR On Plateau Scheduler');
  close(Number(plateau.lrLast), f32(0.001) * f32(0.95), 1e-6); // one reduction, after epoch 10
  await page.fill('#lr', '0.001');
  await item(page, 7).click();
  assert.equal(await page.locator('#kind').inputValue(), 'OneCycleLR');
  const lr = await page.locator('#lr-plot').boundingBox();
  await page.mouse.move(lr.x + lr.width * 0.4, lr.y + lr.height / 2);
  assert.equal(await page.locator('#readout div[data-index]').count(), 14);
  await page.screenshot({ path: path.join(artifacts, 'presets.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await done();
});

test('every golden case passes inside wasm', async () => {
  const { page, problems, close: done } = await open('');
  await page.goto(base + 'golden.html');
  await page.waitForSelector('#summary[data-total]', { timeout: 120000 });
  const { passed, total } = await page.locator('#summary').evaluate((e) => ({ ...e.dataset }));
  const cases = JSON.parse(fs.readFileSync(path.join(dist, 'golden', 'index.json'), 'utf8'));
  const failed = await page.evaluate(() => window.goldenResults.filter((r) => !r.pass));
  fs.writeFileSync(path.join(artifacts, 'golden.json'), JSON.stringify(await page.evaluate(() => window.goldenResults), null, 1));
  await page.screenshot({ path: path.join(artifacts, 'golden.png'), fullPage: true });
  console.log(`golden in wasm: ${passed} of ${total} cases pass`);
  assert.deepEqual(failed, []);
  assert.equal(Number(total), cases.length);
  assert.equal(Number(passed), cases.length);
  assert.ok(cases.length >= 112);
  assert.deepEqual(problems, []);
  await done();
});

test('a log lr axis spanning less than a decade labels several ticks', async () => {
  const { page, problems, close: done } = await open();
  const ticks = (lo, hi) => page.evaluate(([a, b]) => window.pageInternals.logTicks(Math.log10(a), Math.log10(b)), [lo, hi]);
  // A One Cycle curve from 0.0007 to 0.001 (it labelled only 1e-3 before).
  assert.deepEqual(await ticks(0.0007, 0.001), [0.0007, 0.0008, 0.0009, 0.001]);
  assert.deepEqual(await ticks(0.0001, 0.001), [0.0001, 0.0002, 0.0005, 0.001]);
  assert.deepEqual(await ticks(1e-7, 1), [1e-6, 1e-4, 1e-2, 1]);
  const narrow = await ticks(0.00095, 0.001);
  assert.ok(narrow.length >= 2 && narrow.every((v) => v >= 0.00095 && v <= 0.001), String(narrow));
  const labels = await page.evaluate(() => [7e-4, 7.5e-4, 0.001].map(window.pageInternals.logLabel));
  assert.deepEqual(labels, ['7e-4', '7.5e-4', '1e-3']);
  assert.deepEqual(problems, []);
  await done();
});

test("a curve's name follows its kind until the user edits it", async () => {
  const { page, problems, close: done } = await open();
  await page.selectOption('#kind', 'ExponentialLR');
  assert.equal(await page.locator('#name').inputValue(), 'ExponentialLR');
  assert.equal((await data(page, 0)).name, 'ExponentialLR');
  await page.selectOption('#kind', 'StepLR');
  assert.equal(await page.locator('#name').inputValue(), 'StepLR');
  await page.fill('#name', 'my decay');
  await page.selectOption('#kind', 'CosineAnnealingLR');
  assert.equal(await page.locator('#name').inputValue(), 'my decay');
  assert.deepEqual(problems, []);
  await done();
});
