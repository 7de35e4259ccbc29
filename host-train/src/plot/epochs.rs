//! Test accuracy per epoch: one panel per run on shared axes, each seed faint, the reference in grey.

use super::*;

/// A run's line in an epoch panel, in its colour and line style, cut at the panel's floor `lo`.
pub(super) fn epoch_line<DB: DrawingBackend>(
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
pub(super) type Curve = Vec<(i32, f32)>;

/// Mean test accuracy per epoch of a run over its seeds, and each seed's curve.
pub(super) fn epoch_curves(g: &Group) -> (Curve, Vec<Curve>) {
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
pub(super) fn floor_epoch(epochs: i32) -> i32 {
    (epochs / 3).max(2).min(epochs)
}

/// Test accuracy per epoch, one panel per run with shared axes: the run's seeds faint, their mean
/// bold, and the reference run's mean in grey in every other panel.
pub(super) fn accuracy_panels<DB: DrawingBackend>(
    a: &Area<'_, DB>,
    groups: &[Group],
) -> Result<()> {
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
pub(super) fn panel_columns(runs: usize) -> usize {
    (if runs > 9 { 4 } else { 3 }).min(runs.max(1))
}
