//! The LR range test's figure: raw and smoothed loss against the lr, every suggestion marked.

use super::{err, heading, legend, Area, PALETTE, TICK_PX};
use anyhow::{bail, Result};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use std::path::Path;

/// What the figure draws: the curve's finite points and the suggestions.
struct RangeTest<'a> {
    title: &'a str,
    /// The rule a run would train at (ringed).
    chosen: &'a str,
    /// The lr axis.
    x: (f32, f32),
    smooth: Vec<(f32, f32)>,
    raw: Vec<(f32, f32)>,
    /// Name, step and suggested lr of each suggestion.
    marks: &'a [(&'a str, usize, f32)],
    /// The smoothed loss of every step (a mark off the finite curve sits at its step's value).
    smoothed: &'a [f32],
}

/// The LR range test: raw and smoothed loss against the lr (log axis), every suggestion marked
/// (`marks`: name, step, suggested lr) and `chosen` (the rule a run would train at) ringed. The
/// loss axis holds every finite raw loss; it is logarithmic when they span more than a factor of 3.
pub fn lr_find(
    path: &Path,
    title: &str,
    lrs: &[f32],
    (raw, smoothed): (&[f32], &[f32]),
    marks: &[(&str, usize, f32)],
    chosen: &str,
) -> Result<()> {
    let points = |v: &[f32]| -> Vec<(f32, f32)> {
        lrs.iter()
            .zip(v)
            .filter(|(x, y)| x.is_finite() && **x > 0.0 && y.is_finite() && **y > 0.0)
            .map(|(&x, &y)| (x, y))
            .collect()
    };
    let (smooth, raw) = (points(smoothed), points(raw));
    if smooth.len() < 2 {
        bail!("cannot plot {}: fewer than 2 finite points", path.display());
    }
    let x_lo = smooth[0].0.min(raw.first().map_or(f32::INFINITY, |p| p.0));
    let x_hi = smooth[smooth.len() - 1]
        .0
        .max(raw.last().map_or(0.0, |p| p.0))
        .max(x_lo * 1.01);
    let (lo, hi) = smooth
        .iter()
        .chain(&raw)
        .fold((f32::INFINITY, 0f32), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let figure = RangeTest {
        title,
        chosen,
        x: (x_lo, x_hi),
        smooth,
        raw,
        marks,
        smoothed,
    };
    if hi / lo > 3.0 {
        let (pad_lo, pad_hi) = (lo / 1.1, hi * 1.1);
        // Ticks at 1, 1.5, 2, 3, 4, 5, 6 and 8 times powers of ten: a loss axis rarely spans a decade.
        let ticks: Vec<f32> = (-3..=3)
            .flat_map(|e| [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0].map(|m| m * 10f32.powi(e)))
            .filter(|t| (pad_lo..=pad_hi).contains(t))
            .collect();
        render_both!(path, (1000, 640), |a| figure.draw(
            a,
            (pad_lo..pad_hi).log_scale().with_key_points(ticks.clone())
        ))
    } else {
        let p = (hi - lo).max(1e-6) * 0.05;
        render_both!(path, (1000, 640), |a| figure.draw(a, lo - p..hi + p))
    }
}

impl RangeTest<'_> {
    /// The figure on `a`, its loss axis `y`.
    fn draw<DB: DrawingBackend, Y: AsRangedCoord<Value = f32>>(
        &self,
        a: &Area<'_, DB>,
        y: Y,
    ) -> Result<()>
    where
        Y::CoordDescType: ValueFormatter<f32>,
    {
        let caption = format!(
            "grey dots: loss of each step; blue: smoothed (fastai, beta 0.98); ringed: {}, the suggestion `lr = \"find\"` trains at",
            self.chosen
        );
        let body = heading(a, self.title, &caption)?;
        let (x_lo, x_hi) = self.x;
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .margin_right(24)
            .x_label_area_size(TICK_PX * 3 + 10)
            .y_label_area_size(TICK_PX * 5)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), y)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("learning rate (log scale)")
            .y_desc("training loss")
            .light_line_style(WHITE)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(("sans-serif", TICK_PX))
            .axis_desc_style(("sans-serif", TICK_PX))
            .draw()
            .map_err(err)?;
        // Dots, not a line: a line would bridge the steps whose loss was not finite.
        chart
            .draw_series(
                self.raw
                    .iter()
                    .map(|&p| Circle::new(p, 2, RGBColor(0x90, 0x90, 0x90).filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                self.smooth.iter().copied(),
                PALETTE[1].stroke_width(3),
            ))
            .map_err(err)?;
        for (k, &(name, step, lr)) in self.marks.iter().enumerate() {
            let colour = PALETTE[[2, 3, 4, 5, 0][k % 5]];
            // On the smoothed curve at the suggested lr (minimum suggests a tenth of its point's).
            let x = lr.clamp(x_lo, x_hi);
            let level = self.level_at(x, step);
            chart
                .draw_series(std::iter::once(Circle::new((x, level), 7, colour.filled())))
                .map_err(err)?
                .label(format!("{name}: {lr:.2e}"))
                .legend(move |(x, y)| Circle::new((x + 7, y), 6, colour.filled()));
            if name == self.chosen {
                let ring = Circle::new((x, level), 13, BLACK.stroke_width(3));
                chart.draw_series(std::iter::once(ring)).map_err(err)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }

    /// The smoothed loss at the curve's point nearest to `lr` (log scale); `step`'s own value where
    /// the curve has no point.
    fn level_at(&self, lr: f32, step: usize) -> f32 {
        self.smooth
            .iter()
            .min_by(|a, b| {
                (a.0.ln() - lr.ln())
                    .abs()
                    .total_cmp(&(b.0.ln() - lr.ln()).abs())
            })
            .map_or(self.smoothed.get(step).copied().unwrap_or(1.0), |p| p.1)
    }
}
