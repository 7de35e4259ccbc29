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
  assert.equal(kinds[0], 'LambdaLR');
  assert.equal(kinds.at(-1), 'Fixed');
  // Every kind the golden cases use, no more and no less, over the library menu's libraries:
  // the form is generated from sched-core's table, so a new kind shows up here without
  // touching the page.
  const all = [];
  for (const library of await page.locator('#library option').evaluateAll((os) => os.map((o) => o.value))) {
    await page.selectOption('#library', library);
    all.push(...await page.locator('#kind option').allTextContents());
  }
  const cases = path.join(here, '..', '..', 'tests', 'golden', 'cases');
  const golden = new Set(fs.readdirSync(cases).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(cases, f), 'utf8')).spec.kind));
  assert.deepEqual([...all].sort(), [...golden].sort());
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
  assert.match(await page.locator('#error').textContent(), /^kind: unknown variant `StepLr`, expected one of `LambdaLR`, .*`WarmupLR`, `Fixed`, or a library's kind, `library.name` \(e.g. `optax.sgdr_schedule`\) at line 1 column 17$/);
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

test('one recipe from six libraries side by side: each library\'s own curve', async () => {
  const { page, problems, close: done } = await open();
  await page.click('#add-recipe');
  await item(page, 0).locator('button.remove').click();
  assert.equal(await page.locator('#curves li').count(), 6);
  const curves = [];
  for (let i = 0; i < 6; i++) curves.push(await data(page, i));
  for (const d of curves) {
    assert.equal(d.valid, 'true', d.name);
    assert.equal(d.steps, '1000', d.name);
  }
  // The libraries part where their semantics do: timm's cosine runs over the warmup too, so it
  // never reaches 0.1 (its warmup ends at 0.099, its cosine starts at 0.0976); the others peak at
  // 0.1 at step 100; all end near 0.
  assert.ok(curves[1].name.startsWith('timm'));
  close(Number(curves[1].lrMax), 0.099, 1e-5);
  for (const d of curves.filter((_, i) => i !== 1)) close(Number(d.lrMax), 0.1, 2e-6);
  for (const d of curves) assert.ok(Number(d.lrLast) < 1e-6, `${d.name}: ${d.lrLast}`);
  await page.locator('#curves li').nth(1).click();
  assert.ok((await page.locator('#spec').inputValue()).includes('timm.CosineLRScheduler'));
  assert.deepEqual(problems, []);
  await done();
});

test('the study\'s 14 presets overlay; every slider event recomputes and redraws all 14 x 7,035 steps', async () => {
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
  // The timings are recorded (perf.json, README's Numbers), not held to a frame budget: the median was
  // 8.5 ms on a Zen 5 and 16.3 ms on a Zen 3, so a 16 ms assertion failed CI by the machine it drew.
  // The bound below is three frames, there to catch a regression of several times (a per-step
  // allocation, a DOM rebuild per curve), not to measure.
  assert.ok(result.drag_total_ms.median < 50, `median recompute+redraw ${result.drag_total_ms.median} ms (bound 50 ms)`);

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
  console.log(`golden in wasm: ${passed} of ${total} cases pass`);
  assert.deepEqual(failed, []);
  assert.equal(Number(total), cases.length);
  assert.equal(Number(passed), cases.length);
  assert.ok(cases.length >= 112);

  // Param groups: every PyTorch group case through the wasm GroupScheduler.
  await page.waitForSelector('#group-summary[data-total]', { timeout: 60000 });
  const groups = await page.locator('#group-summary').evaluate((e) => ({ ...e.dataset }));
  const groupCases = fs.readdirSync(path.join(here, '..', '..', 'tests', 'golden', 'groups')).filter((f) => f.endsWith('.json'));
  const groupFailed = await page.evaluate(() => window.groupGoldenResults.filter((r) => !r.pass));
  console.log(`param groups in wasm: ${groups.passed} of ${groups.total} cases pass`);
  assert.deepEqual(groupFailed, []);
  assert.equal(Number(groups.total), groupCases.length);
  assert.equal(Number(groups.passed), groupCases.length);
  assert.ok(groupCases.length >= 14);

  // The LR range test: every fastai / Lightning case through the wasm LrFinder, exactly.
  await page.waitForSelector('#lr-summary[data-total]', { timeout: 60000 });
  const lr = await page.locator('#lr-summary').evaluate((e) => ({ ...e.dataset }));
  const lrCases = fs.readdirSync(path.join(here, '..', '..', 'tests', 'golden', 'lr_find', 'cases')).filter((f) => f.endsWith('.json'));
  const lrFailed = await page.evaluate(() => window.lrFindGoldenResults.filter((r) => !r.pass));
  fs.writeFileSync(path.join(artifacts, 'golden_lr_find.json'), JSON.stringify(await page.evaluate(() => window.lrFindGoldenResults), null, 1));
  await page.screenshot({ path: path.join(artifacts, 'golden.png'), fullPage: true });
  console.log(`lr_find golden in wasm: ${lr.passed} of ${lr.total} cases match fastai and Lightning`);
  assert.deepEqual(lrFailed, []);
  assert.equal(Number(lr.total), lrCases.length);
  assert.equal(Number(lr.passed), lrCases.length);
  assert.ok(lrCases.length >= 16);
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

test("the library menu lists a library's kinds; one recipe from two libraries side by side", async () => {
  const { page, problems, close: done } = await open();
  const libraries = await page.locator('#library option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(libraries, ['PyTorch', 'timm', 'transformers', 'optax', 'keras', 'fastai']);
  // optax's warmup + cosine: 10 steps up to 0.01, then down to 0 at step 100 (absolute values).
  await page.selectOption('#library', 'optax');
  const kinds = await page.locator('#kind option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(kinds.length === 13 && kinds.every((k) => k.startsWith('optax.')), kinds.join());
  await page.selectOption('#kind', 'optax.warmup_cosine_decay_schedule');
  await page.selectOption('#mode', 'steps');
  await page.fill('#steps', '101');
  let d = await data(page, 0);
  assert.equal(Number(d.lrFirst), 0);
  close(Number(d.lrMax), f32(0.01));
  assert.equal(Number(d.lrLast), 0);
  // Keras' CosineDecay with the same warmup beside it.
  await page.click('#add');
  await page.selectOption('#library', 'keras');
  await page.selectOption('#kind', 'keras.CosineDecay');
  await page.fill('[data-param=initial_learning_rate]', '0');
  await page.fill('[data-param=decay_steps]', '90');
  await page.fill('[data-param=warmup_target]', '0.01');
  await page.fill('[data-param=warmup_steps]', '10');
  d = await data(page, 1);
  close(Number(d.lrMax), f32(0.01));
  assert.ok(Number(d.lrLast) < 1e-9, d.lrLast);
  assert.equal(await page.locator('#curves li').count(), 2);
  // The first curve is still optax's, and choosing it shows its library.
  await item(page, 0).click();
  assert.equal(await page.locator('#library').inputValue(), 'optax');
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

// ---------- LR finder and bench results ----------
const repo = path.join(here, '..', '..');
const fixture = path.join(here, 'fixtures', 'lr_find.csv');
const fixtureCase = JSON.parse(fs.readFileSync(path.join(repo, 'tests', 'golden', 'lr_find', 'cases', 'cnn_sgd_mom09_seed1.json'), 'utf8'));
const suggestionRows = (page) => page.locator('#finder-suggestions tr').evaluateAll((trs) => trs.map((tr) => ({ ...tr.dataset })));
const csvFile = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });

// Drops a file on the page as a user dragging it from the desktop would.
async function drop(page, name, text, type = 'text/csv') {
  const dt = await page.evaluateHandle(([n, t, ty]) => {
    const d = new DataTransfer();
    d.items.add(new File([t], n, { type: ty }));
    return d;
  }, [name, text, type]);
  await page.dispatchEvent('body', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
}

test('LR finder: a recorded lr_find.csv shows the suggestions sched-core computes, and one goes to the schedule form', async () => {
  const { page, problems, close: done } = await open();
  await page.click('#tab-finder');
  assert.equal(await page.locator('#view-finder').isVisible(), true);
  assert.equal(await page.locator('#view-schedules').isVisible(), false);
  await page.setInputFiles('#finder-file', fixture);
  await page.waitForSelector('#finder-suggestions tr[data-name=valley]');
  const info = await page.locator('#finder-info').evaluate((e) => ({ ...e.dataset }));
  assert.deepEqual(info, { rows: '100', points: '100', status: 'finished', smoothedCheck: 'same' });
  // The fixture is the golden case's curve: the page's suggestions are fastai's and Lightning's.
  const rows = await suggestionRows(page);
  assert.deepEqual(rows.map((r) => r.name), ['valley', 'steep', 'minimum', 'slide', 'lightning']);
  for (const r of rows) {
    const want = fixtureCase.expected.suggestions[r.name];
    assert.equal(Number(r.index), want.index, r.name);
    assert.equal(Number(r.lr), Math.fround(want.lr), r.name);
  }
  // The plot: log lr axis over the file's lrs, every point recorded.
  const plot = await page.locator('#finder-plot').evaluate((e) => ({ ...e.dataset }));
  assert.equal(plot.xlog, 'true');
  assert.equal(plot.points, '100');
  close(Number(plot.xMin), Math.fround(1e-7), 1e-6);
  close(Number(plot.xMax), Math.fround(fixtureCase.expected.lrs.at(-1)), 1e-6);
  // Valley is chosen first (fastai's default); pick steep and send it to the schedule form.
  assert.equal(await page.locator('#finder-lr').inputValue(), '0.0014454398');
  await page.locator('#finder-suggestions tr[data-name=steep]').click();
  assert.equal(await page.locator('input[name=suggestion][value=steep]').isChecked(), true);
  const steep = await page.locator('#finder-lr').inputValue();
  assert.equal(Math.fround(Number(steep)), Math.fround(fixtureCase.expected.suggestions.steep.lr));
  // Hover read-out of a point.
  const box = await page.locator('#finder-plot').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  assert.match(await page.locator('#finder-readout').textContent(), /^step \d+: lr [\d.e-]+, loss [\d.]+, smoothed [\d.]+$/);
  await page.screenshot({ path: path.join(artifacts, 'finder.png'), fullPage: true });
  await page.click('#finder-use');
  assert.equal(await page.locator('#view-schedules').isVisible(), true);
  assert.equal(await page.locator('#lr').inputValue(), steep);
  const d = await data(page, 0);
  assert.equal(Number(d.lrFirst), Math.fround(Number(steep))); // StepLR starts at the optimizer lr
  // A OneCycleLR takes it as max_lr too.
  await page.selectOption('#kind', 'OneCycleLR');
  await page.click('#tab-finder');
  await page.locator('#finder-suggestions tr[data-name=valley]').click();
  await page.click('#finder-use');
  assert.equal(await page.locator('[data-param=max_lr]').inputValue(), '0.0014454398');
  assert.equal(await page.locator('#lr').inputValue(), '0.0014454398');
  close(Number((await data(page, 0)).lrFirst), Math.fround(0.0014454398) / 25, 1e-6); // initial_lr = max_lr / div_factor
  assert.deepEqual(problems, []);
  await done();
});

test('LR finder: a bad CSV is one line naming the problem, and nothing is drawn', async () => {
  const { page, problems, close: done } = await open();
  await page.click('#tab-finder');
  await page.setInputFiles('#finder-file', fixture);
  await page.waitForSelector('#finder-suggestions tr[data-name=valley]');
  const bad = async (name, text, want) => {
    await page.setInputFiles('#finder-file', csvFile(name, text));
    await page.waitForFunction(() => document.getElementById('finder-error').textContent !== '');
    const e = await page.locator('#finder-error').textContent();
    assert.equal(e, want);
    assert.ok(!e.includes('\n'));
    assert.equal(await page.locator('#finder-suggestions tr').count(), 0);
    assert.equal(await page.locator('#finder-plot').getAttribute('data-points'), '0');
    assert.equal(await page.locator('#finder-choice').isVisible(), false);
  };
  const good = fs.readFileSync(fixture, 'utf8').split('\n');
  await bad('bad.csv', [good[0], good[1], good[2].replace(/,[^,]*,([^,]*)$/, ',abc,$1'), ...good.slice(3)].join('\n'),
    'bad.csv: line 3: `loss` is `abc`, not a number');
  await page.setInputFiles('#finder-file', fixture);
  await page.waitForFunction(() => document.getElementById('finder-error').textContent === '');
  await bad('nolr.csv', 'step,learning_rate,loss\n0,1e-7,2.3\n', 'nolr.csv: no `lr` column (the header is `step,learning_rate,loss`); expected columns `lr` and `loss`');
  await bad('short.csv', 'lr,loss\n1e-3,2\n2e-3,1.9\n', 'short.csv: 2 rows; the range test needs between 6 and 10000');
  await page.screenshot({ path: path.join(artifacts, 'finder-error.png') });
  // Dropped on the page (from the schedule view): the finder opens with the same one line.
  await page.click('#tab-schedules');
  await drop(page, 'empty.csv', '');
  // The page reads a dropped file asynchronously: wait (or time out) for its one line, then check the view.
  const emptyError = 'empty.csv: empty file; expected a header with columns `lr` and `loss`';
  await page.waitForFunction((want) => document.getElementById('finder-error').textContent === want, emptyError);
  assert.equal(await page.locator('#view-finder').isVisible(), true);
  assert.equal(await page.locator('#finder-error').textContent(), emptyError);
  // and a good file dropped replaces the error. Columns in any order, extra ones ignored.
  const swapped = good.filter(Boolean).map((l) => { const [s, lr, loss] = l.split(','); return `${loss},${s},${lr},x`; }).join('\n');
  await drop(page, 'swapped.csv', swapped);
  await page.waitForSelector('#finder-suggestions tr[data-name=valley]');
  assert.equal(await page.locator('#finder-error').textContent(), '');
  assert.equal(await page.locator('#finder-info').getAttribute('data-smoothed-check'), 'absent');
  assert.equal(Number(await page.locator('#finder-suggestions tr[data-name=slide]').getAttribute('data-index')), fixtureCase.expected.suggestions.slide.index);
  assert.deepEqual(problems, []);
  await done();
});

const chain = (run) => ['ChainedScheduler', 'SwitchLR'].includes(run.kind);

test("bench results: results.json plots each run's test accuracy and loss beside its lr curve", async () => {
  const { page, problems, close: done } = await open();
  const file = path.join(repo, 'docs', 'results', 'tutorial-3ep-2seeds', 'results.json');
  const results = JSON.parse(fs.readFileSync(file, 'utf8'));
  await page.click('#tab-bench');
  await page.setInputFiles('#bench-file', file);
  await page.waitForSelector('#bench-runs .run');
  const runs = await page.locator('#bench-runs .run').evaluateAll((ds) => ds.map((d) => ({ ...d.dataset, canvases: d.querySelectorAll('canvas').length })));
  const names = [...new Set(results.runs.map((r) => r.name))];
  assert.deepEqual(runs.map((r) => r.name), names);
  assert.equal(runs.length, 14);
  for (const r of runs) {
    assert.equal(r.seeds, '2', r.name);
    assert.equal(r.canvases, 3, r.name);
    // The lr computed here from the spec is the lr host-train trained at, at every epoch's first
    // batch: exactly, except for the chains, whose committed results were computed by an earlier
    // sched-core (before chains stepped in f64) and differ in the last bits, within the golden bar.
    assert.equal(r.lrCheck, chain(r) ? r.lrCheck : 'exact', r.name);
    assert.ok(['exact', 'close'].includes(r.lrCheck) && Number(r.lrError) <= 1e-5, `${r.name}: ${r.lrCheck} ${r.lrError}`);
    const finals = results.runs.filter((p) => p.name === r.name).map((p) => p.final_accuracy);
    close(Number(r.finalAccuracy), (finals[0] + finals[1]) / 2, 1e-12);
  }
  await page.screenshot({ path: path.join(artifacts, 'bench.png'), fullPage: true });
  // The plateau run opens in the schedule form with the test losses it saw.
  await page.locator('#bench-runs .run[data-kind=ReduceLROnPlateau] button.edit').click();
  assert.equal(await page.locator('#view-schedules').isVisible(), true);
  assert.equal(await page.locator('#kind').inputValue(), 'ReduceLROnPlateau');
  const plateau = results.runs.find((p) => p.spec.kind === 'ReduceLROnPlateau');
  assert.equal(await page.locator('#metrics').inputValue(), plateau.epochs.map((e) => e.test_loss).join(', '));
  assert.equal((await data(page, 1)).steps, String(3 * 469));

  // The 3-seed study too (17 runs, some pairs missing), dropped on the page.
  await drop(page, 'results.json', fs.readFileSync(path.join(repo, 'docs', 'results', 'study-15ep-3seeds', 'results.json'), 'utf8'), 'application/json');
  // Read asynchronously, as above: the runs appear, then the view must be the bench view.
  await page.waitForFunction(() => document.querySelectorAll('#bench-runs .run').length === 17);
  assert.equal(await page.locator('#view-bench').isVisible(), true);
  for (const r of await page.locator('#bench-runs .run').evaluateAll((ds) => ds.map((d) => ({ ...d.dataset })))) {
    assert.equal(r.lrCheck, chain(r) ? r.lrCheck : 'exact', r.name);
    assert.ok(['exact', 'close'].includes(r.lrCheck) && Number(r.lrError) <= 1e-5, `${r.name}: ${r.lrCheck} ${r.lrError}`);
  }

  // Not a results.json: one line.
  await page.setInputFiles('#bench-file', { name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{"runs": 3}') });
  await page.waitForFunction(() => document.getElementById('bench-error').textContent !== '');
  assert.equal(await page.locator('#bench-error').textContent(), "x.json: no `runs` list; expected host-train bench's results.json");
  assert.equal(await page.locator('#bench-runs .run').count(), 0);
  await page.setInputFiles('#bench-file', { name: 'y.json', mimeType: 'application/json', buffer: Buffer.from('{"runs": [') });
  await page.waitForFunction(() => document.getElementById('bench-error').textContent.startsWith('y.json'));
  assert.match(await page.locator('#bench-error').textContent(), /^y\.json: not JSON: /);
  assert.deepEqual(problems, []);
  await done();
});

test("the page's run styles are the report plots' (host-train/src/plot/style.rs, results/study.rs)", async () => {
  const { PALETTE, runStyles } = await import('../www/plot.js');
  const src = path.join(here, '..', '..', 'host-train', 'src');
  const style = fs.readFileSync(path.join(src, 'plot', 'style.rs'), 'utf8');
  const pal = style.match(/pub const PALETTE: \[RGBColor; \d+\] = \[([^\]]*)\]/)[1];
  const rust = [...pal.matchAll(/RGBColor\(0x(\w\w), 0x(\w\w), 0x(\w\w)\)/g)].map((m) => `#${m[1]}${m[2]}${m[3]}`.toLowerCase());
  assert.deepEqual(PALETTE, rust);
  // The page keys styles by the presets' order; the report by the known runs' table (RUNS), which
  // starts with them.
  const study = fs.readFileSync(path.join(src, 'results', 'study.rs'), 'utf8');
  const runs = study.match(/pub const RUNS: \[[^\]]*\] = \[([\s\S]*?)\n\];/)[1];
  const known = [...runs.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  assert.equal(known.length, Number(study.match(/pub const RUNS: \[\(&str, Option<f32>\); (\d+)\]/)[1]));
  const { page, problems, close: done } = await open();
  const presets = (await page.locator('#preset option').allTextContents()).slice(1);
  assert.deepEqual(problems, []);
  await done();
  assert.deepEqual(known.slice(0, 14), presets);
  // One Cycle (report style 7: colour 0, dashed) keeps its style among other runs; a new name takes
  // the lowest free number.
  assert.deepEqual(runStyles(['x', 'One Cycle LR Scheduler Batches'], presets),
    [{ color: PALETTE[0], dash: [] }, { color: PALETTE[0], dash: [7, 4] }]);
});
