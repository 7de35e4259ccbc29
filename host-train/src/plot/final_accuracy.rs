//! Final test accuracy per run: mean, ± std, each seed, the study's value.

use super::*;

/// Final test accuracy per run, best first: mean (filled marker) ± std (bar), each seed (hollow
/// marker), and the study's single run (red cross).
pub(super) fn final_accuracy<DB: DrawingBackend>(a: &Area<'_, DB>, groups: &[Group]) -> Result<()> {
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
