//! The row charts the final-accuracy and paired-difference figures share: one row per run.

use super::*;

pub(super) type RowChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart of one row per name (`names[0]` at the top) over the value axis `x`, with its mesh and,
/// after `rule_after` rows, a rule between the study's runs and the others.
pub(super) fn rows_chart<'a, DB: DrawingBackend>(
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
pub(super) fn row_y(k: usize, n: usize) -> f64 {
    (n - 1 - k) as f64
}

/// A run's marker at `(x, y)`: filled, or hollow for single seeds.
pub(super) fn marker<DB: DrawingBackend>(
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
pub(super) fn interval<DB: DrawingBackend>(
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
pub(super) fn accuracy_axis(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = range(values.map(|v| v.clamp(0.0, 1.0) as f32));
    ((lo as f64).max(0.0), (hi as f64).min(1.0))
}
