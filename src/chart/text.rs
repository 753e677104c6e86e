//! Text laid out and drawn with `ab_glyph` straight into the chart's RGB buffer.
//!
//! plotters 0.3.7 has an `ab_glyph` text path, but it places each glyph at the pen without
//! its left side bearing (`src/style/font/ab_glyph.rs`: `x_shift` only, never
//! `px_bounds().min.x`), so "Money lost" reads "Moneylost" and Chinese punctuation drifts;
//! here every glyph sits where the font puts it, with kerning.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use super::{Rgb, font::FONT};

/// Where a text's `x` is: its left end, or its centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
    /// Its right end.
    Right,
}

/// The chart font, read once per chart.
pub struct Writer {
    font: FontRef<'static>,
}

impl Writer {
    /// # Errors
    /// [`super::ChartError::Font`] if [`FONT`] is not a font ab_glyph can read.
    pub fn new() -> Result<Writer, super::ChartError> {
        FontRef::try_from_slice(FONT).map(|font| Writer { font }).map_err(|_| super::ChartError::Font)
    }

    /// The width of `text` at `size` pixels (em height), in pixels.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.font.as_scaled(PxScale::from(size));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                width += font.kern(previous, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// Draws `text` at `size` pixels in `colour` onto `rgb` (`width` pixels a row, 3 bytes
    /// a pixel), blending by coverage; `x` is placed by `align`, and the text's line box
    /// (ascent to descent) is centred on `middle`. Pixels outside the image are dropped.
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        &self,
        rgb: &mut [u8],
        width: u32,
        text: &str,
        (x, middle): (f32, f32),
        size: f32,
        align: Align,
        colour: Rgb,
    ) {
        let font = self.font.as_scaled(PxScale::from(size));
        let height = (rgb.len() / 3) as u32 / width.max(1);
        let left = match align {
            Align::Left => x,
            Align::Centre => x - self.width(text, size) / 2.0,
            Align::Right => x - self.width(text, size),
        };
        let baseline = middle + (font.ascent() + font.descent()) / 2.0;
        let mut pen = left;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern(previous, id);
            }
            let glyph = id.with_scale_and_position(PxScale::from(size), point(pen, baseline));
            pen += font.h_advance(id);
            previous = Some(id);
            let Some(outline) = font.outline_glyph(glyph) else { continue };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let (px, py) = (bounds.min.x as i64 + i64::from(gx), bounds.min.y as i64 + i64::from(gy));
                if px < 0 || py < 0 || px >= i64::from(width) || py >= i64::from(height) {
                    return;
                }
                let i = ((py as usize) * width as usize + px as usize) * 3;
                let a = coverage.clamp(0.0, 1.0);
                for (channel, target) in rgb[i..i + 3].iter_mut().zip([colour.0, colour.1, colour.2]) {
                    *channel = (f32::from(*channel) * (1.0 - a) + f32::from(target) * a).round() as u8;
                }
            });
        }
    }
}
