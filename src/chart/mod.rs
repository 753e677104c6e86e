//! Line charts drawn in-process into a PNG: no fonts, libraries or programs of the
//! system are needed where Pingan runs. Labels use a small built-in bitmap font
//! (digits and a few signs); words stay in the caption, in the reader's language.

mod font;

/// A colour, red, green and blue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

const WHITE: Rgb = Rgb(255, 255, 255);
const AXIS: Rgb = Rgb(96, 96, 96);
const GRID: Rgb = Rgb(225, 225, 225);
const LABEL: Rgb = Rgb(48, 48, 48);

/// Each series' points are drawn as squares of its own colour, found nowhere else in
/// the image; its line is a lighter shade.
pub const PALETTE: [(Rgb, Rgb); 3] = [
    (Rgb(198, 40, 40), Rgb(239, 154, 154)),
    (Rgb(21, 101, 192), Rgb(144, 202, 249)),
    (Rgb(46, 125, 50), Rgb(165, 214, 167)),
];

/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 480;
/// Side of the square drawn at each point, in pixels.
pub const MARKER: u32 = 9;

const LEFT: u32 = 84;
const RIGHT: u32 = 32;
const TOP: u32 = 28;
const BOTTOM: u32 = 56;

/// The width for `points` periods: room for every label, within bounds.
pub fn width_for(points: usize) -> u32 {
    (LEFT + RIGHT + 110 * points as u32).clamp(480, 1600)
}

/// One line of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// One value per label; `None` where there is no figure.
    pub values: Vec<Option<f64>>,
    /// The point colour (from [`PALETTE`]); the line is drawn in the paired shade.
    pub marker: Rgb,
    pub line: Rgb,
}

/// Series over labelled points (periods).
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

impl LineChart {
    /// The chart as PNG bytes, [`width_for`] × [`HEIGHT`] pixels.
    pub fn render_png(&self) -> Vec<u8> {
        let mut canvas = Canvas::new(width_for(self.labels.len()), HEIGHT);
        self.draw(&mut canvas);
        canvas.png()
    }

    fn draw(&self, c: &mut Canvas) {
        let (w, h) = (c.width, c.height);
        let plot = (LEFT, TOP, w - RIGHT, h - BOTTOM);
        let max = self.series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0_f64, |a, &b| a.max(b));
        let top = nice_ceiling(max);
        // Grid lines and their values.
        for step in 0..=4 {
            let value = top * f64::from(step) / 4.0;
            let y = plot.3 - ((plot.3 - plot.1) as f64 * f64::from(step) / 4.0).round() as u32;
            c.hline(plot.0, plot.2, y, if step == 0 { AXIS } else { GRID });
            let text = short_number(value);
            let text_w = font::width(&text, 2);
            c.text(plot.0.saturating_sub(text_w + 8), y.saturating_sub(7), &text, 2, LABEL);
        }
        c.vline(plot.0, plot.1, plot.3, AXIS);
        let n = self.labels.len().max(1) as f64;
        let x_of = |i: usize| plot.0 as f64 + (i as f64 + 0.5) * (plot.2 - plot.0) as f64 / n;
        let y_of = |v: f64| plot.3 as f64 - if top > 0.0 { v / top } else { 0.0 } * (plot.3 - plot.1) as f64;
        for (i, label) in self.labels.iter().enumerate() {
            let x = x_of(i).round() as u32;
            c.vline(x, plot.3, plot.3 + 5, AXIS);
            let text_w = font::width(label, 2);
            c.text(x.saturating_sub(text_w / 2), plot.3 + 14, label, 2, LABEL);
        }
        for series in &self.series {
            let points: Vec<(usize, f64)> =
                series.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
            for pair in points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                c.thick_line((x_of(a.0), y_of(a.1)), (x_of(b.0), y_of(b.1)), series.line);
            }
        }
        // Points last, on top of every line.
        for series in &self.series {
            for (i, v) in series.values.iter().enumerate() {
                if let Some(v) = v {
                    let (x, y) = (x_of(i).round() as u32, y_of(*v).round() as u32);
                    let half = MARKER / 2;
                    c.fill(x - half, y.saturating_sub(half), MARKER, MARKER, series.marker);
                }
            }
        }
    }
}

/// A round number at or above `max`, for the top of the scale.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 4.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// `1200`, `12k`, `3.5M`: short enough for the scale.
fn short_number(value: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
    };
    if value >= 1e6 {
        format!("{}M", trim(format!("{:.1}", value / 1e6)))
    } else if value >= 1e4 {
        format!("{}k", trim(format!("{:.1}", value / 1e3)))
    } else {
        trim(format!("{value:.1}"))
    }
}

struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<Rgb>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas { width, height, pixels: vec![WHITE; (width * height) as usize] }
    }

    fn set(&mut self, x: u32, y: u32, colour: Rgb) {
        if x < self.width && y < self.height {
            self.pixels[(y * self.width + x) as usize] = colour;
        }
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, colour: Rgb) {
        for dy in 0..h {
            for dx in 0..w {
                self.set(x + dx, y + dy, colour);
            }
        }
    }

    fn hline(&mut self, x0: u32, x1: u32, y: u32, colour: Rgb) {
        self.fill(x0, y, x1 - x0 + 1, 1, colour);
    }

    fn vline(&mut self, x: u32, y0: u32, y1: u32, colour: Rgb) {
        self.fill(x, y0, 1, y1 - y0 + 1, colour);
    }

    /// A line three pixels wide, stepping along its longer axis.
    fn thick_line(&mut self, from: (f64, f64), to: (f64, f64), colour: Rgb) {
        let steps = (to.0 - from.0).abs().max((to.1 - from.1).abs()).ceil().max(1.0) as u32;
        for i in 0..=steps {
            let t = f64::from(i) / f64::from(steps);
            let x = (from.0 + (to.0 - from.0) * t).round() as u32;
            let y = (from.1 + (to.1 - from.1) * t).round() as u32;
            self.fill(x.saturating_sub(1), y.saturating_sub(1), 3, 3, colour);
        }
    }

    fn text(&mut self, x: u32, y: u32, text: &str, scale: u32, colour: Rgb) {
        let mut cursor = x;
        for c in text.chars() {
            if let Some(rows) = font::glyph(c) {
                for (row, bits) in rows.iter().enumerate() {
                    for col in 0..font::GLYPH_WIDTH {
                        if bits & (1 << (font::GLYPH_WIDTH - 1 - col)) != 0 {
                            self.fill(cursor + col * scale, y + row as u32 * scale, scale, scale, colour);
                        }
                    }
                }
            }
            cursor += font::ADVANCE * scale;
        }
    }

    fn png(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let data: Vec<u8> = self.pixels.iter().flat_map(|p| [p.0, p.1, p.2]).collect();
        // Writing to memory cannot fail: the sizes are ours and consistent.
        let mut writer = encoder.write_header().expect("a PNG header in memory");
        writer.write_image_data(&data).expect("PNG data in memory");
        writer.finish().expect("a PNG in memory");
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a PNG into its size and pixels.
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<Rgb>) {
        let decoder = png::Decoder::new(bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        let pixels = buffer[..info.buffer_size()].chunks(3).map(|p| Rgb(p[0], p[1], p[2])).collect();
        (info.width, info.height, pixels)
    }

    /// Separate blobs of exactly `colour`.
    fn blobs(width: u32, height: u32, pixels: &[Rgb], colour: Rgb) -> usize {
        let mut seen = vec![false; pixels.len()];
        let mut count = 0;
        for start in 0..pixels.len() {
            if seen[start] || pixels[start] != colour {
                continue;
            }
            count += 1;
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                let (x, y) = ((i as u32) % width, (i as u32) / width);
                let neighbours = [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)];
                for (nx, ny) in neighbours {
                    if nx < width && ny < height {
                        let j = (ny * width + nx) as usize;
                        if !seen[j] && pixels[j] == colour {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
        }
        count
    }

    #[test]
    fn every_point_is_drawn_once_in_its_colour() {
        let chart = LineChart {
            labels: vec!["2023-01".into(), "2023-04".into(), "2023-07".into(), "2023-10".into()],
            series: vec![
                Series {
                    values: vec![Some(1200.0), Some(1100.0), None, Some(800.0)],
                    marker: PALETTE[0].0,
                    line: PALETTE[0].1,
                },
                Series {
                    values: vec![Some(300.0), Some(450.0), Some(520.0), Some(610.0)],
                    marker: PALETTE[1].0,
                    line: PALETTE[1].1,
                },
            ],
        };
        let (w, h, pixels) = decode(&chart.render_png());
        assert_eq!((w, h), (width_for(4), HEIGHT));
        assert_eq!(blobs(w, h, &pixels, PALETTE[0].0), 3, "no point where there is no figure");
        assert_eq!(blobs(w, h, &pixels, PALETTE[1].0), 4);
        assert!(blobs(w, h, &pixels, LABEL) > 10, "labels are drawn");
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_ceiling(3774.0), 5000.0);
        assert_eq!(nice_ceiling(1583.0), 2000.0);
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(short_number(1250.0), "1250");
        assert_eq!(short_number(12_500.0), "12.5k");
        assert_eq!(short_number(3_500_000.0), "3.5M");
        assert_eq!(width_for(1), 480);
        assert_eq!(width_for(100), 1600);
    }
}
