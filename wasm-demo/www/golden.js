// The golden suite inside wasm: every tests/golden/cases/*.json (copied to golden/ by build.sh)
// through the wasm `curve` function, judged by sched-core's golden metric as the host suite
// (sched-core/tests/golden.rs) and the firmware judge it:
// |a - b| / max(|b|, 1e-6 * max|b| of the series) <= 1e-5.
import init, { curve, golden_bar, golden_worst, group_curve, lr_find_sweep } from './pkg/wasm_demo.js';

// sched-core's bar (sched_core::golden::BAR), set once the wasm is loaded.
export let BAR = NaN;

// Steps where PyTorch's reference is known wrong and sched-core deliberately differs:
// tests/golden/known_reference_bugs.json (copied to golden/ by build.sh), shared with the host
// and firmware checks.

// The metric is sched-core's (sched_core::golden, exported by the wasm as golden_worst), the
// one the host suite and the firmware use.
function worst(expected, actual, skip) {
  const [error, step, e, a] = golden_worst(new Float64Array(expected), actual, new Uint32Array(skip));
  return { error, step, expected: e, actual: a };
}

// Every case listed in `dir`/index.json, each made a row by `judge(name, c)`; one that throws is a
// failed row with the error (and `failed(e)`'s fields).
async function eachCase(dir, judge, failed = () => ({})) {
  await init();
  BAR = golden_bar();
  const names = await (await fetch(`${dir}/index.json`)).json();
  const out = [];
  for (const name of names) {
    const c = await (await fetch(`${dir}/${name}.json`)).json();
    try {
      out.push(judge(name, c));
    } catch (e) {
      out.push({ name, steps: c.steps, ...failed(e), error: String(e), pass: false });
    }
  }
  return out;
}

export async function runGolden() {
  await init();
  const knownBugs = await (await fetch('golden/known_reference_bugs.json')).json();
  return eachCase('golden', (name, c) => {
    const skip = knownBugs.filter((b) => b.case === name).map((b) => b.step);
    const v = curve(JSON.stringify(c.spec), c.lr, c.momentum, c.steps, c.step_every, new Float32Array(c.metrics ?? []));
    const lr = worst(c.lr_values, v.subarray(0, c.steps), skip);
    const m = worst(c.momentum_values, v.subarray(c.steps), skip);
    return { name, steps: c.steps, lr: lr.error, momentum: m.error, pass: lr.error <= BAR && m.error <= BAR && v.length === 2 * c.steps, at: lr.error >= m.error ? lr : m };
  });
}

// Param groups inside wasm: every tests/golden/groups/*.json (PyTorch's SGD with 2 or 3 groups,
// the spec's per-group arguments as lists; copied to golden/groups/ by build.sh) through the wasm
// `group_curve`, each group's lr and momentum judged by the same metric.
export async function runGroupGolden() {
  return eachCase('golden/groups', (name, c) => {
    const n = c.steps;
    const v = group_curve(JSON.stringify(c.spec), new Float32Array(c.lr), new Float32Array(c.momentum), n, c.step_every, new Float32Array(c.metrics ?? []));
    let lr = 0, momentum = 0;
    c.lr.forEach((_, g) => {
      lr = Math.max(lr, worst(c.lr_values[g], v.subarray(2 * g * n, (2 * g + 1) * n), []).error);
      momentum = Math.max(momentum, worst(c.momentum_values[g], v.subarray((2 * g + 1) * n, (2 * g + 2) * n), []).error);
    });
    return { name, steps: n, groups: c.lr.length, lr, momentum, pass: lr <= BAR && momentum <= BAR && v.length === 2 * n * c.lr.length };
  });
}

// The LR range test inside wasm: every tests/golden/lr_find/cases/*.json (copied to
// golden/lr_find/ by build.sh), run by the wasm `lr_find_sweep` (sched-core's LrFinder) and
// checked as sched-core/tests/lr_finder.rs checks it against the real fastai and Lightning: the
// same lrs and smoothed losses exactly (f32; NaN equals NaN; fastai keeps recording NaN losses to
// num_iter where LrFinder stops at the first), and for every suggestion the same point and the
// same lr exactly, or none where the reference has none.
const dec = (v) => (v === 'NaN' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
const same = (a, b) => a === b || (Number.isNaN(a) && Number.isNaN(b));

export function checkLrFindCase(c, r) {
  const problems = [];
  const e = c.expected;
  const lrs = e.lrs.map(dec), smoothed = e.smoothed.map(dec);
  const n = r.lrs.length;
  const stoppedOnNaN = r.status === 'non-finite loss' && Number.isNaN(r.smoothed[n - 1]);
  if (n !== lrs.length && !(stoppedOnNaN && smoothed.slice(n).every(Number.isNaN))) {
    problems.push(`recorded ${n} points, fastai ${lrs.length}`);
  } else {
    const lr = [...r.lrs].findIndex((v, i) => v !== Math.fround(lrs[i]));
    if (lr >= 0) problems.push(`lr ${lr}: ${r.lrs[lr]} vs fastai ${lrs[lr]}`);
    const sm = [...r.smoothed].findIndex((v, i) => !same(v, smoothed[i]));
    if (sm >= 0) problems.push(`smoothed loss ${sm}: ${r.smoothed[sm]} vs fastai ${smoothed[sm]}`);
  }
  for (const s of r.suggestions) {
    const ref = e.suggestions[s.name];
    if (ref === null || ref === undefined) {
      if (s.error === undefined) problems.push(`${s.name}: point ${s.index}, reference none`);
    } else if (s.error !== undefined) {
      problems.push(`${s.name}: ${s.error}; reference point ${ref.index}`);
    } else if (s.index !== ref.index || s.lr !== Math.fround(ref.lr)) {
      problems.push(`${s.name}: point ${s.index} lr ${s.lr}, reference point ${ref.index} lr ${ref.lr}`);
    }
  }
  return problems;
}

export async function runLrFindGolden() {
  return eachCase('golden/lr_find', (name, c) => {
    const f = lr_find_sweep(c.start_lr, c.end_lr, c.num_iter, c.mode === 'linear', c.stop_div, new Float32Array(c.losses.map(dec)));
    const lrs = f.suggested_lrs();
    const r = {
      lrs: f.lrs(), smoothed: f.smoothed(), status: f.status(),
      suggestions: JSON.parse(f.suggestions()).map((s, k) => (s.error === undefined ? { ...s, lr: lrs[k] } : s)),
    };
    f.free();
    const problems = checkLrFindCase(c, r);
    return { name, points: r.lrs.length, status: r.status, suggestions: r.suggestions.map((s) => (s.error === undefined ? s.index : null)), problems, pass: problems.length === 0 };
  }, (e) => ({ problems: [String(e)] }));
}
