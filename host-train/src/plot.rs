//! Plots (plotters, PNG and SVG): schedule curves, test accuracy per epoch, final accuracy bars.

use crate::store::Group;
use anyhow::{anyhow, bail, Context, Result};
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

fn accuracy_curves<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let epochs = groups
        .iter()
        .flat_map(|g| g.pairs.iter().map(|p| p.epochs.len()))
        .max()
        .unwrap_or(1)
        .max(2);
    let mean_curve = |g: &Group| -> Vec<(f32, f32)> {
        (0..epochs)
            .filter_map(|e| {
                let v: Vec<f32> = g
                    .pairs
                    .iter()
                    .filter_map(|p| p.epochs.get(e).map(|r| r.test_accuracy))
                    .collect();
                (!v.is_empty()).then(|| ((e + 1) as f32, v.iter().sum::<f32>() / v.len() as f32))
            })
            .collect()
    };
    let curves: Vec<_> = groups.iter().map(mean_curve).collect();
    let (lo, hi) = range(curves.iter().flatten().map(|p| p.1));
    let mut chart = ChartBuilder::on(a)
        .caption(
            "Test accuracy per epoch (mean over seeds)",
            ("sans-serif", 24),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(1f32..epochs as f32, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("test accuracy")
        .draw()
        .map_err(err)?;
    for (i, (g, c)) in groups.iter().zip(&curves).enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(c.iter().copied(), color.stroke_width(2)))
            .map_err(err)?
            .label(g.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn final_bars<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
    let stats: Vec<(f64, f64)> = groups
        .iter()
        .map(|g| {
            let (m, s) = g.mean_std(|r| r.final_accuracy as f64);
            (m, s.unwrap_or(0.0))
        })
        .collect();
    let (lo, hi) = range(
        stats
            .iter()
            .flat_map(|(m, s)| [(*m - *s) as f32, (*m + *s) as f32]),
    );
    let lo = lo.min(hi - 0.02);
    let n = groups.len();
    let mut chart = ChartBuilder::on(a)
        .caption(
            "Final test accuracy (mean ± std over seeds)",
            ("sans-serif", 24),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(390)
        .build_cartesian_2d(lo as f64..hi as f64, (0..n).into_segmented())
        .map_err(err)?;
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("test accuracy")
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_labels(n)
        .draw()
        .map_err(err)?;
    for (i, &(m, s)) in stats.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (lo as f64, SegmentValue::Exact(i)),
                    (m, SegmentValue::Exact(i + 1)),
                ],
                color.mix(0.7).filled(),
            )))
            .map_err(err)?;
        if s > 0.0 {
            chart
                .draw_series(std::iter::once(ErrorBar::new_horizontal(
                    SegmentValue::CenterOf(i),
                    m - s,
                    m,
                    m + s,
                    BLACK.stroke_width(2),
                    10,
                )))
                .map_err(err)?;
        }
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
        render_both!(
            &dir.join(format!("test_accuracy.{ext}")),
            (1100, 700),
            |a| accuracy_curves(a, groups)
        )?;
        render_both!(
            &dir.join(format!("final_accuracy.{ext}")),
            (1100, 120 + 40 * groups.len() as u32),
            |a| final_bars(a, groups)
        )?;
    }
    Ok(())
}
