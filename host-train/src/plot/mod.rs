//! Plots (plotters; a results set's as PNG): schedule curves, test accuracy per epoch (one panel per
//! run), final accuracy (runs sorted, seeds and the study's value marked), paired differences to the
//! reference run. A run keeps one style (colour, marker, dash) in every plot of every set.

pub mod font;

use crate::results::Group;
use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::types::{RangedCoordf32, RangedCoordf64};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

type Area<'a, DB> = DrawingArea<DB, Shift>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e:?}")
}

/// Renders `draw` to `path` (.png or .svg) at `size`.
fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl Fn(&Area<'_, BitMapBackend>) -> Result<()>,
    draw_svg: impl Fn(&Area<'_, SVGBackend>) -> Result<()>,
) -> Result<()> {
    crate::plot::font::register();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            draw(&root)?;
            root.present()
                .map_err(err)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Some("svg") => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            draw_svg(&root)?;
            root.present()
                .map_err(err)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        _ => bail!(
            "cannot plot to {}: the file name must end in .png or .svg",
            path.display()
        ),
    }
    Ok(())
}

/// Both formats through one generic drawing function.
macro_rules! render_both {
    ($path:expr, $size:expr, $f:expr) => {
        $crate::plot::render($path, $size, |a| $f(a), |a| $f(a))
    };
}

mod lr_find;

pub use lr_find::lr_find;

fn range(v: impl Iterator<Item = f32>) -> (f32, f32) {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for x in v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// Text sizes in pixels at the PNG's size (tick text at least 12 px, as the issue on legibility asks).
const TITLE_PX: u32 = 24;
const CAPTION_PX: u32 = 16;
const TICK_PX: u32 = 16;
const PANEL_TITLE_PX: u32 = 16;
const PANEL_TICK_PX: u32 = 13;

/// The reference run's line in every other panel: a grey with 4.5:1 contrast on white.
const REFERENCE_GREY: RGBColor = RGBColor(0x76, 0x76, 0x76);
/// The study's single PyTorch run, as a cross (no run has this colour).
const STUDY_RED: RGBColor = RGBColor(0xC0, 0x00, 0x00);

/// A plot's heading: a short title and, under it, a caption line with the details. Returns the
/// area below both.
fn heading<'a, DB: DrawingBackend>(
    a: &Area<'a, DB>,
    title: &str,
    caption: &str,
) -> Result<Area<'a, DB>> {
    let height = if caption.is_empty() { 40 } else { 66 };
    let (top, body) = a.split_vertically(height);
    top.draw_text(
        title,
        &("sans-serif", TITLE_PX).into_text_style(&top),
        (12, 8),
    )
    .map_err(err)?;
    if !caption.is_empty() {
        let style = ("sans-serif", CAPTION_PX)
            .into_font()
            .color(&RGBColor(0x40, 0x40, 0x40));
        top.draw_text(caption, &style, (12, 40)).map_err(err)?;
    }
    Ok(body)
}

/// One lr panel: the lr on a log axis over `lr_range`, and below it, when `momentum_range` is
/// given, the momentum on its own linear axis.
fn lr_panel<DB: DrawingBackend>(
    area: &Area<'_, DB>,
    title: &str,
    lrs: &[f32],
    momenta: &[f32],
    style: RunStyle,
    (lr_range, momentum_range): ((f32, f32), Option<(f32, f32)>),
    (title_px, tick_px): (u32, u32),
) -> Result<()> {
    let n = lrs.len().max(2);
    let (top, bottom) = match momentum_range {
        Some(_) => {
            let h = area.dim_in_pixel().1;
            let (t, b) = area.split_vertically(h * 64 / 100);
            (t, Some(b))
        }
        None => (area.clone(), None),
    };
    let x_area = |has_below: bool| if has_below { 0 } else { tick_px * 2 + 14 };
    let mut chart = ChartBuilder::on(&top)
        .caption(title, ("sans-serif", title_px))
        .margin(8)
        .x_label_area_size(x_area(bottom.is_some()))
        .y_label_area_size(tick_px * 5)
        .build_cartesian_2d(0f32..(n - 1) as f32, (lr_range.0..lr_range.1).log_scale())
        .map_err(err)?;
    let mut mesh = chart.configure_mesh();
    mesh.y_desc("lr")
        .y_labels(4)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .light_line_style(WHITE)
        .label_style(("sans-serif", tick_px))
        .axis_desc_style(("sans-serif", tick_px));
    if bottom.is_some() {
        mesh.x_labels(0);
    } else {
        mesh.x_desc("optimizer step")
            .axis_desc_style(("sans-serif", tick_px))
            .x_labels(5)
            .x_label_formatter(&|v| format!("{v:.0}"));
    }
    mesh.draw().map_err(err)?;
    // An lr under the axis's floor (the last steps of a one-cycle) leaves the panel at the bottom.
    let points: Vec<(f32, f32)> = lrs
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f32, v))
        .collect();
    for part in clip_below(&points, lr_range.0) {
        chart
            .draw_series(LineSeries::new(part, style.color.stroke_width(2)))
            .map_err(err)?;
    }
    if let (Some(b), Some(range)) = (bottom, momentum_range) {
        momentum_panel(&b, momenta, style, range, tick_px)?;
    }
    Ok(())
}

/// The momentum under an lr panel, on its own linear axis over `(lo, hi)`.
fn momentum_panel<DB: DrawingBackend>(
    area: &Area<'_, DB>,
    momenta: &[f32],
    style: RunStyle,
    (lo, hi): (f32, f32),
    tick_px: u32,
) -> Result<()> {
    let n = momenta.len().max(2);
    let mut m = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(8)
        .margin_bottom(8)
        .x_label_area_size(tick_px * 2 + 14)
        .y_label_area_size(tick_px * 5)
        .build_cartesian_2d(0f32..(n - 1) as f32, lo..hi)
        .map_err(err)?;
    m.configure_mesh()
        .x_desc("optimizer step")
        .y_desc("momentum")
        .light_line_style(WHITE)
        .axis_desc_style(("sans-serif", tick_px))
        .x_labels(5)
        .y_labels(3)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .label_style(("sans-serif", tick_px))
        .draw()
        .map_err(err)?;
    m.draw_series(LineSeries::new(
        momenta.iter().enumerate().map(|(i, &v)| (i as f32, v)),
        style.color.stroke_width(2),
    ))
    .map_err(err)?;
    Ok(())
}

/// The lr range (log axis, so positive values only) and, when any momentum is not 0, the momentum
/// range, over every run's trace: shared by all panels so that heights compare.
fn lr_ranges<'a>(
    traces: impl Iterator<Item = (&'a [f32], &'a [f32])> + Clone,
) -> ((f32, f32), Option<(f32, f32)>) {
    let positive = traces
        .clone()
        .flat_map(|(l, _)| l.iter().copied())
        .filter(|&v| v > 0.0 && v.is_finite());
    let (lo, hi) = positive.fold((f32::INFINITY, 0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Three decades under the highest lr: a one-cycle's last steps (down to 1e-4 of its start)
    // would otherwise flatten every other curve.
    let lo = lo.max(hi / 1e3);
    let lr = if lo.is_finite() {
        (lo / 1.25, hi.max(lo * 1.01) * 1.25)
    } else {
        (1e-4, 1.0)
    };
    let momenta: Vec<f32> = traces.flat_map(|(_, m)| m.iter().copied()).collect();
    let momentum = momenta.iter().any(|&m| m != 0.0).then(|| {
        let hi = momenta.iter().copied().fold(0f32, f32::max);
        (0.0, (hi * 1.05).max(0.1))
    });
    (lr, momentum)
}

/// Draws one schedule's lr (log axis) and momentum (its own axis) against the optimizer step
/// (.png or .svg).
pub fn schedule_curve(path: &Path, title: &str, lrs: &[f32], momenta: &[f32]) -> Result<()> {
    if lrs.is_empty() {
        bail!("cannot plot {}: no steps", path.display());
    }
    let ranges = lr_ranges(std::iter::once((lrs, momenta)));
    let style = RunStyle {
        color: PALETTE[1],
        marker: Marker::Circle,
        dash: Dash::Solid,
    };
    render_both!(path, (900, 560), |a| lr_panel(
        a,
        title,
        lrs,
        momenta,
        style,
        ranges,
        (22, TICK_PX)
    ))
}

fn lr_grid<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let styles = run_styles(groups);
    let order = display_order(groups);
    let ranges = lr_ranges(groups.iter().map(|g| {
        (
            g.pairs[0].trace_lr.as_slice(),
            g.pairs[0].trace_momentum.as_slice(),
        )
    }));
    let body = heading(
        a,
        "Learning rate and momentum per step",
        "lr on one log axis for all panels (3 decades: lower values leave at the bottom); momentum on its own axis; first seed where seeds differ",
    )?;
    let cols = 3usize;
    let rows = groups.len().div_ceil(cols);
    let cells = body.split_evenly((rows, cols));
    for (&i, cell) in order.iter().zip(cells.iter()) {
        let p = groups[i].pairs[0];
        lr_panel(
            cell,
            &short_name(&groups[i].name),
            &p.trace_lr,
            &p.trace_momentum,
            styles[i],
            ranges,
            (PANEL_TITLE_PX, PANEL_TICK_PX),
        )?;
    }
    Ok(())
}

/// Run colours: Okabe–Ito's colour-blind-safe set without its yellow and sky blue (too pale on
/// white), its reddish purple darkened, and a purple added; each has at least 3:1 contrast on white.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xB0, 0x40, 0x8A),
    RGBColor(0xA6, 0x6A, 0x00),
    RGBColor(0x6A, 0x3D, 0x9A),
];

/// Line styles, one per marker, so that lines differ where colours repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// Point markers that extend the palette beyond 7 runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
}

/// A run's look: the same for a run name in every plot of every results set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStyle {
    pub color: RGBColor,
    pub marker: Marker,
    pub dash: Dash,
}

/// The style with number `k`: colour `k mod 7`, then marker and dash by `k / 7`.
pub fn style(k: usize) -> RunStyle {
    let shape = (k / PALETTE.len()) % 3;
    RunStyle {
        color: PALETTE[k % PALETTE.len()],
        marker: [Marker::Circle, Marker::Square, Marker::Triangle][shape],
        dash: [Dash::Solid, Dash::Dashed, Dash::Dotted][shape],
    }
}

/// Runs with a fixed style number, so that a run looks the same in every results set: the study's
/// 14 runs in the preset's order, its ablations, and the LR range test runs.
const KNOWN_RUNS: [&str; 20] = [
    "Constant Learning Rate",
    "Step LR Scheduler Epochs",
    "Step LR Scheduler Batches",
    "MultiStep LR Scheduler Epochs",
    "Multiplicative LR Scheduler Epochs",
    "Lambda LR Scheduler Epochs",
    "Exponential LR Scheduler Epochs",
    "One Cycle LR Scheduler Batches",
    "Cyclic LR Scheduler Batches",
    "Cosine Annealing LR Scheduler Epochs",
    "Cosine Annealing With Warm Restarts Scheduler Epochs",
    "Reduce LR On Plateau Scheduler",
    "Combining Multiple LR Schedulers Epochs V1",
    "Combining Multiple LR Schedulers Epochs V2",
    "One Cycle LR Scheduler Batches, cycle_momentum = false",
    "Cyclic LR Scheduler Batches, cycle_momentum = false",
    "Constant Learning Rate, SGD momentum 0.9",
    "LR finder + One Cycle",
    "LR finder (minimum) + One Cycle",
    "LR finder (steep) + One Cycle",
];

/// Each group's style: a known run's own; other runs take the lowest style numbers no run of this
/// set uses, in config order (distinct within the set for up to 21 runs).
pub fn run_styles(groups: &[Group]) -> Vec<RunStyle> {
    let known: Vec<Option<usize>> = groups
        .iter()
        .map(|g| KNOWN_RUNS.iter().position(|k| *k == g.name))
        .collect();
    let mut free = (0..).filter(|k| !known.contains(&Some(*k)));
    known
        .iter()
        .map(|k| style(k.unwrap_or_else(|| free.next().unwrap_or(0))))
        .collect()
}

/// A run name short enough for a panel title.
fn short_name(name: &str) -> String {
    name.replace("Combining Multiple LR Schedulers Epochs", "Chained")
        .replace(" LR Scheduler", "")
        .replace(" Scheduler", "")
        .replace("Learning Rate", "LR")
        .replace("cycle_momentum = false", "no momentum cycle")
}

/// WCAG contrast ratio of `c` against white (the palette test checks every colour against 3:1).
#[cfg(test)]
pub fn contrast_on_white(c: RGBColor) -> f64 {
    let lin = |v: u8| {
        let v = v as f64 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2);
    1.05 / (l + 0.05)
}

/// At most `max` integer ticks from `lo` to `hi` (inclusive), every 1, 2, 5, 10, ... steps from `lo`.
pub fn integer_ticks(lo: i32, hi: i32, max: usize) -> Vec<i32> {
    let span = (hi - lo).max(0) as usize;
    let step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        .into_iter()
        .find(|s| span / s < max.max(1))
        .unwrap_or(span.max(1));
    (lo..=hi).step_by(step).collect()
}

/// Whether a run is one of the study's own (else an ablation or an addition): drawn as a group.
fn in_study(g: &Group) -> bool {
    crate::results::study::study_accuracy(&g.name).is_some()
}

/// The order every plot lists runs in: the study's runs by mean final accuracy, best first, then
/// the runs not in the study (ablations, additions) the same way (ties in config order).
pub fn display_order(groups: &[Group]) -> Vec<usize> {
    let mean = |g: &Group| g.mean_std(|r| r.final_accuracy as f64).0;
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        (!in_study(&groups[a]))
            .cmp(&!in_study(&groups[b]))
            .then(mean(&groups[b]).total_cmp(&mean(&groups[a])))
    });
    order
}

/// How many runs of `order` lead before the first run not in the study, when the set mixes both
/// (where the plots draw a rule between the two groups).
fn study_rows(groups: &[Group], order: &[usize]) -> Option<usize> {
    let k = order.iter().take_while(|&&i| in_study(&groups[i])).count();
    (k > 0 && k < order.len()).then_some(k)
}

/// The note a caption carries when a value axis does not start at zero.
pub fn axis_note(lo: f64, hi: f64) -> String {
    if lo > 0.0 {
        format!("; axis {lo:.3} to {hi:.3}, not from 0")
    } else {
        String::new()
    }
}

/// The parts of a polyline at or above `lo`, cut where it crosses `lo` (points below the axis
/// would be drawn outside the panel).
fn clip_below(points: &[(f32, f32)], lo: f32) -> Vec<Vec<(f32, f32)>> {
    let mut parts: Vec<Vec<(f32, f32)>> = Vec::new();
    let mut current: Vec<(f32, f32)> = Vec::new();
    for (k, &(x, y)) in points.iter().enumerate() {
        let above = y >= lo;
        if k > 0 {
            let (px, py) = points[k - 1];
            if (py >= lo) != above {
                let t = (lo - py) / (y - py);
                current.push((px + t * (x - px), lo));
                if !above {
                    parts.push(std::mem::take(&mut current));
                }
            }
        }
        if above {
            current.push((x, y));
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// A run's line in an epoch panel, in its colour and line style, cut at the panel's floor `lo`.
fn epoch_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf32, RangedCoordf32>>,
    points: &[(i32, f32)],
    lo: f32,
    color: RGBAColor,
    dash: Dash,
    width: u32,
) -> Result<()> {
    let style = color.stroke_width(width);
    let points: Vec<(f32, f32)> = points.iter().map(|&(x, y)| (x as f32, y)).collect();
    for part in clip_below(&points, lo) {
        match dash {
            Dash::Solid => chart.draw_series(LineSeries::new(part, style)).map(|_| ()),
            Dash::Dashed => chart
                .draw_series(DashedLineSeries::new(part, 9, 5, style))
                .map(|_| ()),
            Dash::Dotted => chart
                .draw_series(DashedLineSeries::new(part, 2, 4, style))
                .map(|_| ()),
        }
        .map_err(err)?;
    }
    Ok(())
}

/// (epoch, test accuracy) points of one curve.
type Curve = Vec<(i32, f32)>;

/// Mean test accuracy per epoch of a run over its seeds, and each seed's curve.
fn epoch_curves(g: &Group) -> (Curve, Vec<Curve>) {
    let epochs = g.pairs.iter().map(|p| p.epochs.len()).max().unwrap_or(0);
    let mean = (0..epochs)
        .filter_map(|e| {
            let v: Vec<f32> = g
                .pairs
                .iter()
                .filter_map(|p| p.epochs.get(e).map(|r| r.test_accuracy))
                .collect();
            (!v.is_empty()).then(|| ((e + 1) as i32, v.iter().sum::<f32>() / v.len() as f32))
        })
        .collect();
    let seeds = g
        .pairs
        .iter()
        .map(|p| {
            p.epochs
                .iter()
                .map(|r| (r.epoch as i32, r.test_accuracy))
                .collect()
        })
        .collect();
    (mean, seeds)
}

/// The first epoch whose accuracies set the per-epoch panels' floor: from a third of the way in,
/// so the final spread fills the panel while the first epochs' climb runs in from below.
fn floor_epoch(epochs: i32) -> i32 {
    (epochs / 3).max(2).min(epochs)
}

/// Test accuracy per epoch, one panel per run with shared axes: the run's seeds faint, their mean
/// bold, and the reference run's mean in grey in every other panel.
fn accuracy_panels<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let curves: Vec<_> = groups.iter().map(epoch_curves).collect();
    let styles = run_styles(groups);
    let order = display_order(groups);
    let epochs = curves
        .iter()
        .flat_map(|(m, _)| m.last().map(|p| p.0))
        .max()
        .unwrap_or(1)
        .max(2);
    let from = floor_epoch(epochs);
    let (lo, hi) = range(
        curves
            .iter()
            .flat_map(|(m, seeds)| m.iter().chain(seeds.iter().flatten()))
            .filter(|p| p.0 >= from)
            .map(|p| p.1),
    );
    let refs = crate::results::stats::references(groups);
    let cols = panel_columns(groups.len());
    let rows = groups.len().div_ceil(cols);
    let seeds = groups.iter().map(|g| g.pairs.len()).max().unwrap_or(0);
    let mut caption = format!("bold: mean over {seeds} seed(s); faint: each seed");
    match crate::results::stats::one_reference(&refs) {
        Some(r) => caption += &format!("; grey: {}", groups[r].name),
        None if refs.iter().any(Option::is_some) => {
            caption += "; grey: the constant-lr run of the panel's optimizer"
        }
        None => {}
    }
    caption += &format!(
        "; axis {lo:.2} to {hi:.2}, set by epochs {from} to {epochs} (earlier epochs run in from below)"
    );
    let body = heading(a, "Test accuracy per epoch", &caption)?;
    let cells = body.split_evenly((rows, cols));
    for (&i, cell) in order.iter().zip(cells.iter()) {
        let (g, (mean, seeds)) = (&groups[i], &curves[i]);
        let style = styles[i];
        let mut chart = ChartBuilder::on(cell)
            .caption(short_name(&g.name), ("sans-serif", PANEL_TITLE_PX))
            .margin(6)
            .x_label_area_size(PANEL_TICK_PX * 2 + 12)
            .y_label_area_size(PANEL_TICK_PX * 3 + 16)
            .build_cartesian_2d(1f32..epochs as f32, lo..hi)
            .map_err(err)?;
        let ticks = integer_ticks(1, epochs, 6);
        chart
            .configure_mesh()
            .x_labels(ticks.len())
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_labels(4)
            .y_label_formatter(&|v| format!("{v:.2}"))
            .x_desc("epoch")
            .light_line_style(WHITE)
            .label_style(("sans-serif", PANEL_TICK_PX))
            .axis_desc_style(("sans-serif", PANEL_TICK_PX))
            .draw()
            .map_err(err)?;
        if let Some(r) = refs[i].filter(|&r| r != i) {
            let grey = REFERENCE_GREY.to_rgba();
            epoch_line(&mut chart, &curves[r].0, lo, grey, Dash::Solid, 2)?;
        }
        for s in seeds {
            epoch_line(&mut chart, s, lo, style.color.mix(0.35), Dash::Solid, 1)?;
        }
        epoch_line(&mut chart, mean, lo, style.color.to_rgba(), style.dash, 3)?;
    }
    Ok(())
}

/// Panels per row of the per-epoch plot.
fn panel_columns(runs: usize) -> usize {
    (if runs > 9 { 4 } else { 3 }).min(runs.max(1))
}

type RowChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart of one row per name (`names[0]` at the top) over the value axis `x`, with its mesh and,
/// after `rule_after` rows, a rule between the study's runs and the others.
fn rows_chart<'a, DB: DrawingBackend>(
    a: &'a Area<'_, DB>,
    x_desc: &str,
    x: std::ops::Range<f64>,
    names: &'a [String],
    rule_after: Option<usize>,
) -> Result<RowChart<'a, DB>> {
    let n = names.len().max(1);
    // The names' width in the font they are drawn in (a width guessed from the character count cut
    // "AdamW + WarmupStableDecayLR"), plus the tick mark and the gap before it.
    let tick_text = ("sans-serif", TICK_PX).into_text_style(a);
    let mut widest = 0;
    for name in names {
        widest = widest.max(a.estimate_text_size(name, &tick_text).map_err(err)?.0);
    }
    let mut chart = ChartBuilder::on(a)
        .margin(10)
        .margin_right(24)
        .x_label_area_size(TICK_PX * 3 + 10)
        .y_label_area_size((widest + 24).clamp(60, 700))
        // Row k is centred on y = n - 1 - k: the first name on top, no empty row.
        .build_cartesian_2d(x, -0.6..(n as f64 - 0.4))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_desc)
        // Rounded to what the ticks can show, so that 0 does not print as -0.0.
        .x_label_formatter(&|v| format!("{}", (v * 1e6).round() / 1e6 + 0.0))
        .y_labels(n)
        .y_label_formatter(&|v| {
            let k = n as f64 - 1.0 - v.round();
            let on_row = (v - v.round()).abs() < 1e-6;
            match names.get(k as usize) {
                Some(s) if on_row && k >= 0.0 => s.clone(),
                _ => String::new(),
            }
        })
        .label_style(("sans-serif", TICK_PX))
        .axis_desc_style(("sans-serif", TICK_PX))
        .draw()
        .map_err(err)?;
    if let Some(k) = rule_after {
        let y = n as f64 - 0.5 - k as f64;
        let grey = RGBColor(0x60, 0x60, 0x60);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(chart.x_range().start, y), (chart.x_range().end, y)],
                grey.stroke_width(2),
            )))
            .map_err(err)?;
    }
    Ok(chart)
}

/// The y coordinate of row `k` of `n` (row 0 on top).
fn row_y(k: usize, n: usize) -> f64 {
    (n - 1 - k) as f64
}

/// A run's marker at `(x, y)`: filled, or hollow for single seeds.
fn marker<DB: DrawingBackend>(
    chart: &mut RowChart<'_, DB>,
    (x, y): (f64, f64),
    style: RunStyle,
    size: i32,
    filled: bool,
) -> Result<()> {
    let s = if filled {
        style.color.filled()
    } else {
        style.color.stroke_width(2)
    };
    let c = (x, y);
    match style.marker {
        Marker::Circle => chart
            .draw_series(std::iter::once(Circle::new(c, size, s)))
            .map(|_| ()),
        Marker::Square => chart
            .draw_series(std::iter::once(
                EmptyElement::at(c) + Rectangle::new([(-size, -size), (size, size)], s),
            ))
            .map(|_| ()),
        Marker::Triangle => chart
            .draw_series(std::iter::once(TriangleMarker::new(c, size + 1, s)))
            .map(|_| ()),
    }
    .map_err(err)
}

/// A horizontal interval at row `y` from `lo` to `hi`, clipped to the axis `[x0, x1]` with an
/// arrow head where it is cut.
fn interval<DB: DrawingBackend>(
    chart: &mut RowChart<'_, DB>,
    y: f64,
    (lo, hi): (f64, f64),
    (x0, x1): (f64, f64),
    color: RGBColor,
) -> Result<()> {
    let (a, b) = (lo.max(x0), hi.min(x1));
    let line = color.stroke_width(3);
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(a, y), (b, y)],
            line,
        )))
        .map_err(err)?;
    for (end, cut, dir) in [(a, lo < x0, -1), (b, hi > x1, 1)] {
        let head: Vec<(i32, i32)> = if cut {
            vec![(0, -7), (10 * dir, 0), (0, 7)]
        } else {
            vec![(0, -8), (0, 8)]
        };
        let shape = EmptyElement::at((end, y))
            + Polygon::new(
                if cut {
                    head
                } else {
                    vec![(-1, -8), (1, -8), (1, 8), (-1, 8)]
                },
                color.filled(),
            );
        chart.draw_series(std::iter::once(shape)).map_err(err)?;
    }
    Ok(())
}

/// The value axis of an accuracy plot: the values, padded, within [0, 1] where an accuracy lies. A
/// mean ± std reaching past 1 (seeds that died beside seeds that trained) is drawn cut, with an
/// arrow, instead of stretching the axis to accuracies no run can have.
fn accuracy_axis(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = range(values.map(|v| v.clamp(0.0, 1.0) as f32));
    ((lo as f64).max(0.0), (hi as f64).min(1.0))
}

/// Final test accuracy per run, best first: mean (filled marker) ± std (bar), each seed (hollow
/// marker), and the study's single run (red cross).
fn final_accuracy<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let order = display_order(groups);
    let styles = run_styles(groups);
    let stats: Vec<(f64, f64)> = groups
        .iter()
        .map(|g| {
            let (m, s) = g.mean_std(|r| r.final_accuracy as f64);
            (m, s.unwrap_or(0.0))
        })
        .collect();
    let study: Vec<Option<f64>> = groups
        .iter()
        .map(|g| crate::results::study::study_accuracy(&g.name).map(f64::from))
        .collect();
    let values = stats
        .iter()
        .flat_map(|(m, s)| [m - s, m + s])
        .chain(study.iter().flatten().copied())
        .chain(
            groups
                .iter()
                .flat_map(|g| g.pairs.iter().map(|p| p.final_accuracy as f64)),
        );
    let (lo, hi) = accuracy_axis(values);
    let seeds = groups.iter().map(|g| g.pairs.len()).max().unwrap_or(0);
    let n = groups.len();
    let names: Vec<String> = order.iter().map(|&i| groups[i].name.clone()).collect();
    let rule = study_rows(groups, &order);
    let mut caption = if seeds >= 2 {
        format!("filled: mean ± std over {seeds} seeds; hollow: each seed")
    } else {
        "one seed".to_string()
    };
    if study.iter().any(Option::is_some) {
        caption += "; red ×: the study's single PyTorch run";
    }
    if rule.is_some() {
        caption += "; below the rule: runs not in the study";
    }
    caption += &axis_note(lo, hi);
    let body = heading(a, "Final test accuracy", &caption)?;
    let mut chart = rows_chart(&body, "test accuracy", lo..hi, &names, rule)?;
    for (row, &i) in order.iter().enumerate() {
        let style = styles[i];
        let (m, s) = stats[i];
        let y = row_y(row, n);
        if s > 0.0 {
            interval(&mut chart, y, (m - s, m + s), (lo, hi), style.color)?;
        }
        if seeds >= 2 {
            for p in &groups[i].pairs {
                marker(&mut chart, (p.final_accuracy as f64, y), style, 5, false)?;
            }
        }
        marker(&mut chart, (m, y), style, 7, true)?;
        if let Some(v) = study[i] {
            chart
                .draw_series(std::iter::once(Cross::new(
                    (v, y),
                    7,
                    STUDY_RED.stroke_width(3),
                )))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// The value axis of a forest plot: every mean and 0, widened by the typical interval, so that
/// one outlier's wide interval is cut (with an arrow) rather than squeezing every other row.
fn forest_range(rows: &[(f64, f64)]) -> (f64, f64) {
    let mut halves: Vec<f64> = rows.iter().map(|r| r.1).collect();
    halves.sort_by(f64::total_cmp);
    let typical = halves.get(halves.len() / 2).copied().unwrap_or(0.0);
    let (mut lo, mut hi) = (0f64, 0f64);
    for &(m, h) in rows {
        // Each interval counts up to three typical half-widths.
        let h = h.min(3.0 * typical);
        lo = lo.min(m - h);
        hi = hi.max(m + h);
    }
    let pad = (hi - lo).max(1e-6) * 0.05;
    (lo - pad, hi + pad)
}

/// Paired differences of final accuracy to each run's reference run
/// ([`crate::results::stats::references`]), with 95% t intervals (needs >= 2 seeds).
fn paired_differences<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let styles = run_styles(groups);
    let refs = crate::results::stats::references(groups);
    let rows: Vec<(usize, crate::results::stats::PairedDiff)> = display_order(groups)
        .into_iter()
        .filter_map(|i| {
            let r = refs[i].filter(|&r| r != i)?;
            crate::results::stats::paired_diff(&groups[i], &groups[r], |p| p.final_accuracy as f64)
                .filter(|d| d.half_width.is_some())
                .map(|d| (i, d))
        })
        .collect();
    let (lo, hi) = forest_range(
        &rows
            .iter()
            .map(|(_, d)| (d.mean, d.half_width.unwrap_or(0.0)))
            .collect::<Vec<_>>(),
    );
    let n = rows.len().max(1);
    let names: Vec<String> = rows.iter().map(|(i, _)| groups[*i].name.clone()).collect();
    let order: Vec<usize> = rows.iter().map(|(i, _)| *i).collect();
    let rule = study_rows(groups, &order);
    let seeds = rows.iter().map(|(_, d)| d.n).max().unwrap_or(0);
    let minus = match crate::results::stats::one_reference(&refs) {
        Some(r) => short_name(&groups[r].name),
        None => "the constant-lr run of its optimizer (Schedule-Free: of SGD or AdamW)".to_string(),
    };
    let mut caption = format!(
        "minus {minus} on the same seed (same weights and batches): mean and 95% t interval over {seeds} seeds"
    );
    if rule.is_some() {
        caption += "; below the rule: runs not in the study";
    }
    let body = heading(a, "Paired difference to Constant", &caption)?;
    let x_desc = "difference in final test accuracy (arrow: interval cut at the axis)";
    let mut chart = rows_chart(&body, x_desc, lo..hi, &names, rule)?;
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, -0.6), (0.0, n as f64 - 0.4)],
            6,
            4,
            REFERENCE_GREY.stroke_width(2),
        ))
        .map_err(err)?;
    for (row, (i, d)) in rows.iter().enumerate() {
        let style = styles[*i];
        let h = d.half_width.unwrap_or(0.0);
        let y = row_y(row, n);
        interval(
            &mut chart,
            y,
            (d.mean - h, d.mean + h),
            (lo, hi),
            style.color,
        )?;
        marker(&mut chart, (d.mean, y), style, 7, true)?;
    }
    Ok(())
}

/// The format of a results set's plots: PNG only. One format keeps a set light (no second copy of
/// every plot); PNG because its text is rendered here, the same in every viewer, at a known pixel
/// size, while an SVG's text depends on the viewer's fonts. `curve --plot` still writes either.
pub const FORMAT: &str = "png";

/// Whether a set gets the paired differences: some run has a reference run and some run 2 or more
/// seeds.
fn has_paired(groups: &[Group]) -> bool {
    crate::results::stats::references(groups)
        .iter()
        .enumerate()
        .any(|(i, r)| r.is_some_and(|r| r != i))
        && groups.iter().any(|g| g.pairs.len() >= 2)
}

/// The file stems of a results set's plots: the paired differences where `has_paired`, the
/// tuning curves for an lr grid ([`tuning_points`]).
pub fn names(groups: &[Group]) -> Vec<&'static str> {
    let mut n = vec!["final_accuracy", "test_accuracy", "lr_grid"];
    if has_paired(groups) {
        n.insert(1, "paired_differences");
    }
    if !tuning_points(groups).is_empty() {
        n.insert(0, "tuning");
    }
    n
}

/// One run's tuning curve: its name, its (base) optimizer, and (lr, validation accuracy) by lr.
pub type TuningCurve = (String, &'static str, Vec<(f32, f32)>);

/// Where a set is an lr grid (every run named `<run> @ <lr>`, as `tune.py grid` names them, with
/// a validation accuracy): per run and optimizer, its (lr, mean final validation accuracy) points,
/// by lr. Empty for any other set.
pub fn tuning_points(groups: &[Group]) -> Vec<TuningCurve> {
    let mut runs: Vec<TuningCurve> = Vec::new();
    for g in groups {
        let Some((base, _)) = g.name.rsplit_once(" @ ") else {
            return Vec::new();
        };
        let (acc, _) = g.mean_std(|p| p.final_val_accuracy().map_or(f64::NAN, f64::from));
        if acc.is_nan() {
            return Vec::new();
        }
        let point = (g.pairs[0].lr, acc as f32);
        match runs.iter_mut().find(|r| r.0 == base) {
            Some(r) => r.2.push(point),
            None => runs.push((base.to_string(), g.optimizer().base_kind(), vec![point])),
        }
    }
    for r in &mut runs {
        r.2.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    runs
}

/// The legend of a chart's labelled series: a white box with a black border, tick-sized text.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", TICK_PX))
        .draw()
        .map_err(err)
}

/// The tuning curves of an lr grid: final validation accuracy against the lr (log axis), one line
/// per run, one panel per optimizer (a Schedule-Free run in its base optimizer's panel); each run's
/// best lr ringed.
fn tuning<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let runs = tuning_points(groups);
    let mut kinds: Vec<&str> = Vec::new();
    for r in &runs {
        if !kinds.contains(&r.1) {
            kinds.push(r.1);
        }
    }
    let seeds = groups.iter().map(|g| g.pairs.len()).max().unwrap_or(0);
    let caption = format!(
        "final validation accuracy (held-out training images) against the lr, mean over {seeds} seed(s); ringed: each run's best lr; each panel's axis from 0.25 below its best (lower points leave at the bottom)"
    );
    let body = heading(a, "Tuning curves: validation accuracy against lr", &caption)?;
    let cells = body.split_evenly((1, kinds.len().max(1)));
    for (kind, cell) in kinds.iter().zip(cells.iter()) {
        let mine: Vec<_> = runs.iter().filter(|r| r.1 == *kind).collect();
        // Diverged and barely trained runs would squash the top: 0.25 below the panel's best.
        let best = mine
            .iter()
            .flat_map(|r| r.2.iter().map(|p| p.1))
            .fold(0f32, f32::max);
        let (lo, hi) = ((best - 0.25).max(0.0), (best + 0.02).min(1.0));
        let xs = mine.iter().flat_map(|r| r.2.iter().map(|p| p.0.log10()));
        let (x0, x1) = xs.fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(x), b.max(x)));
        let mut chart = ChartBuilder::on(cell)
            .caption(*kind, ("sans-serif", PANEL_TITLE_PX + 4))
            .margin(12)
            .x_label_area_size(TICK_PX * 3)
            .y_label_area_size(TICK_PX * 4)
            .build_cartesian_2d((x0 - 0.2)..(x1 + 0.2), lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|v| format!("{:.1e}", 10f32.powf(*v)))
            .y_labels(6)
            .y_label_formatter(&|v| format!("{v:.2}"))
            .x_desc("lr (log scale)")
            .y_desc("final validation accuracy")
            .light_line_style(WHITE)
            .label_style(("sans-serif", TICK_PX))
            .axis_desc_style(("sans-serif", TICK_PX))
            .draw()
            .map_err(err)?;
        for (k, (name, _, points)) in mine.iter().enumerate() {
            let st = style(k);
            let color = st.color.to_rgba();
            let line: Vec<(f32, f32)> = points.iter().map(|p| (p.0.log10(), p.1)).collect();
            for part in clip_below(&line, lo) {
                chart
                    .draw_series(LineSeries::new(part, color.stroke_width(3)))
                    .map_err(err)?;
            }
            let shown: Vec<_> = line.iter().filter(|p| p.1 >= lo).copied().collect();
            chart
                .draw_series(shown.iter().map(|&p| Circle::new(p, 5, color.filled())))
                .map_err(err)?
                .label(short_name(name))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3))
                });
            if let Some(top) = shown.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)) {
                chart
                    .draw_series([Circle::new(top, 11, color.stroke_width(2))])
                    .map_err(err)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}

/// All the bench plots under `dir`: final accuracy, the paired differences (2 or more seeds),
/// accuracy per epoch and the LR grid. No plot per run: the grid shows every run's lr and momentum,
/// and `curve --plot` draws one large.
pub fn all(dir: &Path, groups: &[Group]) -> Result<()> {
    let ext = FORMAT;
    let rows = groups.len().div_ceil(3) as u32;
    render_both!(
        &dir.join(format!("lr_grid.{ext}")),
        (1500, 80 + 360 * rows.max(1)),
        |a| lr_grid(a, groups)
    )?;
    let rows = groups.len().div_ceil(panel_columns(groups.len())) as u32;
    render_both!(
        &dir.join(format!("test_accuracy.{ext}")),
        (1600, 80 + 270 * rows.max(1)),
        |a| accuracy_panels(a, groups)
    )?;
    render_both!(
        &dir.join(format!("final_accuracy.{ext}")),
        (1400, 150 + 42 * groups.len() as u32),
        |a| final_accuracy(a, groups)
    )?;
    if has_paired(groups) {
        render_both!(
            &dir.join(format!("paired_differences.{ext}")),
            (1400, 150 + 42 * groups.len() as u32),
            |a| paired_differences(a, groups)
        )?;
    }
    if !tuning_points(groups).is_empty() {
        render_both!(&dir.join(format!("tuning.{ext}")), (1600, 700), |a| {
            tuning(a, groups)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_is_legible_and_distinct_for_21_runs() {
        for c in PALETTE.into_iter().chain([REFERENCE_GREY]) {
            assert!(
                contrast_on_white(c) >= 3.0,
                "{c:?}: {:.2}",
                contrast_on_white(c)
            );
        }
        let styles: Vec<_> = (0..21).map(style).collect();
        for (i, a) in styles.iter().enumerate() {
            assert!(!styles[i + 1..].contains(a), "run {i} shares its style");
        }
        // The pale colours of plotters' default palette are out.
        assert!(contrast_on_white(RGBColor(0xF0, 0xE4, 0x42)) < 3.0);
        // Every run the committed results name has its own fixed style.
        for (i, a) in KNOWN_RUNS.iter().enumerate() {
            assert!(!KNOWN_RUNS[i + 1..].contains(a), "{a} listed twice");
        }
    }

    #[test]
    fn epoch_ticks_are_integers_and_few() {
        assert_eq!(integer_ticks(1, 15, 8), vec![1, 3, 5, 7, 9, 11, 13, 15]);
        assert_eq!(integer_ticks(1, 3, 8), vec![1, 2, 3]);
        assert_eq!(integer_ticks(1, 2, 8), vec![1, 2]);
        assert_eq!(integer_ticks(1, 100, 8), vec![1, 21, 41, 61, 81]);
    }

    #[test]
    fn axis_note_says_when_the_axis_does_not_start_at_zero() {
        assert_eq!(axis_note(0.0, 1.0), "");
        assert_eq!(axis_note(0.775, 0.87), "; axis 0.775 to 0.870, not from 0");
    }

    #[test]
    fn lines_are_cut_where_they_leave_the_panel_floor() {
        let parts = clip_below(
            &[(1.0, 0.2), (2.0, 0.6), (3.0, 0.8), (4.0, 0.4), (5.0, 0.9)],
            0.5,
        );
        let near = |a: &[(f32, f32)], b: &[(f32, f32)]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(p, q)| (p.0 - q.0).abs() < 1e-5 && (p.1 - q.1).abs() < 1e-5)
        };
        assert_eq!(parts.len(), 2, "{parts:?}");
        let first = [(1.75, 0.5), (2.0, 0.6), (3.0, 0.8), (3.75, 0.5)];
        assert!(near(&parts[0], &first), "{parts:?}");
        assert!(near(&parts[1], &[(4.2, 0.5), (5.0, 0.9)]), "{parts:?}");
    }

    #[test]
    fn accuracy_axis_stays_within_0_and_1() {
        // One seed of three died at 0.1: mean 0.624, std 0.454, so mean + std is 1.078.
        let (lo, hi) = accuracy_axis([0.624 - 0.454, 0.624 + 0.454, 0.1, 0.897, 0.875].into_iter());
        assert_eq!(hi, 1.0);
        assert!(lo > 0.05 && lo < 0.1, "{lo}");
        let (lo, hi) = accuracy_axis([0.89, 0.91].into_iter());
        assert!(
            lo > 0.888 && lo < 0.89 && hi > 0.91 && hi < 0.912,
            "{lo} {hi}"
        );
        assert_eq!(
            accuracy_axis([1.0, 1.0].into_iter()),
            (f64::from(0.9_f32), 1.0)
        );
    }

    #[test]
    fn an_outlier_interval_does_not_set_the_forest_axis() {
        // Twelve runs within +-0.05 and one (V1 at 3 epochs) with a +-0.55 interval.
        let mut rows: Vec<(f64, f64)> = (0..12).map(|k| (-0.02 + 0.004 * k as f64, 0.02)).collect();
        rows.push((-0.25, 0.55));
        let (lo, hi) = forest_range(&rows);
        assert!(lo > -0.35 && hi < 0.1, "{lo} {hi}");
        assert!(lo < -0.25, "the outlier's mean stays on the axis");
    }
}
