// The golden suite inside wasm: every tests/golden/cases/*.json (copied to golden/ by build.sh)
// through the wasm `curve` function, judged as sched-core/tests/golden.rs judges it:
// |a - b| / max(|b|, 1e-6 * max|b| of the series) <= 1e-5.
import init, { curve } from './pkg/wasm_demo.js';

export const BAR = 1e-5;

// Steps where PyTorch's reference is known wrong and sched-core deliberately differs:
// tests/golden/known_reference_bugs.json (copied to golden/ by build.sh), shared with the host
// and firmware checks.

function worst(expected, actual, skip) {
  let scale = 0;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  const floor = Math.max(1e-6 * scale, 2.2250738585072014e-308);
  let w = { error: 0, step: -1 };
  for (let i = 0; i < expected.length; i++) {
    if (skip.includes(i)) continue;
    const e = expected[i], a = actual[i];
    let err = a === e ? 0 : Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (Number.isNaN(err)) err = Infinity;
    if (err > w.error) w = { error: err, step: i, expected: e, actual: a };
  }
  return w;
}

export async function runGolden() {
  await init();
  const names = await (await fetch('golden/index.json')).json();
  const knownBugs = await (await fetch('golden/known_reference_bugs.json')).json();
  const out = [];
  for (const name of names) {
    const c = await (await fetch(`golden/${name}.json`)).json();
    const skip = knownBugs.filter((b) => b.case === name).map((b) => b.step);
    let row;
    try {
      const v = curve(JSON.stringify(c.spec), c.lr, c.momentum, c.steps, c.step_every, new Float32Array(c.metrics ?? []));
      const lr = worst(c.lr_values, v.subarray(0, c.steps), skip);
      const m = worst(c.momentum_values, v.subarray(c.steps), skip);
      row = { name, steps: c.steps, lr: lr.error, momentum: m.error, pass: lr.error <= BAR && m.error <= BAR && v.length === 2 * c.steps, at: lr.error >= m.error ? lr : m };
    } catch (e) {
      row = { name, steps: c.steps, error: String(e), pass: false };
    }
    out.push(row);
  }
  return out;
}
