//! A tuning grid's final (validation) accuracy against the lr, one curve per schedule.

use super::*;

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

/// The tuning curves of an lr grid: final validation accuracy against the lr (log axis), one line
/// per run, one panel per optimizer (a Schedule-Free run in its base optimizer's panel); each run's
/// best lr ringed.
pub(super) fn tuning<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
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
