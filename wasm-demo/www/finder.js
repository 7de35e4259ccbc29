// The "LR finder" view: a recorded LR range test (host-train lr-find's lr_find.csv, or any CSV
// with `lr` and `loss` columns) analysed by sched-core's LrFinder in wasm (`lr_find_csv`), as
// `host-train lr-find suggest` analyses it: num_iter = the rows, each row recorded in order (the
// range test's smoothing and stop), then every suggestion. Plots the raw and smoothed loss on a
// log lr axis with the suggestions, and sends the chosen lr to the schedule form.
import { lr_find_csv } from './pkg/wasm_demo.js';
import { chart, f32Text, range } from './plot.js';

const $ = (id) => document.getElementById(id);

// One colour per suggestion (Okabe-Ito).
const MARK = { valley: '#D55E00', steep: '#0072B2', minimum: '#009E73', slide: '#CC79A7', lightning: '#E69F00' };
const HELP = {
  valley: "fastai's default: the middle of the longest valley",
  steep: 'the steepest fall of the loss against log(lr)',
  minimum: 'a tenth of the lr at the lowest loss',
  slide: "fastai's interval slide rule",
  lightning: "Lightning's steepest gradient against the lr",
};
const STATUS = {
  finished: 'ran to the last row',
  diverged: 'the smoothed loss exceeded 4 × its minimum (stop_div)',
  'non-finite loss': 'the loss is not finite',
};

let current = null; // the analysed file, or null
let chosen = null; // {name, index, lr}: a suggestion, or a point picked on the plot
let hover = null; // index of the row under the mouse
let mapping = null; // the plot's mapping (for hover)

function message(e) {
  return String(e && e.message ? e.message : e);
}

// Analyses the CSV text; a file the core cannot read leaves no curve and one line of error.
export function loadCsv(text, name = 'lr_find.csv') {
  let r;
  try {
    r = lr_find_csv(text);
  } catch (e) {
    current = null;
    chosen = null;
    render(`${name}: ${message(e)}`);
    return false;
  }
  try {
    const lrs = r.suggested_lrs();
    current = {
      name, lrs: r.lrs(), smoothed: r.smoothed(), status: r.status(),
      rowLrs: r.row_lrs(), rowLosses: r.row_losses(), rowSmoothed: r.row_smoothed(),
      suggestions: JSON.parse(r.suggestions()).map((s, k) => (s.error === undefined ? { ...s, lr: lrs[k] } : s)),
    };
  } finally {
    r.free();
  }
  const first = current.suggestions.find((s) => s.error === undefined);
  chosen = first ? { name: first.name, index: first.index, lr: first.lr } : null;
  hover = null;
  render('');
  return true;
}

export async function openFile(file) {
  return loadCsv(await file.text(), file.name);
}

// The file's own smoothed_loss column against the core's, point by point (NaN equals NaN).
function smoothedCheck(c) {
  if (!c.rowSmoothed.length) return { state: 'absent', text: '' };
  for (let i = 0; i < c.smoothed.length; i++) {
    const a = c.rowSmoothed[i], b = c.smoothed[i];
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) {
      return { state: 'differs', text: `The file's smoothed_loss differs from sched-core's at step ${i}: ${f32Text(a)} in the file, ${f32Text(b)} here.` };
    }
  }
  return { state: 'same', text: `The file's smoothed_loss equals sched-core's at all ${c.smoothed.length} points.` };
}

function render(error) {
  $('finder-error').textContent = error;
  const info = $('finder-info');
  const table = $('finder-suggestions');
  table.textContent = '';
  info.textContent = '';
  for (const k of Object.keys(info.dataset)) delete info.dataset[k];
  $('finder-choice').hidden = !current;
  if (current) {
    const c = current, n = c.lrs.length, rows = c.rowLrs.length;
    const check = smoothedCheck(c);
    const stop = c.status === 'finished' ? `all ${n} rows recorded` : `stopped at step ${n - 1} of ${rows}: ${STATUS[c.status]}`;
    info.textContent = `${c.name}: ${rows} rows (num_iter = ${rows}), ${stop}. ${check.text}`;
    Object.assign(info.dataset, { rows, points: n, status: c.status, smoothedCheck: check.state });
    for (const s of c.suggestions) {
      const tr = table.insertRow();
      tr.dataset.name = s.name;
      const pick = document.createElement('input');
      pick.type = 'radio';
      pick.name = 'suggestion';
      pick.value = s.name;
      pick.setAttribute('aria-label', s.name);
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = MARK[s.name];
      const cells = [tr.insertCell(), tr.insertCell(), tr.insertCell()];
      cells[0].append(pick, sw);
      const name = document.createElement('span');
      name.textContent = s.name;
      name.title = HELP[s.name];
      cells[1].append(name);
      if (s.error !== undefined) {
        pick.disabled = true;
        tr.dataset.error = s.error;
        cells[2].className = 'err-cell';
        cells[2].textContent = s.error;
      } else {
        Object.assign(tr.dataset, { index: s.index, lr: s.lr });
        pick.checked = chosen && chosen.name === s.name;
        cells[2].textContent = `${f32Text(s.lr)}  (step ${s.index})`;
        tr.addEventListener('click', () => { chosen = { name: s.name, index: s.index, lr: s.lr }; render(''); });
      }
    }
    $('finder-lr').value = chosen ? f32Text(chosen.lr) : '';
    $('finder-chosen').textContent = chosen ? (chosen.name === 'point' ? `point at step ${chosen.index}` : chosen.name) : 'none';
  }
  draw();
}

export function draw() {
  const cv = $('finder-plot');
  for (const k of Object.keys(cv.dataset)) delete cv.dataset[k];
  if (!current) {
    chart(cv, { label: 'open an lr_find.csv', xLabel: 'lr (log)', xlog: true, xr: [-7, 1], yr: [0, 1] });
    cv.dataset.points = 0;
    mapping = null;
    return;
  }
  const c = current, n = c.lrs.length;
  // The y axis follows the smoothed loss, as fastai's plot (which shows only that one); the raw
  // losses are clipped to it.
  const yr = range([c.smoothed], false, 0.12);
  // Each suggestion: a dot at its point of the smoothed curve, a dashed line at the lr it
  // suggests (minimum's is a tenth of its point's).
  const marks = c.suggestions.filter((s) => s.error === undefined).map((s, k) => ({
    x: c.lrs[s.index], y: c.smoothed[s.index], line: s.lr, color: MARK[s.name], label: s.name, row: k,
    r: chosen && chosen.name === s.name ? 6 : 4,
  }));
  if (chosen && chosen.name === 'point') marks.push({ x: c.lrs[chosen.index], y: c.smoothed[chosen.index], line: chosen.lr, color: '#1d2330', r: 6, label: 'chosen', row: marks.length });
  mapping = chart(cv, {
    series: [
      { x: c.rowLrs, y: c.rowLosses, color: '#8a93a6', width: 1, alpha: 0.7 },
      { x: c.lrs, y: c.smoothed, color: '#1d2330', width: 2 },
    ],
    xlog: true, yr, marks, xLabel: 'lr (log)',
    hoverX: hover === null ? null : c.rowLrs[hover],
  });
  Object.assign(cv.dataset, { points: n, rows: c.rowLrs.length, xlog: 'true', xMin: 10 ** mapping.xr[0], xMax: 10 ** mapping.xr[1] });
}

function nearestRow(lr) {
  const c = current, t = Math.log10(lr);
  let best = 0;
  for (let i = 1; i < c.rowLrs.length; i++) {
    if (Math.abs(Math.log10(c.rowLrs[i]) - t) < Math.abs(Math.log10(c.rowLrs[best]) - t)) best = i;
  }
  return best;
}

function readout() {
  const el = $('finder-readout');
  if (!current || hover === null) { el.textContent = 'hover the plot to read a point, click to choose its lr'; delete el.dataset.step; return; }
  const c = current, i = hover;
  el.dataset.step = i;
  const recorded = i < c.lrs.length;
  el.textContent = `step ${i}: lr ${f32Text(c.rowLrs[i])}, loss ${f32Text(c.rowLosses[i])}` +
    (recorded ? `, smoothed ${f32Text(c.smoothed[i])}` : ' (after the stop: not recorded)');
}

export function initFinder({ useLr }) {
  $('finder-file').addEventListener('change', async () => {
    const f = $('finder-file').files[0];
    if (f) await openFile(f);
  });
  const cv = $('finder-plot');
  cv.addEventListener('mousemove', (ev) => {
    if (!current || !mapping) return;
    hover = nearestRow(mapping.xAt(ev.clientX));
    draw();
    readout();
  });
  cv.addEventListener('click', (ev) => {
    if (!current || !mapping) return;
    const i = Math.min(nearestRow(mapping.xAt(ev.clientX)), current.lrs.length - 1);
    chosen = { name: 'point', index: i, lr: current.lrs[i] };
    render('');
  });
  $('finder-use').addEventListener('click', () => {
    const t = $('finder-lr').value.trim();
    if (t) useLr(t);
  });
  render('');
  readout();
  return { draw };
}
