//! The plots' typeface, bundled: DejaVu Sans (`fonts/`, Bitstream Vera licence), drawn by plotters'
//! pure-Rust `ab_glyph` text path, so host-train needs no system font libraries (fontconfig, freetype)
//! and cross-compiles like any Rust program.

use plotters::style::FontStyle;
use std::sync::Once;

/// Registers the bundled font as "sans-serif" (every style falls back to it); idempotent.
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .unwrap_or_else(|_| unreachable!("the bundled font is a valid TrueType file"));
    });
}
