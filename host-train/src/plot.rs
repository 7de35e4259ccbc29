//! Plots (plotters, PNG and SVG): schedule curves, test accuracy per epoch (one panel per run), final
//! accuracy (runs sorted, seeds and the study's value marked), paired differences to the reference run.

use crate::store::Group;
use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf32, RangedCoordf64, RangedCoordi32, RangedCoordusize};
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
    crate::font::register();
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
        render($path, $size, |a| $f(a), |a| $f(a))
    };
}

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

fn lr_panel<DB: DrawingBackend>(
    area: &Area<'_, DB>,
    title: &str,
    lrs: &[f32],
    momenta: &[f32],
    font: u32,
) -> Result<()> {
    let n = lrs.len().max(2);
    let (lo, hi) = range(lrs.iter().copied());
    let (mlo, mhi) = range(momenta.iter().copied());
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", font))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(85)
        .right_y_label_area_size(if momenta.iter().any(|&m| m != 0.0) {
            70
        } else {
            0
        })
        .build_cartesian_2d(0f32..(n - 1) as f32, lo..hi)
        .map_err(err)?
        .set_secondary_coord(0f32..(n - 1) as f32, mlo..mhi);
    chart
        .configure_mesh()
        .x_desc("optimizer step")
        .y_desc("lr")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.3e}"))
        .label_style(("sans-serif", font.saturating_sub(6).max(9)))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            lrs.iter().enumerate().map(|(i, &v)| (i as f32, v)),
            BLUE.stroke_width(2),
        ))
        .map_err(err)?
        .label("lr")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE));
    if momenta.iter().any(|&m| m != 0.0) {
        chart
            .configure_secondary_axes()
            .y_desc("momentum")
            .y_label_formatter(&|v| format!("{v:.3}"))
            .label_style(("sans-serif", font.saturating_sub(6).max(9)))
            .draw()
            .map_err(err)?;
        chart
            .draw_secondary_series(LineSeries::new(
                momenta.iter().enumerate().map(|(i, &v)| (i as f32, v)),
                RED.stroke_width(1),
            ))
            .map_err(err)?
            .label("momentum")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// Draws one schedule's lr and momentum against the optimizer step (.png or .svg).
pub fn schedule_curve(path: &Path, title: &str, lrs: &[f32], momenta: &[f32]) -> Result<()> {
    if lrs.is_empty() {
        bail!("cannot plot {}: no steps", path.display());
    }
    fn f<DB: DrawingBackend>(
        a: &Area<'_, DB>,
        title: &str,
        lrs: &[f32],
        momenta: &[f32],
    ) -> Result<()> {
        lr_panel(a, title, lrs, momenta, 22)
    }
    render_both!(path, (900, 500), |a| f(a, title, lrs, momenta))
}

fn lr_grid<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let cols = 3usize;
    let rows = groups.len().div_ceil(cols);
    let cells = a.split_evenly((rows, cols));
    for (g, cell) in groups.iter().zip(cells.iter()) {
        let p = g.pairs[0];
        lr_panel(cell, &g.name, &p.trace_lr, &p.trace_momentum, 14)?;
    }
    Ok(())
}

/// Line colours for runs: the Okabe–Ito colour-blind-safe set without its yellow and sky blue (too
/// pale on white) and with its orange darkened, so each has at least 3:1 contrast on white.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xA6, 0x6A, 0x00),
];

/// Line styles that extend the palette beyond 6 runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// The colour and line style of the run at `index` in config order: the same in every plot.
pub fn run_style(index: usize) -> (RGBColor, Dash) {
    let dash = [Dash::Solid, Dash::Dashed, Dash::Dotted][(index / PALETTE.len()) % 3];
    (PALETTE[index % PALETTE.len()], dash)
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

/// Group indices ordered by mean final accuracy, best first (ties in config order).
pub fn by_mean_accuracy(groups: &[Group]) -> Vec<usize> {
    let mean = |g: &Group| g.mean_std(|r| r.final_accuracy as f64).0;
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| mean(&groups[b]).total_cmp(&mean(&groups[a])));
    order
}

/// The note a title carries when a value axis does not start at zero.
pub fn axis_note(lo: f64, hi: f64) -> String {
    if lo > 0.0 {
        format!("; axis {lo:.3} to {hi:.3}, not from 0")
    } else {
        String::new()
    }
}

type EpochChart<'a, 'b, DB> =
    ChartContext<'a, DB, Cartesian2d<WithKeyPoints<RangedCoordi32>, RangedCoordf32>>;

/// A run's line in an epoch panel, in its colour and line style.
fn epoch_line<DB: DrawingBackend>(
    chart: &mut EpochChart<'_, '_, DB>,
    points: Vec<(i32, f32)>,
    color: RGBAColor,
    dash: Dash,
    width: u32,
) -> Result<()> {
    let style = color.stroke_width(width);
    match dash {
        Dash::Solid => chart
            .draw_series(LineSeries::new(points, style))
            .map(|_| ()),
        Dash::Dashed => chart
            .draw_series(DashedLineSeries::new(points, 9, 5, style))
            .map(|_| ()),
        Dash::Dotted => chart
            .draw_series(DashedLineSeries::new(points, 2, 4, style))
            .map(|_| ()),
    }
    .map_err(err)
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

/// Test accuracy per epoch, one panel per run with shared axes: the run's seeds faint, their mean
/// bold, and the reference run's mean in grey in every other panel.
fn accuracy_panels<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let curves: Vec<_> = groups.iter().map(epoch_curves).collect();
    let epochs = curves
        .iter()
        .flat_map(|(m, _)| m.last().map(|p| p.0))
        .max()
        .unwrap_or(1)
        .max(2);
    let (lo, hi) = range(
        curves
            .iter()
            .flat_map(|(m, seeds)| m.iter().chain(seeds.iter().flatten()).map(|p| p.1)),
    );
    let reference = groups
        .iter()
        .position(|g| g.name == crate::report::REFERENCE_RUN);
    let cols = panel_columns(groups.len());
    let rows = groups.len().div_ceil(cols);
    let (title, body) = a.split_vertically(40);
    title
        .titled(
            &format!(
                "Test accuracy per epoch (bold: mean over seeds, faint: each seed, grey: {}){}",
                reference.map_or("-", |r| groups[r].name.as_str()),
                axis_note(lo as f64, hi as f64)
            ),
            ("sans-serif", 20),
        )
        .map_err(err)?;
    let cells = body.split_evenly((rows, cols));
    for (i, ((g, (mean, seeds)), cell)) in groups.iter().zip(&curves).zip(cells.iter()).enumerate()
    {
        let (color, dash) = run_style(i);
        let mut chart = ChartBuilder::on(cell)
            .caption(&g.name, ("sans-serif", 13))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(42)
            .build_cartesian_2d(
                (1..epochs).with_key_points(integer_ticks(1, epochs, 8)),
                lo..hi,
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(err)?;
        if let Some(r) = reference.filter(|&r| r != i) {
            let grey = RGBColor(150, 150, 150).to_rgba();
            epoch_line(&mut chart, curves[r].0.clone(), grey, Dash::Solid, 2)?;
        }
        for s in seeds {
            epoch_line(&mut chart, s.clone(), color.mix(0.35), Dash::Solid, 1)?;
        }
        epoch_line(&mut chart, mean.clone(), color.to_rgba(), dash, 3)?;
    }
    Ok(())
}

/// Panels per row of the per-epoch plot.
fn panel_columns(runs: usize) -> usize {
    (if runs > 9 { 4 } else { 3 }).min(runs.max(1))
}

type RowChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>>;

/// A chart of one row per name (`names[0]` at the bottom) over the value axis `x`, with its mesh.
fn rows_chart<'a, DB: DrawingBackend>(
    a: &'a Area<'_, DB>,
    caption: &str,
    x_desc: &str,
    x: std::ops::Range<f64>,
    names: &[String],
) -> Result<RowChart<'a, DB>> {
    let n = names.len().max(1);
    let mut chart = ChartBuilder::on(a)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(390)
        .build_cartesian_2d(x, (0..n).into_segmented())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_desc)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(row) => names.get(*row).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_labels(n)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Final test accuracy per run, best first: mean (filled dot) ± std (bar), each seed (hollow dot), and
/// the study's single run (red cross).
fn final_accuracy<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let order = by_mean_accuracy(groups);
    let stats: Vec<(f64, f64)> = groups
        .iter()
        .map(|g| {
            let (m, s) = g.mean_std(|r| r.final_accuracy as f64);
            (m, s.unwrap_or(0.0))
        })
        .collect();
    let study: Vec<Option<f64>> = groups
        .iter()
        .map(|g| crate::report::study_accuracy(&g.name).map(f64::from))
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
    let (lo, hi) = range(values.map(|v| v as f32));
    let (lo, hi) = (lo as f64, hi as f64);
    let seeds = groups.iter().map(|g| g.pairs.len()).max().unwrap_or(0);
    let n = groups.len();
    // Segment 0 is at the bottom: list the best last so that it is drawn on top.
    let names: Vec<String> = order
        .iter()
        .rev()
        .map(|&i| groups[i].name.clone())
        .collect();
    let caption = format!(
        "Final test accuracy, best first: mean ± std over {seeds} seed(s), hollow: each seed, red ×: the study's single run{}",
        axis_note(lo, hi)
    );
    let mut chart = rows_chart(a, &caption, "test accuracy", lo..hi, &names)?;
    for (row, &i) in order.iter().enumerate() {
        let (color, _) = run_style(i);
        let (m, s) = stats[i];
        let y = SegmentValue::CenterOf(n - 1 - row);
        if s > 0.0 {
            chart
                .draw_series(std::iter::once(ErrorBar::new_horizontal(
                    y.clone(),
                    m - s,
                    m,
                    m + s,
                    color.stroke_width(2),
                    10,
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(groups[i].pairs.iter().map(|p| {
                Circle::new(
                    (p.final_accuracy as f64, y.clone()),
                    4,
                    color.stroke_width(1),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (m, y.clone()),
                6,
                color.filled(),
            )))
            .map_err(err)?;
        if let Some(v) = study[i] {
            let red = RGBColor(0xC0, 0x00, 0x00).stroke_width(3);
            chart
                .draw_series(std::iter::once(Cross::new((v, y), 7, red)))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Paired differences of final accuracy to the reference run, with 95% t intervals (needs >= 2 seeds).
fn paired_differences<DB: DrawingBackend>(
    a: &Area<'_, DB>,
    groups: &[Group],
    reference: usize,
) -> Result<()> {
    let mut rows: Vec<(usize, crate::report::PairedDiff)> = groups
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != reference)
        .filter_map(|(i, g)| {
            crate::report::paired_diff(g, &groups[reference], |p| p.final_accuracy as f64)
                .filter(|d| d.half_width.is_some())
                .map(|d| (i, d))
        })
        .collect();
    rows.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
    let ends = rows.iter().flat_map(|(_, d)| {
        let h = d.half_width.unwrap_or(0.0);
        [d.mean - h, d.mean + h]
    });
    let (lo, hi) = range(ends.chain([0.0]).map(|v| v as f32));
    let (lo, hi) = (lo as f64, hi as f64);
    let n = rows.len().max(1);
    let names: Vec<String> = rows
        .iter()
        .rev()
        .map(|(i, _)| groups[*i].name.clone())
        .collect();
    let seeds = rows.iter().map(|(_, d)| d.n).max().unwrap_or(0);
    let caption = format!(
        "Final test accuracy minus {} (same seed: same weights and batches), mean and 95% t interval over {seeds} seeds",
        groups[reference].name
    );
    let x_desc = "paired difference in test accuracy";
    let mut chart = rows_chart(a, &caption, x_desc, lo..hi, &names)?;
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Exact(n))],
            6,
            4,
            RGBColor(120, 120, 120).stroke_width(1),
        ))
        .map_err(err)?;
    for (row, (i, d)) in rows.iter().enumerate() {
        let (color, _) = run_style(*i);
        let h = d.half_width.unwrap_or(0.0);
        let y = SegmentValue::CenterOf(n - 1 - row);
        chart
            .draw_series(std::iter::once(ErrorBar::new_horizontal(
                y.clone(),
                d.mean - h,
                d.mean,
                d.mean + h,
                color.stroke_width(2),
                10,
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Circle::new((d.mean, y), 6, color.filled())))
            .map_err(err)?;
    }
    Ok(())
}

/// All the bench plots under `dir`: one LR curve per run, the LR grid, accuracy per epoch, final bars.
pub fn all(dir: &Path, groups: &[Group]) -> Result<()> {
    for ext in ["png", "svg"] {
        for g in groups {
            let p = g.pairs[0];
            if !p.trace_lr.is_empty() {
                schedule_curve(
                    &dir.join("lr")
                        .join(format!("{}.{ext}", crate::store::slug(&g.name))),
                    &g.name,
                    &p.trace_lr,
                    &p.trace_momentum,
                )?;
            }
        }
        let rows = groups.len().div_ceil(3) as u32;
        render_both!(
            &dir.join(format!("lr_grid.{ext}")),
            (1500, 330 * rows.max(1)),
            |a| lr_grid(a, groups)
        )?;
        let rows = groups.len().div_ceil(panel_columns(groups.len())) as u32;
        render_both!(
            &dir.join(format!("test_accuracy.{ext}")),
            (1400, 60 + 230 * rows.max(1)),
            |a| accuracy_panels(a, groups)
        )?;
        render_both!(
            &dir.join(format!("final_accuracy.{ext}")),
            (1200, 120 + 40 * groups.len() as u32),
            |a| final_accuracy(a, groups)
        )?;
        let reference = groups
            .iter()
            .position(|g| g.name == crate::report::REFERENCE_RUN);
        if let Some(r) = reference.filter(|_| groups.iter().any(|g| g.pairs.len() >= 2)) {
            render_both!(
                &dir.join(format!("paired_differences.{ext}")),
                (1200, 120 + 40 * groups.len() as u32),
                |a| paired_differences(a, groups, r)
            )?;
        }
    }
    Ok(())
}

/// The LR range test: raw and smoothed loss against the lr (log axis), every suggestion marked
/// (`marks`: name, step, suggested lr). The loss axis spans the smoothed curve without its last 5
/// points (as fastai's `plot_lr_find`), so the final blow-up does not flatten the rest.
pub fn lr_find(
    path: &Path,
    title: &str,
    lrs: &[f32],
    raw: &[f32],
    smoothed: &[f32],
    marks: &[(&str, usize, f32)],
) -> Result<()> {
    let shown = smoothed.len().saturating_sub(5).max(smoothed.len().min(2));
    let points = |v: &[f32]| -> Vec<(f32, f32)> {
        lrs.iter()
            .zip(v)
            .take(shown)
            .filter(|(x, y)| x.is_finite() && **x > 0.0 && y.is_finite())
            .map(|(&x, &y)| (x, y))
            .collect()
    };
    let (smooth, raw) = (points(smoothed), points(raw));
    if smooth.len() < 2 {
        bail!("cannot plot {}: fewer than 2 finite points", path.display());
    }
    let (x_lo, x_hi) = (
        smooth[0].0,
        smooth[smooth.len() - 1].0.max(smooth[0].0 * 1.01),
    );
    let (y_lo, y_hi) = range(smooth.iter().map(|p| p.1));
    fn f<DB: DrawingBackend>(
        a: &Area<'_, DB>,
        title: &str,
        (x_lo, x_hi, y_lo, y_hi): (f32, f32, f32, f32),
        smooth: &[(f32, f32)],
        raw: &[(f32, f32)],
        marks: &[(&str, usize, f32)],
        smoothed: &[f32],
    ) -> Result<()> {
        let mut chart = ChartBuilder::on(a)
            .caption(title, ("sans-serif", 22))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), y_lo..y_hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("learning rate (log scale)")
            .y_desc("training loss")
            .light_line_style(WHITE)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(err)?;
        let grey = RGBColor(0x99, 0x99, 0x99);
        // Dots, not a line: raw losses beyond the axis are left out, and a line would bridge them.
        chart
            .draw_series(
                raw.iter()
                    .filter(|p| p.1 >= y_lo && p.1 <= y_hi)
                    .map(|&p| Circle::new(p, 2, grey.filled())),
            )
            .map_err(err)?
            .label("loss of each step (within the axis)")
            .legend(move |(x, y)| Circle::new((x + 7, y), 2, grey.filled()));
        chart
            .draw_series(LineSeries::new(
                smooth.iter().copied(),
                PALETTE[1].stroke_width(3),
            ))
            .map_err(err)?
            .label("smoothed loss (fastai, beta 0.98)")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 15, y)], PALETTE[1].stroke_width(3))
            });
        for (k, &(name, step, lr)) in marks.iter().enumerate() {
            let colour = PALETTE[[2, 3, 4, 5, 0][k % 5]];
            let y = smoothed
                .get(step)
                .copied()
                .unwrap_or(y_lo)
                .clamp(y_lo, y_hi);
            // Minimum suggests a tenth of its point's lr: mark the suggested lr, on the curve's level.
            let x = lr.clamp(x_lo, x_hi);
            chart
                .draw_series(std::iter::once(Circle::new((x, y), 6, colour.filled())))
                .map_err(err)?
                .label(format!("{name}: {lr:.2e}"))
                .legend(move |(x, y)| Circle::new((x + 7, y), 5, colour.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(err)?;
        Ok(())
    }
    let frame = (x_lo, x_hi, y_lo, y_hi);
    render_both!(path, (900, 560), |a| f(
        a, title, frame, &smooth, &raw, marks, smoothed
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_is_legible_and_distinct_for_18_runs() {
        for c in PALETTE {
            assert!(
                contrast_on_white(c) >= 3.0,
                "{c:?}: {:.2}",
                contrast_on_white(c)
            );
        }
        let styles: Vec<_> = (0..18).map(run_style).collect();
        for (i, a) in styles.iter().enumerate() {
            assert!(!styles[i + 1..].contains(a), "run {i} shares its style");
        }
        // The pale colours of plotters' default palette are out.
        assert!(contrast_on_white(RGBColor(0xF0, 0xE4, 0x42)) < 3.0);
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
}
