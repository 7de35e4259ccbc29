//! The paired differences of final accuracy to each run's reference, as a forest plot.

use super::*;

/// The value axis of a forest plot: every mean and 0, widened by the typical interval, so that
/// one outlier's wide interval is cut (with an arrow) rather than squeezing every other row.
pub(super) fn forest_range(rows: &[(f64, f64)]) -> (f64, f64) {
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
pub(super) fn paired_differences<DB: DrawingBackend>(
    a: &Area<'_, DB>,
    groups: &[Group],
) -> Result<()> {
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

/// Whether a set gets the paired differences: some run has a reference run and some run 2 or more
/// seeds.
pub(super) fn has_paired(groups: &[Group]) -> bool {
    crate::results::stats::references(groups)
        .iter()
        .enumerate()
        .any(|(i, r)| r.is_some_and(|r| r != i))
        && groups.iter().any(|g| g.pairs.len() >= 2)
}
