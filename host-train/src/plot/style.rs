//! Each run's look (colour, marker, dash), the same for a run name in every plot of every set.

use super::*;

/// Run colours: Okabe–Ito's colour-blind-safe set without its yellow and sky blue (too pale on
/// white), its reddish purple darkened, and a purple added; each has at least 3:1 contrast on white.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xB0, 0x40, 0x8A),
    RGBColor(0xA6, 0x6A, 0x00),
    RGBColor(0x6A, 0x3D, 0x9A),
];

/// A run's look: the same for a run name in every plot of every results set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStyle {
    pub color: RGBColor,
    pub marker: Marker,
    pub dash: Dash,
}

/// The style with number `k`: colour `k mod 7`, then marker and dash by `k / 7`.
pub fn style(k: usize) -> RunStyle {
    let shape = (k / PALETTE.len()) % 3;
    RunStyle {
        color: PALETTE[k % PALETTE.len()],
        marker: [Marker::Circle, Marker::Square, Marker::Triangle][shape],
        dash: [Dash::Solid, Dash::Dashed, Dash::Dotted][shape],
    }
}

/// Each group's style: a known run's own; other runs take the lowest style numbers no run of this
/// set uses, in config order (distinct within the set for up to 21 runs).
pub fn run_styles(groups: &[Group]) -> Vec<RunStyle> {
    let known: Vec<Option<usize>> = groups
        .iter()
        .map(|g| crate::results::study::position(&g.name))
        .collect();
    let mut free = (0..).filter(|k| !known.contains(&Some(*k)));
    known
        .iter()
        .map(|k| style(k.unwrap_or_else(|| free.next().unwrap_or(0))))
        .collect()
}

/// A run name short enough for a panel title.
pub(super) fn short_name(name: &str) -> String {
    name.replace("Combining Multiple LR Schedulers Epochs", "Chained")
        .replace(" LR Scheduler", "")
        .replace(" Scheduler", "")
        .replace("Learning Rate", "LR")
        .replace("cycle_momentum = false", "no momentum cycle")
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
