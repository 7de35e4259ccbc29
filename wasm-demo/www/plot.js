// Canvas helpers shared by the page's views: axes with log or linear ticks, and `chart`, an x-y
// line chart for the LR finder and bench views (the schedule view draws its own, per pixel column).

export const PAD = { l: 64, r: 12, t: 10, b: 24 };

// The report plots' run styles (host-train/src/plot/style.rs: PALETTE, style, run_styles), so that a run
// looks the same on the page as in docs/results: style k is colour k mod 7 (each >= 3:1 contrast on
// white), then solid, dashed, dotted by k / 7.
export const PALETTE = ['#000000', '#0072b2', '#d55e00', '#009e73', '#b0408a', '#a66a00', '#6a3d9a'];
export const DASHES = [[], [7, 4], [2, 3]];

export function style(k) {
  return { color: PALETTE[k % PALETTE.length], dash: DASHES[Math.floor(k / PALETTE.length) % DASHES.length] };
}

// Each name's style: a known run's own (its index in `known`: the study's presets, in the order
// host-train's KNOWN_RUNS lists them), other names the lowest style numbers no name here uses.
export function runStyles(names, known) {
  const ks = names.map((n) => known.indexOf(n));
  let next = 0;
  return ks.map((k) => {
    if (k >= 0) return style(k);
    while (ks.includes(next)) next++;
    return style(next++);
  });
}

// A CSS background drawing a style's line sample (for the swatches beside names).
export function swatchBackground({ color, dash }) {
  if (!dash.length) return color;
  const [on, off] = dash;
  return `repeating-linear-gradient(90deg, ${color} 0 ${on}px, transparent ${on}px ${on + off}px)`;
}

export function setupCanvas(cv) {
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = Number(cv.getAttribute('height'));
  if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.style.height = h + 'px'; }
  const ctx = cv.getContext('2d');
  ctx.setTransform(cv.width / Math.max(w, 1), 0, 0, cv.width / Math.max(w, 1), 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

export function niceTicks(lo, hi, n) {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = span / n, mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

// Ticks of a log axis from 10^a to 10^b: decades when it spans two or more; else 1-2-5 (then every
// integer multiple) within each decade, so a curve spanning less than a decade still gets several
// labelled ticks; under a factor of about 1.5, evenly spaced ticks.
export function logTicks(a, b) {
  if (Math.floor(b) - Math.ceil(a) >= 2) return niceTicks(Math.ceil(a), Math.floor(b), 6).map((e) => 10 ** e);
  const lo = 10 ** a, hi = 10 ** b;
  for (const ms of [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const out = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
      for (const m of ms) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
      }
    }
    if (out.length >= 3) return out;
  }
  return niceTicks(lo, hi, 4).map((v) => Number(v.toPrecision(12))).filter((v) => v >= lo && v <= hi);
}

// A tick label in the shortest exponent form: 7e-4, 7.5e-4.
export const logLabel = (v) => Number(v.toPrecision(3)).toExponential();

// The shortest decimal that reads back as the same f32 (what host-train prints for an f32).
export function f32Text(x) {
  if (!Number.isFinite(x)) return String(x);
  for (let p = 1; p <= 9; p++) {
    const s = String(Number(x.toPrecision(p)));
    if (Math.fround(Number(s)) === x) return s;
  }
  return String(x);
}

// The finite range of the values (positive ones on a log axis), padded by 5%, in axis units
// (log10 on a log axis).
export function range(arrays, log, pad = 0.05) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) for (const v of a) {
    if (!Number.isFinite(v) || (log && !(v > 0))) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) { lo = log ? 1e-4 : 0; hi = log ? 1e-2 : 1; }
  let a = log ? Math.log10(lo) : lo, b = log ? Math.log10(hi) : hi;
  if (a === b) { const d = log ? 0.5 : Math.abs(a) * 0.1 || 0.5; a -= d; b += d; } else { const d = (b - a) * pad; a -= d; b += d; }
  return [a, b];
}

// An x-y chart. series: [{x, y, color, width, alpha, dash}] (a non-finite y, or a non-positive one
// on a log axis, breaks the line); xr / yr: [a, b] in axis units (log10 on a log axis; default:
// the data's range); marks: [{x, y, color, r, label, line, row}] dots, with a dashed vertical line
// at `line` (an x) when given, labelled at its top in text row `row`; pad: the margins (PAD by
// default). Returns the mapping for hover.
export function chart(cv, { series = [], xlog = false, ylog = false, xr, yr, marks = [], label = '', xLabel = '', hoverX = null, pad = PAD, xTicks, yTicks = 5 } = {}) {
  const { ctx, w, h } = setupCanvas(cv);
  const [xa, xb] = xr || range(series.map((s) => s.x), xlog, 0);
  const [ya, yb] = yr || range(series.map((s) => s.y), ylog);
  const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
  const tx = (v) => (xlog ? (v > 0 ? Math.log10(v) : NaN) : v);
  const ty = (v) => (ylog ? (v > 0 ? Math.log10(v) : NaN) : v);
  const X = (v) => pad.l + ((tx(v) - xa) / (xb - xa || 1)) * pw;
  const Y = (v) => pad.t + (1 - (ty(v) - ya) / (yb - ya || 1)) * ph;
  ctx.font = '11px ui-monospace, monospace';
  ctx.fillStyle = '#556'; ctx.strokeStyle = '#e4e7ec'; ctx.lineWidth = 1;
  const yt = ylog ? logTicks(ya, yb) : niceTicks(ya, yb, yTicks);
  for (const v of yt) {
    const y = Y(v);
    if (!(y >= pad.t - 1 && y <= h - pad.b + 1)) continue;
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
    ctx.fillText(ylog ? logLabel(v) : String(+v.toPrecision(4)), 4, y + 4);
  }
  const xt = xTicks || (xlog ? logTicks(xa, xb) : niceTicks(xa, xb, Math.max(2, Math.floor(pw / 70))));
  for (const v of xt) {
    const x = X(v);
    if (!(x >= pad.l - 1 && x <= w - pad.r + 1)) continue;
    ctx.beginPath(); ctx.moveTo(x, pad.t); ctx.lineTo(x, h - pad.b); ctx.stroke();
    const t = xlog ? logLabel(v) : String(+v.toPrecision(4));
    ctx.fillText(t, Math.min(w - pad.r - ctx.measureText(t).width, Math.max(0, x - ctx.measureText(t).width / 2)), h - 8);
  }
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t, pw, ph); ctx.clip();
  for (const s of series) {
    ctx.strokeStyle = s.color || '#1d2330';
    ctx.globalAlpha = s.alpha ?? 1;
    ctx.lineWidth = s.width ?? 1.5;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.y.length; i++) {
      const x = X(s.x[i]), y = Y(s.y[i]);
      if (!(Number.isFinite(x) && Number.isFinite(y))) { pen = false; continue; }
      if (pen) ctx.lineTo(x, y); else { ctx.moveTo(x, y); pen = true; }
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  for (const m of marks) {
    ctx.strokeStyle = m.color; ctx.fillStyle = m.color;
    if (m.line !== undefined && Number.isFinite(X(m.line))) {
      ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(X(m.line), pad.t); ctx.lineTo(X(m.line), h - pad.b); ctx.stroke();
    }
    ctx.setLineDash([]);
    const x = X(m.x), y = Y(m.y);
    if (!(Number.isFinite(x) && Number.isFinite(y))) continue;
    ctx.beginPath(); ctx.arc(x, y, m.r ?? 4, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.restore();
  // Text on a white ground, over the lines: the panel's label, the x axis's, the marks'.
  const text = (t, x, y, color = '#1d2330') => {
    const tw = ctx.measureText(t).width;
    ctx.fillStyle = '#fffd'; ctx.fillRect(x - 2, y - 10, tw + 4, 13);
    ctx.fillStyle = color; ctx.fillText(t, x, y);
  };
  if (label) text(label, pad.l + 6, pad.t + 12);
  if (xLabel) text(xLabel, w - pad.r - ctx.measureText(xLabel).width - 4, h - pad.b - 4);
  for (const m of marks) {
    if (!m.label) continue;
    // A mark with a line is labelled at the line's top, one row per `row`; else beside its dot.
    const x = m.line !== undefined ? X(m.line) + 4 : X(m.x) + 6;
    const y = m.line !== undefined ? pad.t + 12 + 14 * (m.row ?? 0) : Y(m.y) - 6;
    if (Number.isFinite(x) && Number.isFinite(y)) text(m.label, Math.min(x, w - pad.r - ctx.measureText(m.label).width - 2), y, m.color);
  }
  if (hoverX !== null && Number.isFinite(X(hoverX))) {
    ctx.strokeStyle = '#0008'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(X(hoverX), pad.t); ctx.lineTo(X(hoverX), h - pad.b); ctx.stroke();
  }
  // The inverse of X, for hover: the x value under a client x coordinate.
  const xAt = (clientX) => {
    const t = xa + ((clientX - cv.getBoundingClientRect().left - pad.l) / pw) * (xb - xa);
    return xlog ? 10 ** t : t;
  };
  return { X, Y, xAt, xr: [xa, xb], yr: [ya, yb] };
}
