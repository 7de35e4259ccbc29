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

mod epochs;
mod final_accuracy;
mod lr_find;
mod paired;
mod rows;
mod schedules;
mod style;
mod tuning;

use epochs::*;
use final_accuracy::*;
pub use lr_find::lr_find;
use paired::*;
use rows::*;
pub use schedules::schedule_curve;
use schedules::*;
pub use style::*;
use tuning::*;
pub use tuning::{tuning_points, TuningCurve};

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

/// The format of a results set's plots: PNG only. One format keeps a set light (no second copy of
/// every plot); PNG because its text is rendered here, the same in every viewer, at a known pixel
/// size, while an SVG's text depends on the viewer's fonts. `curve --plot` still writes either.
pub const FORMAT: &str = "png";

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
        let known = crate::results::study::RUNS.map(|(name, _)| name);
        for (i, a) in known.iter().enumerate() {
            assert!(!known[i + 1..].contains(a), "{a} listed twice");
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
