//! The lr (and momentum) figures: `curve --plot`'s schedule and the report's grid of every run's.

use super::*;

/// One lr panel: the lr on a log axis over `lr_range`, and below it, when `momentum_range` is
/// given, the momentum on its own linear axis.
pub(super) fn lr_panel<DB: DrawingBackend>(
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
pub(super) fn momentum_panel<DB: DrawingBackend>(
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
pub(super) fn lr_ranges<'a>(
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

/// `curve --plot`: the lr (log axis) and momentum of one schedule; over several param groups,
/// one panel per group on a shared lr axis.
pub fn schedule_curve(path: &Path, title: &str, groups: &[(&[f32], &[f32])]) -> Result<()> {
    if groups.iter().all(|(lrs, _)| lrs.is_empty()) {
        bail!("cannot plot {}: no steps", path.display());
    }
    let ranges = lr_ranges(groups.iter().copied());
    let style = RunStyle {
        color: PALETTE[1],
        marker: Marker::Circle,
        dash: Dash::Solid,
    };
    let height = 560 * groups.len().clamp(1, 4) as u32;
    render_both!(path, (900, height), |a| group_panels(
        a, title, groups, style, ranges
    ))
}

fn group_panels<DB: DrawingBackend>(
    a: &Area<'_, DB>,
    title: &str,
    groups: &[(&[f32], &[f32])],
    style: RunStyle,
    ranges: ((f32, f32), Option<(f32, f32)>),
) -> Result<()> {
    for (g, ((lrs, momenta), panel)) in groups
        .iter()
        .zip(&a.split_evenly((groups.len(), 1)))
        .enumerate()
    {
        let title = match groups.len() {
            1 => title.to_string(),
            _ => format!("{title}: param group {g}"),
        };
        lr_panel(panel, &title, lrs, momenta, style, ranges, (22, TICK_PX))?;
    }
    Ok(())
}

pub(super) fn lr_grid<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
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

/// The parts of a polyline at or above `lo`, cut where it crosses `lo` (points below the axis
/// would be drawn outside the panel).
pub(super) fn clip_below(points: &[(f32, f32)], lo: f32) -> Vec<Vec<(f32, f32)>> {
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
