// The "Bench results" view: a `host-train bench` results.json, one row per run: its lr curve
// (computed by the wasm `curve` from the run's spec, lr, momentum, stepping and batches per epoch,
// ReduceLROnPlateau fed the recorded test losses) beside its test accuracy and test loss per
// epoch, every seed, on axes shared by all runs. The computed lr is checked against the lr
// host-train recorded at each epoch's first batch.
import { curve, golden_bar, golden_worst } from './pkg/wasm_demo.js';
import { chart, f32Text, range, runStyles } from './plot.js';

const $ = (id) => document.getElementById(id);
const PAD = { l: 52, r: 8, t: 8, b: 20 };
const DASH = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

let current = null; // {name, protocol, runs: [{name, pairs: [...]}]}

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

// The pairs of a results.json, or a one-line reason it is not one.
function readResults(data) {
  if (!data || typeof data !== 'object' || !Array.isArray(data.runs)) {
    throw new Error("no `runs` list; expected host-train bench's results.json");
  }
  if (!data.runs.length) throw new Error('`runs` is empty');
  return data.runs.map((r, i) => {
    const at = `runs[${i}]`;
    if (!r || typeof r !== 'object') throw new Error(`${at} is not an object`);
    for (const k of ['lr', 'momentum', 'train_images', 'batch_size', 'seed']) {
      if (!isNum(r[k])) throw new Error(`${at}.${k}: expected a number, found ${JSON.stringify(r[k])}`);
    }
    if (typeof r.name !== 'string') throw new Error(`${at}.name: expected a string`);
    if (!r.spec || typeof r.spec !== 'object') throw new Error(`${at}.spec: expected a schedule spec (object)`);
    if (r.step !== 'batch' && r.step !== 'epoch') throw new Error(`${at}.step: expected "batch" or "epoch", found ${JSON.stringify(r.step)}`);
    if (!Array.isArray(r.epochs) || !r.epochs.length) throw new Error(`${at}.epochs: expected a non-empty list`);
    r.epochs.forEach((e, j) => {
      for (const k of ['epoch', 'test_accuracy', 'test_loss', 'lr']) {
        if (!isNum(e && e[k])) throw new Error(`${at}.epochs[${j}].${k}: expected a number, found ${JSON.stringify(e && e[k])}`);
      }
    });
    return r;
  });
}

// The lr the run trained at, every optimizer step, and how it compares with the lr and momentum
// host-train recorded at each epoch's first batch: `exact`, `close` (within sched-core's golden
// bar, by its golden metric: results trained by an earlier sched-core, e.g. before chains stepped
// in f64, differ in the last bits) or `differs`.
function lrCurve(r) {
  const batches = Math.ceil(r.train_images / r.batch_size);
  const epochs = r.epochs.length, steps = epochs * batches;
  const metrics = new Float32Array(r.epochs.map((e) => e.test_loss));
  let v;
  try {
    v = curve(JSON.stringify(r.spec), r.lr, r.momentum, steps, r.step === 'epoch' ? batches : 1, metrics);
  } catch (e) {
    return { batches, error: String(e && e.message ? e.message : e) };
  }
  const lr = v.slice(0, steps);
  const x = new Float32Array(steps);
  for (let s = 0; s < steps; s++) x[s] = s / batches;
  const starts = (a) => new Float32Array(r.epochs.map((_, k) => a[k * batches]));
  const compare = (what, recorded, computed) => {
    const [error, k, e, a] = golden_worst(new Float64Array(recorded), computed, new Uint32Array());
    const exact = recorded.every((x, j) => Math.fround(x) === computed[j]);
    return { what, exact, error, epoch: k + 1, recorded: e, computed: a };
  };
  const checks = [compare('lr', r.epochs.map((e) => e.lr), starts(lr))];
  if (r.epochs.every((e) => isNum(e.momentum))) checks.push(compare('momentum', r.epochs.map((e) => e.momentum), starts(v.subarray(steps))));
  const worst = checks.reduce((a, b) => (b.error > a.error ? b : a));
  const check = checks.every((c) => c.exact) ? 'exact' : worst.error <= golden_bar() ? 'close' : 'differs';
  return { batches, lrSteps: lr, xSteps: x, check, worst };
}

export function loadResults(text, name = 'results.json') {
  let data, pairs;
  try {
    data = JSON.parse(text);
    pairs = readResults(data);
  } catch (e) {
    current = null;
    render(`${name}: ${e instanceof SyntaxError ? 'not JSON: ' : ''}${e.message}`);
    return false;
  }
  const runs = [];
  for (const p of pairs) {
    let run = runs.find((r) => r.name === p.name);
    if (!run) runs.push((run = { name: p.name, pairs: [] }));
    run.pairs.push({ ...p, ...lrCurve(p) });
  }
  const seeds = [...new Set(pairs.map((p) => p.seed))].sort((a, b) => a - b);
  current = { name, runs, seeds, protocol: (data.protocol && typeof data.protocol === 'object' && data.protocol) || {} };
  render('');
  return true;
}

export async function openFile(file) {
  return loadResults(await file.text(), file.name);
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));

let editRun = () => {};
let knownRuns = [];
let colors = [];

function render(error) {
  $('bench-error').textContent = error;
  const box = $('bench-runs');
  box.textContent = '';
  $('bench-info').textContent = '';
  if (!current) return;
  const c = current, pr = c.protocol;
  $('bench-info').textContent = `${c.name}: ${c.runs.length} runs, seeds ${c.seeds.join(', ')}` +
    (isNum(pr.epochs) ? `, ${pr.epochs} epochs` : '') + (isNum(pr.batch_size) ? `, batch ${pr.batch_size}` : '') +
    `. Seeds: ${c.seeds.map((s, k) => `${s} ${['solid', 'dashed', 'dotted', 'dash-dot'][k % 4]}`).join(', ')}. ` +
    'The lr is computed here from each run\'s spec; test accuracy and loss are the recorded ones. x: epochs; axes shared by all runs.';
  // Each run's colour as in the report plots (its dash is taken by the seeds here).
  colors = runStyles(c.runs.map((r) => r.name), knownRuns).map((s) => s.color);
  c.runs.forEach((run, i) => {
    const div = document.createElement('div');
    div.className = 'run';
    const color = colors[i];
    const finals = run.pairs.map((p) => p.epochs.at(-1).test_accuracy);
    const errors = run.pairs.filter((p) => p.error).map((p) => p.error);
    const ok = run.pairs.filter((p) => !p.error);
    const worst = ok.map((p) => p.worst).reduce((a, b) => (b.error > a.error ? b : a), { error: 0 });
    const check = errors.length ? 'error' : ok.every((p) => p.check === 'exact') ? 'exact' : ok.some((p) => p.check === 'differs') ? 'differs' : 'close';
    Object.assign(div.dataset, {
      index: i, name: run.name, kind: run.pairs[0].spec.kind, seeds: run.pairs.length,
      finalAccuracy: mean(finals), lrCheck: check, lrError: worst.error,
    });
    const head = document.createElement('div');
    head.className = 'run-head';
    const title = document.createElement('div');
    title.className = 'run-name';
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = color;
    title.append(sw, document.createTextNode(run.name));
    const stat = document.createElement('div');
    stat.className = 'stat';
    const p0 = run.pairs[0];
    const differ = `the recorded ${worst.what} at epoch ${worst.epoch}'s first batch is ${f32Text(Math.fround(worst.recorded))}, sched-core's here ${f32Text(worst.computed)}`;
    stat.textContent = `${p0.spec.kind}, lr ${p0.lr}, momentum ${p0.momentum}, step per ${p0.step}\n` +
      `final accuracy ${mean(finals).toFixed(4)}` + (finals.length > 1 ? ` ± ${std(finals).toFixed(4)} (${finals.length} seeds)` : '') + '\n' +
      (check === 'exact' ? 'lr and momentum = the recorded ones at every epoch start' :
        check === 'close' ? `lr and momentum within ${worst.error.toExponential(1)} of the recorded (golden bar ${golden_bar()}): ${differ}` : '');
    const err = document.createElement('div');
    err.className = 'err';
    err.style.margin = '0';
    err.textContent = errors[0] || (check === 'differs' ? `${differ} (relative error ${worst.error.toExponential(2)})` : '');
    const edit = document.createElement('button');
    edit.textContent = 'Open in schedule form';
    edit.className = 'edit';
    edit.addEventListener('click', () => editRun(p0));
    head.append(title, stat, err, edit);
    div.append(head);
    for (const key of ['lr', 'acc', 'loss']) {
      const cv = document.createElement('canvas');
      cv.height = 130;
      cv.dataset.plot = key;
      cv.setAttribute('aria-label', `${run.name}: ${key}`);
      div.append(cv);
    }
    box.append(div);
  });
  draw();
}

export function draw() {
  if (!current) return;
  const c = current, maxEpochs = Math.max(...c.runs.flatMap((r) => r.pairs.map((p) => p.epochs.length)));
  const all = c.runs.flatMap((r) => r.pairs);
  const lrR = range(all.filter((p) => !p.error).map((p) => p.lrSteps), true);
  const accR = range(all.map((p) => p.epochs.map((e) => e.test_accuracy)), false);
  const lossR = range(all.map((p) => p.epochs.map((e) => e.test_loss)), false);
  const xr = [0, maxEpochs];
  const xTicks = maxEpochs <= 15 ? Array.from({ length: maxEpochs + 1 }, (_, k) => k) : undefined;
  const seedIndex = (s) => c.seeds.indexOf(s);
  document.querySelectorAll('#bench-runs .run').forEach((div) => {
    const run = c.runs[Number(div.dataset.index)];
    const color = colors[Number(div.dataset.index)];
    const style = (p) => ({ color, dash: DASH[seedIndex(p.seed) % DASH.length], width: 1.5 });
    const epochX = (p) => p.epochs.map((e) => e.epoch);
    const [lrCv, accCv, lossCv] = div.querySelectorAll('canvas');
    chart(lrCv, {
      series: run.pairs.filter((p) => !p.error).map((p) => ({ ...style(p), x: p.xSteps, y: p.lrSteps })),
      ylog: true, xr, yr: lrR, pad: PAD, xTicks, label: 'lr (log), every step',
    });
    chart(accCv, {
      series: run.pairs.map((p) => ({ ...style(p), x: epochX(p), y: p.epochs.map((e) => e.test_accuracy) })),
      xr, yr: accR, pad: PAD, xTicks, yTicks: 4, label: 'test accuracy',
      marks: run.pairs.flatMap((p) => p.epochs.map((e) => ({ x: e.epoch, y: e.test_accuracy, color, r: 2 }))),
    });
    chart(lossCv, {
      series: run.pairs.map((p) => ({ ...style(p), x: epochX(p), y: p.epochs.map((e) => e.test_loss) })),
      xr, yr: lossR, pad: PAD, xTicks, yTicks: 4, label: 'test loss',
      marks: run.pairs.flatMap((p) => p.epochs.map((e) => ({ x: e.epoch, y: e.test_loss, color, r: 2 }))),
    });
  });
}

export function initBench({ onEditRun, known = [] }) {
  editRun = onEditRun;
  knownRuns = known;
  $('bench-file').addEventListener('change', async () => {
    const f = $('bench-file').files[0];
    if (f) await openFile(f);
  });
  return { draw };
}
