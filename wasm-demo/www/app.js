// The page: a form over sched-core's parameter table, curves computed by the wasm `curve`
// function, drawn on two canvases. All state lives in `state` and in the URL hash.
import init, { params, presets, curve } from './pkg/wasm_demo.js';
import { runStyles, swatchBackground, setupCanvas, niceTicks, logTicks, logLabel } from './plot.js';
import { initFinder, loadCsv } from './finder.js';
import { initBench, loadResults } from './bench.js';

await init();
const TABLE = JSON.parse(params());
const PRESETS = JSON.parse(presets());
const $ = (id) => document.getElementById(id);
const MAX_STEPS = 2_000_000;
// The study's run names, whose styles are fixed (as in the report plots).
const KNOWN = PRESETS.runs.map((r) => r.name);
const styles = () => runStyles(state.curves.map((c) => c.name), KNOWN);
// The schedule panels' margins: the axis title above the plot, tick labels and the x-axis title below,
// so that no text sits on a curve.
const PAD = { l: 64, r: 14, t: 22, b: 42 };

// ---------- state ----------
function presetCurve(run) {
  return {
    name: run.name, spec: JSON.stringify(run.schedule), lr: String(run.lr), momentum: String(run.momentum),
    mode: 'epochs', epochs: String(PRESETS.epochs), batches: String(PRESETS.batches_per_epoch),
    stepping: run.step, steps: '1000', metrics: run.schedule.kind === 'ReduceLROnPlateau' ? exampleMetrics(PRESETS.epochs) : '',
  };
}

// An illustrative test loss for ReduceLROnPlateau (the study's own losses are not recorded):
// falls for 5 epochs, then wobbles on a plateau.
function exampleMetrics(n) {
  const head = [0.8, 0.62, 0.52, 0.47, 0.45];
  const out = [];
  for (let j = 0; j < n; j++) out.push(j < head.length ? head[j] : +(0.446 + 0.002 * ((j * 7) % 3)).toFixed(3));
  return out.join(', ');
}

function defaultState() {
  return { curves: [presetCurve(PRESETS.runs[1])], active: 0, log: true };
}

function loadState() {
  const h = location.hash.slice(1);
  if (h) {
    try {
      const s = JSON.parse(decodeURIComponent(h));
      if (Array.isArray(s.curves) && s.curves.length) {
        const base = defaultState().curves[0];
        s.curves = s.curves.map((c) => ({ ...base, ...c }));
        s.active = Math.min(Math.max(0, s.active | 0), s.curves.length - 1);
        s.log = s.log !== false;
        return s;
      }
    } catch (e) { console.warn('ignoring malformed URL state', e.message); }
  }
  return defaultState();
}

let state = loadState();
const active = () => state.curves[state.active];

function saveUrl() {
  history.replaceState(null, '', '#' + encodeURIComponent(JSON.stringify(state)));
}

// ---------- computing ----------
const num = (t) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(t) ? Number(t) : NaN);

function horizon(c) {
  if (c.mode === 'steps') {
    const steps = num(c.steps);
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= MAX_STEPS)) return { error: `steps must be an integer in [1, ${MAX_STEPS}]` };
    return { steps, stepEvery: 1 };
  }
  const epochs = num(c.epochs), batches = num(c.batches);
  if (!(Number.isInteger(epochs) && epochs >= 1)) return { error: 'epochs must be an integer >= 1' };
  if (!(Number.isInteger(batches) && batches >= 1)) return { error: 'batches per epoch must be an integer >= 1' };
  if (epochs * batches > MAX_STEPS) return { error: `epochs × batches must be <= ${MAX_STEPS}` };
  return { steps: epochs * batches, stepEvery: c.stepping === 'epoch' ? batches : 1 };
}

// Computes one curve: {lr, m, steps} or {error, field}. `field` is where the message belongs.
function compute(c) {
  const h = horizon(c);
  if (h.error) return { error: h.error, field: 'horizon' };
  const lr = num(c.lr), momentum = num(c.momentum);
  // Numbers the core would reject reach it as they are: its message is the one shown.
  const metrics = c.metrics.trim() ? c.metrics.split(/[\s,;]+/).filter(Boolean).map(Number) : [];
  if (metrics.some((x) => !Number.isFinite(x))) return { error: 'metrics: every entry must be a number', field: 'metrics' };
  if (Number.isNaN(lr)) return { error: 'optimizer: `lr` must be a number', field: 'lr' };
  if (Number.isNaN(momentum)) return { error: 'optimizer: `momentum` must be a number', field: 'momentum' };
  try {
    const v = curve(c.spec, lr, momentum, h.steps, h.stepEvery, new Float32Array(metrics));
    return { lr: v.subarray(0, h.steps), m: v.subarray(h.steps), steps: h.steps };
  } catch (e) {
    const msg = String(e && e.message ? e.message : e);
    // A spec that does not parse names the path of the bad value first (`step_size: ...`,
    // `schedulers[1].gamma: ...`); a rule a kind checks names its parameter in backticks.
    let field = (msg.match(/^([a-z][a-z_0-9]*|T_[a-z0-9]+)(?=[:.[])/) || msg.match(/`([A-Za-z_0-9]+)`/) || [])[1];
    if (msg.startsWith('optimizer:')) field = field === 'momentum' ? 'momentum' : 'lr';
    else if (msg.includes('metric')) field = 'metrics';
    return { error: msg, field };
  }
}

let results = [];
let hoverStep = null;
const timings = [];

function update({ form = false } = {}) {
  const t0 = performance.now();
  results = state.curves.map(compute);
  const t1 = performance.now();
  draw();
  const t2 = performance.now();
  timings.push({ compute: t1 - t0, draw: t2 - t1, total: t2 - t0, steps: results.reduce((s, r) => s + (r.steps || 0), 0) });
  if (timings.length > 200) timings.shift();
  $('timing').textContent = `${state.curves.length} curves, recompute ${(t1 - t0).toFixed(1)} ms + redraw ${(t2 - t1).toFixed(1)} ms`;
  $('timing').dataset.totalMs = (t2 - t0).toFixed(3);
  if (form) renderForm();
  showErrors();
  renderList();
  syncSpecBox();
  saveUrl();
}

// ---------- form ----------
function valueText(p, spec) {
  const v = p.name in spec ? spec[p.name] : p.default;
  if (v === null || v === undefined) return '';
  if ((p.type === 'int_list' || p.type === 'float_list') && Array.isArray(v)) return v.join(', ');
  if (p.type === 'specs' || p.type === 'spec' || p.type === 'step_map') return typeof v === 'string' ? v : JSON.stringify(v, null, 1);
  return String(v);
}

function parsedSpec(c) {
  try { const s = JSON.parse(c.spec); return s && typeof s === 'object' && !Array.isArray(s) ? s : null; } catch { return null; }
}

function fieldToJson(p, el) {
  if (p.type === 'bool') return el.checked;
  const t = el.value;
  if (p.type === 'choice' || p.type === 'expr') return t;
  if (p.type === 'opt_expr') return t.trim() ? t : undefined;
  if (t.trim() === '') return ['opt_int', 'opt_float', 'step_map'].includes(p.type) || (p.type === 'float_list' && p.default === null) ? null : undefined;
  if (p.type === 'int' || p.type === 'float' || p.type === 'opt_int' || p.type === 'opt_float') { const n = num(t); return Number.isNaN(n) ? t : n; }
  if (p.type === 'int_list' || p.type === 'float_list') {
    const parts = t.replace(/^\s*\[|\]\s*$/g, '').split(/[\s,]+/).filter(Boolean);
    const ns = parts.map(num);
    return ns.some(Number.isNaN) ? t : ns;
  }
  try { return JSON.parse(t); } catch { return t; } // specs / spec / step_map: serde names what is wrong
}

function onField(p, el) {
  const c = active();
  const spec = parsedSpec(c) || { kind: $('kind').value };
  let v = fieldToJson(p, el);
  if (v === undefined || (p.default !== undefined && JSON.stringify(v) === JSON.stringify(p.default))) delete spec[p.name];
  else spec[p.name] = v;
  c.spec = JSON.stringify(spec);
  lastField = p.name;
  update();
}

let lastField = null;

// The library a kind belongs to: the part before its dot (`optax.sgdr_schedule`), or PyTorch's
// (with sched-core's own kinds) for the others.
const PYTORCH = 'PyTorch';
const libraryOf = (kind) => (kind.includes('.') ? kind.split('.')[0] : PYTORCH);

// The kind menu lists the chosen library's kinds.
let listedLibrary = null;
function fillKinds(library) {
  $('library').value = library;
  if (listedLibrary === library) return;
  listedLibrary = library;
  $('kind').textContent = '';
  for (const k of TABLE.kinds) if (libraryOf(k) === library) $('kind').add(new Option(k, k));
}

function renderForm() {
  const c = active();
  const spec = parsedSpec(c);
  const kind = spec && TABLE.params[spec.kind] ? spec.kind : null;
  if (kind) fillKinds(libraryOf(kind));
  $('kind').value = kind || '';
  $('name').value = c.name;
  const box = $('params');
  box.textContent = '';
  for (const p of kind ? TABLE.params[kind] : []) {
    const label = document.createElement('label');
    label.className = p.required ? 'required' : '';
    const span = document.createElement('span');
    span.textContent = p.name;
    label.append(span);
    let el;
    if (p.type === 'choice') {
      el = document.createElement('select');
      for (const o of p.options) el.add(new Option(o, o));
      el.value = valueText(p, spec);
    } else if (p.type === 'bool') {
      el = document.createElement('input');
      el.type = 'checkbox';
      el.checked = p.name in spec ? spec[p.name] === true : p.default === true;
      el.style.width = 'auto';
    } else if (p.type === 'specs' || p.type === 'spec' || p.type === 'step_map') {
      el = document.createElement('textarea');
      el.rows = 4;
      el.value = valueText(p, spec);
    } else {
      el = document.createElement('input');
      el.type = 'text';
      el.value = valueText(p, spec);
      if (p.default === null) el.placeholder = 'none';
    }
    el.dataset.param = p.name;
    el.name = p.name;
    el.addEventListener(p.type === 'bool' || p.type === 'choice' ? 'change' : 'input', () => onField(p, el));
    label.append(el);
    const help = document.createElement('div');
    help.className = 'help';
    help.textContent = p.help + (p.required ? '' : ` (default ${JSON.stringify(p.default)})`);
    const err = document.createElement('div');
    err.className = 'err';
    err.dataset.errFor = p.name;
    box.append(label, err, help);
  }
  $('lr').value = c.lr;
  $('lr-slider').value = Math.log10(Math.max(num(c.lr) || 1e-5, 1e-5));
  $('momentum').value = c.momentum;
  $('mode').value = c.mode;
  $('epochs').value = c.epochs;
  $('batches').value = c.batches;
  $('stepping').value = c.stepping;
  $('steps').value = c.steps;
  $('metrics').value = c.metrics;
  $('h-epochs').hidden = c.mode !== 'epochs';
  $('h-steps').hidden = c.mode !== 'steps';
  $('metrics-box').hidden = kind !== 'ReduceLROnPlateau' && !c.metrics.trim();
  if ($('spec').value !== c.spec) $('spec').value = c.spec;
}

function syncSpecBox() {
  if (document.activeElement !== $('spec')) $('spec').value = active().spec;
}

function showErrors() {
  const r = results[state.active];
  document.querySelectorAll('.err').forEach((e) => { e.textContent = ''; });
  document.querySelectorAll('.invalid').forEach((e) => e.classList.remove('invalid'));
  if (!r || !r.error) return;
  $('error').textContent = r.error;
  let target = null, input = null;
  const named = r.field && document.querySelector(`[data-err-for="${CSS.escape(r.field)}"]`);
  if (named) { target = named; input = document.querySelector(`[data-param="${CSS.escape(r.field)}"]`); }
  else if (r.field === 'lr' || r.field === 'momentum' || r.field === 'metrics') { target = $(r.field + '-err'); input = $(r.field); }
  else if (r.field === 'horizon') target = $('horizon-err');
  else if (lastField && document.querySelector(`[data-err-for="${CSS.escape(lastField)}"]`)) {
    // An error without a parameter of the form (e.g. `kind`): next to the field just edited.
    target = document.querySelector(`[data-err-for="${CSS.escape(lastField)}"]`);
    input = document.querySelector(`[data-param="${CSS.escape(lastField)}"]`);
  }
  if (target) target.textContent = r.error;
  if (input) input.classList.add('invalid');
  $('spec').classList.toggle('invalid', !target || target === $('error'));
}

// ---------- curve list ----------
function fmt(x) { return x === undefined ? '' : Number(x).toPrecision(6); }

function renderList() {
  const ul = $('curves');
  ul.textContent = '';
  const st = styles();
  state.curves.forEach((c, i) => {
    const r = results[i];
    const li = document.createElement('li');
    li.className = i === state.active ? 'active' : '';
    li.dataset.index = i;
    li.dataset.name = c.name;
    li.dataset.valid = String(!r.error);
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = swatchBackground(st[i]);
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = c.name || '(unnamed)';
    name.title = r.error || c.spec;
    const stat = document.createElement('span');
    stat.className = 'stat';
    if (r.error) {
      stat.textContent = 'invalid';
    } else {
      let lo = Infinity, hi = -Infinity;
      for (const v of r.lr) { if (v < lo) lo = v; if (v > hi) hi = v; }
      Object.assign(li.dataset, { steps: r.steps, lrFirst: r.lr[0], lrLast: r.lr[r.steps - 1], lrMin: lo, lrMax: hi, mFirst: r.m[0], mLast: r.m[r.steps - 1] });
      stat.textContent = `${r.steps} steps, lr ${fmt(r.lr[0])} → ${fmt(r.lr[r.steps - 1])}`;
    }
    const rm = document.createElement('button');
    rm.textContent = '×';
    rm.title = 'remove';
    rm.className = 'remove';
    rm.disabled = state.curves.length === 1;
    rm.addEventListener('click', (ev) => {
      ev.stopPropagation();
      state.curves.splice(i, 1);
      state.active = Math.min(state.active, state.curves.length - 1);
      update({ form: true });
    });
    li.append(sw, name, stat, rm);
    li.addEventListener('click', () => { state.active = i; lastField = null; update({ form: true }); });
    ul.append(li);
  });
}

// ---------- plotting ----------
// For the browser tests.
window.pageInternals = { logTicks, logLabel };

function drawPanel(cv, key, log, label) {
  const { ctx, w, h } = setupCanvas(cv);
  const valid = results.map((r, i) => [r, i]).filter(([r]) => !r.error);
  const maxSteps = Math.max(1, ...valid.map(([r]) => r.steps));
  let lo = Infinity, hi = -Infinity;
  for (const [r] of valid) for (const v of r[key]) {
    if (log && !(v > 0)) continue;
    if (v < lo) lo = v; if (v > hi) hi = v;
  }
  if (!(lo <= hi)) { lo = log ? 1e-4 : 0; hi = log ? 1e-2 : 1; }
  const tf = log ? Math.log10 : (x) => x;
  let a = tf(lo), b = tf(hi);
  if (a === b) { const d = log ? 0.5 : Math.abs(a) * 0.1 || 0.5; a -= d; b += d; } else { const d = (b - a) * 0.05; a -= d; b += d; }
  const pw = w - PAD.l - PAD.r, ph = h - PAD.t - PAD.b;
  const X = (s) => PAD.l + (s / Math.max(1, maxSteps - 1)) * pw;
  const Y = (v) => { const t = log ? (v > 0 ? Math.log10(v) : a) : v; return PAD.t + (1 - (t - a) / (b - a)) * ph; };
  // axes and grid
  ctx.font = '12px ui-monospace, monospace';
  ctx.fillStyle = '#3d4350'; ctx.strokeStyle = '#e4e7ec'; ctx.lineWidth = 1;
  const yt = log ? logTicks(a, b) : niceTicks(a, b, 5);
  for (const v of yt) {
    const y = Y(v);
    if (y < PAD.t - 1 || y > h - PAD.b + 1) continue;
    ctx.beginPath(); ctx.moveTo(PAD.l, y); ctx.lineTo(w - PAD.r, y); ctx.stroke();
    const t = log ? logLabel(v) : +v.toPrecision(4) + '';
    ctx.fillText(t, PAD.l - 6 - ctx.measureText(t).width, y + 4);
  }
  for (const s of niceTicks(0, maxSteps - 1, Math.max(2, Math.floor(pw / 90)))) {
    const x = X(s);
    ctx.beginPath(); ctx.moveTo(x, PAD.t); ctx.lineTo(x, h - PAD.b); ctx.stroke();
    const t = String(s), tw = ctx.measureText(t).width;
    ctx.fillText(t, Math.min(w - tw - 2, Math.max(PAD.l - tw / 2, x - tw / 2)), h - PAD.b + 15);
  }
  ctx.fillStyle = '#1d2330';
  ctx.font = '600 12px system-ui, sans-serif';
  ctx.fillText(label, PAD.l, PAD.t - 8);
  const xLabel = 'optimizer step (batch)';
  ctx.fillText(xLabel, PAD.l + (pw - ctx.measureText(xLabel).width) / 2, h - 6);
  ctx.strokeStyle = '#8a909c';
  ctx.strokeRect(PAD.l + 0.5, PAD.t + 0.5, pw - 1, ph - 1);
  // curves: per pixel column, the min..max of the steps it covers. A curve that swings within most
  // columns (V1's per-batch oscillation) is a band: filled faintly and drawn first, so that it
  // hides none of the others; the others are lines in their run's colour and dash.
  const st = styles();
  const curves = valid.map(([r, i]) => {
    const vals = r[key], n = r.steps;
    const cols = Math.max(1, Math.ceil(X(n - 1) - X(0)) + 1);
    const per = Math.max(1, n / cols);
    const pts = [];
    let wide = 0;
    for (let c = 0; c < cols; c++) {
      const s0 = Math.floor(c * per), s1 = Math.min(n, Math.floor((c + 1) * per));
      if (s1 <= s0) continue;
      let mn = vals[s0], mx = vals[s0];
      for (let s = s0 + 1; s < s1; s++) { const v = vals[s]; if (v < mn) mn = v; else if (v > mx) mx = v; }
      const p = { x: X(s0), yIn: Y(vals[s0]), yOut: Y(vals[s1 - 1]), yMin: Y(mn), yMax: Y(mx) };
      if (Math.abs(p.yMin - p.yMax) > 3) wide++;
      // A column whose extremes are its ends (a monotone stretch) is a plain segment, no detour.
      p.detour = !((mn === vals[s0] && mx === vals[s1 - 1]) || (mx === vals[s0] && mn === vals[s1 - 1]));
      // A column that only continues a flat stretch adds nothing to the path (fewer segments to dash).
      const q = pts.at(-1);
      if (q && mn === mx && q.yMin === q.yMax && q.yOut === p.yIn && q.flat) { q.end = p.x; continue; }
      p.flat = mn === mx;
      pts.push(p);
    }
    return { pts, i, band: wide > cols * 0.3 };
  });
  ctx.save();
  ctx.beginPath(); ctx.rect(PAD.l, PAD.t, pw, ph); ctx.clip();
  for (const { pts, i } of curves.filter((c) => c.band)) {
    ctx.fillStyle = st[i].color;
    ctx.globalAlpha = 0.3;
    ctx.beginPath();
    // (a merged flat stretch ends at p.end; x2 is where a column's value last holds)
    const x2 = (p) => p.end ?? p.x;
    pts.forEach((p, k) => { if (k) ctx.lineTo(p.x, p.yMax); else ctx.moveTo(p.x, p.yMax); ctx.lineTo(x2(p), p.yMax); });
    for (let k = pts.length - 1; k >= 0; k--) { ctx.lineTo(x2(pts[k]), pts[k].yMin); ctx.lineTo(pts[k].x, pts[k].yMin); }
    ctx.closePath(); ctx.fill();
  }
  ctx.globalAlpha = 1; ctx.lineWidth = 2;
  for (const { pts, i } of curves.filter((c) => !c.band)) {
    ctx.strokeStyle = st[i].color;
    ctx.setLineDash(st[i].dash);
    ctx.beginPath();
    pts.forEach((p, k) => {
      if (k) ctx.lineTo(p.x, p.yIn); else ctx.moveTo(p.x, p.yIn);
      if (p.detour) { ctx.lineTo(p.x, p.yMin); ctx.lineTo(p.x, p.yMax); }
      ctx.lineTo(p.x, p.yOut);
      if (p.end !== undefined) ctx.lineTo(p.end, p.yOut);
    });
    ctx.stroke();
  }
  ctx.restore();
  if (hoverStep !== null && hoverStep < maxSteps) {
    ctx.strokeStyle = '#0008'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(X(hoverStep), PAD.t); ctx.lineTo(X(hoverStep), h - PAD.b); ctx.stroke();
  }
  cv.dataset.maxSteps = maxSteps;
  return { X, maxSteps };
}

function draw() {
  const log = state.log;
  drawPanel($('lr-plot'), 'lr', log, log ? 'lr (log)' : 'lr');
  drawPanel($('m-plot'), 'm', false, 'momentum');
}

function stepAt(cv, clientX) {
  const rect = cv.getBoundingClientRect();
  const maxSteps = Number(cv.dataset.maxSteps || 1);
  const pw = rect.width - PAD.l - PAD.r;
  const t = (clientX - rect.left - PAD.l) / pw;
  return Math.min(maxSteps - 1, Math.max(0, Math.round(t * (maxSteps - 1))));
}

function readout() {
  const el = $('readout');
  if (hoverStep === null) return;
  el.dataset.step = hoverStep;
  const lines = [`step ${hoverStep}`];
  el.textContent = '';
  const head = document.createElement('div');
  head.textContent = lines[0];
  el.append(head);
  const st = styles();
  state.curves.forEach((c, i) => {
    const r = results[i];
    const row = document.createElement('div');
    row.dataset.index = i;
    if (r.error) row.textContent = `${c.name}: invalid`;
    else if (hoverStep >= r.steps) row.textContent = `${c.name}: -`;
    else {
      row.dataset.lr = r.lr[hoverStep];
      row.dataset.momentum = r.m[hoverStep];
      row.textContent = `${c.name}: lr ${r.lr[hoverStep].toExponential(6)}  momentum ${r.m[hoverStep].toPrecision(6)}`;
    }
    // The text stays dark (readable); a swatch in the curve's style says which line it is.
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = swatchBackground(st[i]);
    row.prepend(sw);
    el.append(row);
  });
}

for (const cv of [$('lr-plot'), $('m-plot')]) {
  cv.addEventListener('mousemove', (ev) => { hoverStep = stepAt(cv, ev.clientX); draw(); readout(); });
}
window.addEventListener('resize', () => draw());

// ---------- controls ----------
function kindChanged() {
  const kind = $('kind').value;
  const spec = { kind };
  for (const p of TABLE.params[kind]) if (p.example !== undefined) spec[p.name] = p.example;
  const c = active();
  c.spec = JSON.stringify(spec);
  // The name follows the kind until the user types one.
  if (!c.namedByUser) c.name = kind;
  if (kind === 'ReduceLROnPlateau' && !c.metrics.trim()) {
    const h = horizon(c);
    c.metrics = exampleMetrics(h.steps ? Math.ceil(h.steps / h.stepEvery) : 15);
  }
  lastField = null;
  update({ form: true });
}

for (const l of new Set(TABLE.kinds.map(libraryOf))) $('library').add(new Option(l, l));
fillKinds(PYTORCH);
// A library's first kind, as if chosen from the kind menu.
$('library').addEventListener('change', () => {
  fillKinds($('library').value);
  kindChanged();
});
PRESETS.runs.forEach((r, i) => $('preset').add(new Option(r.name, String(i))));
$('kind').addEventListener('change', kindChanged);
$('preset').addEventListener('change', () => {
  const i = $('preset').value;
  if (i === '') return;
  state.curves[state.active] = presetCurve(PRESETS.runs[Number(i)]);
  $('preset').value = '';
  lastField = null;
  update({ form: true });
});
$('name').addEventListener('input', () => { active().name = $('name').value; active().namedByUser = true; update(); });
for (const id of ['lr', 'momentum', 'epochs', 'batches', 'steps', 'metrics']) {
  $(id).addEventListener('input', () => {
    active()[id] = $(id).value;
    if (id === 'lr') $('lr-slider').value = Math.log10(Math.max(num($('lr').value) || 1e-5, 1e-5));
    lastField = null;
    update();
  });
}
for (const id of ['mode', 'stepping']) {
  $(id).addEventListener('change', () => { active()[id] = $(id).value; lastField = null; update({ form: true }); });
}
$('lr-slider').addEventListener('input', () => {
  active().lr = String(+(10 ** Number($('lr-slider').value)).toPrecision(3));
  $('lr').value = active().lr;
  lastField = null;
  update();
});
$('spec').addEventListener('input', () => {
  const c = active();
  c.spec = $('spec').value;
  lastField = null;
  // A spec the core accepts is shown as the form; any other keeps its text and shows the core's message.
  const spec = parsedSpec(c);
  update({ form: Boolean(spec && TABLE.params[spec.kind]) });
});
$('log').addEventListener('change', () => { state.log = $('log').checked; update(); });
$('add').addEventListener('click', () => {
  const c = { ...active(), name: active().name + ' (copy)' };
  state.curves.push(c);
  state.active = state.curves.length - 1;
  update({ form: true });
});
$('add-presets').addEventListener('click', () => {
  for (const r of PRESETS.runs) state.curves.push(presetCurve(r));
  update({ form: true });
});
// One recipe (a linear warmup over the first 100 of 1,000 steps to 0.1, then a cosine to 0) as
// each library writes it, side by side: timm's cosine spans the warmup too (t_initial counts it),
// fastai's warmup is a cosine, Keras computes in float32.
const RECIPE = [
  ['PyTorch: SequentialLR(LinearLR, CosineAnnealingLR)', { kind: 'SequentialLR', schedulers: [{ kind: 'LinearLR', start_factor: 0.001, total_iters: 100 }, { kind: 'CosineAnnealingLR', T_max: 900 }], milestones: [100] }],
  ['timm: CosineLRScheduler', { kind: 'timm.CosineLRScheduler', t_initial: 1000, warmup_t: 100 }],
  ['transformers: get_cosine_schedule_with_warmup', { kind: 'transformers.get_cosine_schedule_with_warmup', num_warmup_steps: 100, num_training_steps: 1000 }],
  ['optax: warmup_cosine_decay_schedule', { kind: 'optax.warmup_cosine_decay_schedule', init_value: 0.0, peak_value: 0.1, warmup_steps: 100, decay_steps: 1000 }],
  ['Keras: CosineDecay(warmup_target)', { kind: 'keras.CosineDecay', initial_learning_rate: 0.0, warmup_target: 0.1, warmup_steps: 100, decay_steps: 900 }],
  ['fastai: combined_cos', { kind: 'fastai.combined_cos', pct: 0.1, start: 0.0, middle: 0.1, end: 0.0 }],
];
$('add-recipe').addEventListener('click', () => {
  for (const [name, spec] of RECIPE) {
    state.curves.push({ ...defaultState().curves[0], name, spec: JSON.stringify(spec), lr: '0.1', momentum: '0', mode: 'steps', steps: '1000', stepping: 'batch', metrics: '' });
  }
  state.active = state.curves.length - RECIPE.length;
  update({ form: true });
});
$('csv').addEventListener('click', () => {
  const r = results[state.active];
  if (r.error) { $('error').textContent = r.error; return; }
  const e = (x) => x.toExponential(8).replace('e+', 'e');
  const rows = ['step,lr,momentum'];
  for (let i = 0; i < r.steps; i++) rows.push(`${i},${e(r.lr[i])},${e(r.m[i])}`);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([rows.join('\n') + '\n'], { type: 'text/csv' }));
  a.download = (active().name || 'curve').replace(/[^A-Za-z0-9_.-]+/g, '_') + '.csv';
  document.body.append(a);
  a.click();
  a.remove();
});
window.addEventListener('hashchange', () => { state = loadState(); update({ form: true }); });

// ---------- views: schedules, LR finder, bench results ----------
// The LR finder's button: the chosen lr becomes the active curve's optimizer lr (and a
// OneCycleLR's max_lr, the peak it anneals from, which overrides the optimizer's).
function useLr(text) {
  const c = active();
  c.lr = text;
  const spec = parsedSpec(c);
  if (spec && spec.kind === 'OneCycleLR' && !Number.isNaN(num(text))) {
    spec.max_lr = num(text);
    c.spec = JSON.stringify(spec);
  }
  lastField = null;
  showView('schedules');
  update({ form: true });
}

// A bench run into the schedule form, as a new curve over its own horizon (ReduceLROnPlateau
// with the test losses it saw).
function editRun(p) {
  state.curves.push({
    name: p.name, spec: JSON.stringify(p.spec), lr: String(p.lr), momentum: String(p.momentum),
    mode: 'epochs', epochs: String(p.epochs.length), batches: String(Math.ceil(p.train_images / p.batch_size)),
    stepping: p.step, steps: '1000', metrics: p.spec.kind === 'ReduceLROnPlateau' ? p.epochs.map((e) => e.test_loss).join(', ') : '',
    namedByUser: true,
  });
  state.active = state.curves.length - 1;
  lastField = null;
  showView('schedules');
  update({ form: true });
}

const views = { schedules: { draw }, finder: initFinder({ useLr }), bench: initBench({ onEditRun: editRun, known: KNOWN }) };

function showView(v) {
  for (const b of document.querySelectorAll('nav button')) {
    const on = b.dataset.view === v;
    b.setAttribute('aria-selected', String(on));
    $('view-' + b.dataset.view).hidden = !on;
  }
  document.body.dataset.view = v;
  views[v].draw();
}
for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => showView(b.dataset.view));

// A file dropped anywhere on the page: a results.json opens in the bench view, anything else is
// read as a range test's CSV.
async function openDropped(file) {
  const text = await file.text();
  if (/\.json$/i.test(file.name) || text.trimStart().startsWith('{')) {
    showView('bench');
    loadResults(text, file.name);
  } else {
    showView('finder');
    loadCsv(text, file.name);
  }
}
const hasFiles = (ev) => ev.dataTransfer && [...ev.dataTransfer.types].includes('Files');
document.addEventListener('dragover', (ev) => {
  if (!hasFiles(ev)) return;
  ev.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', (ev) => { if (!ev.relatedTarget) document.body.classList.remove('dragging'); });
document.addEventListener('drop', (ev) => {
  document.body.classList.remove('dragging');
  const file = ev.dataTransfer && ev.dataTransfer.files[0];
  if (!file) return;
  ev.preventDefault();
  openDropped(file);
});

$('log').checked = state.log;
update({ form: true });

// For the tests and the curious: timings of the last updates, and a benchmark of full recompute+redraw.
window.demo = {
  timings,
  get state() { return state; },
  bench(n = 20) {
    const t = [];
    for (let k = 0; k < n; k++) { const t0 = performance.now(); results = state.curves.map(compute); draw(); t.push(performance.now() - t0); }
    return t;
  },
};
document.body.dataset.ready = 'true';
