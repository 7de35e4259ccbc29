// The golden suite inside wasm: every tests/golden/cases/*.json (copied to golden/ by build.sh)
// through the wasm `curve` function, judged by sched-core's golden metric as the host suite
// (sched-core/tests/golden.rs) and the firmware judge it:
// |a - b| / max(|b|, 1e-6 * max|b| of the series) <= 1e-5.
import init, { curve, golden_bar, golden_worst } from './pkg/wasm_demo.js';

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

export async function runGolden() {
  await init();
  BAR = golden_bar();
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
