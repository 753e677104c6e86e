//! Line charts drawn in-process into a PNG with `plotters` (bitmap backend: axes, value
//! lines, series, points) and text laid out by `ab_glyph` ([`text`]) in a font compiled
//! into the binary ([`font`]): no fonts, libraries or
//! programs of the system are needed where Pingan runs. A chart has a title and a legend
//! in bands of fixed place at its top ([`TITLE_AREA`], [`LEGEND_AREA`]), the unit of its
//! values above the value axis, values with thousands separators, and one label per period
//! below the period axis, fewer when they would not fit side by side.
//!
//! [`figures`] turns the bureau's figures into the two `/stats` charts.

pub mod figures;
pub mod font;
mod text;

use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A colour, red, green and blue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn colour(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

const WHITE: Rgb = Rgb(255, 255, 255);
const AXIS: Rgb = Rgb(96, 96, 96);
const GRID: Rgb = Rgb(225, 225, 225);
/// The colour of every text on a chart.
pub const TEXT: Rgb = Rgb(40, 40, 40);

/// Each series' points (and its legend swatch) are drawn as squares of its own colour,
/// found nowhere else in the image; its line is a lighter shade.
pub const PALETTE: [(Rgb, Rgb); 4] = [
    (Rgb(198, 40, 40), Rgb(239, 154, 154)),
    (Rgb(21, 101, 192), Rgb(144, 202, 249)),
    (Rgb(46, 125, 50), Rgb(165, 214, 167)),
    (Rgb(239, 108, 0), Rgb(255, 204, 128)),
];

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 960;
/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 540;
/// Side of the square drawn at each point, in pixels.
pub const MARKER: u32 = 9;

/// A rectangle of the image, in pixels: `x0..x1` by `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Area {
    /// Whether the pixel at (`x`, `y`) lies inside.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        (self.x0..self.x1).contains(&x) && (self.y0..self.y1).contains(&y)
    }
}

/// Where the title is drawn, centred: the whole width of the top band.
pub const TITLE_AREA: Area = Area { x0: 0, y0: 0, x1: WIDTH, y1: 52 };
/// Where the legend is drawn, centred, one row under the title.
pub const LEGEND_AREA: Area = Area { x0: 0, y0: 52, x1: WIDTH, y1: 86 };

const TITLE_SIZE: f32 = 26.0;
const LEGEND_SIZE: f32 = 18.0;
const LABEL_SIZE: f32 = 16.0;
const LEGEND_SWATCH: u32 = 14;
const LEGEND_SPACING: f32 = 28.0;
/// Room between two period labels, in pixels.
const LABEL_GAP: u32 = 16;
const PLOT_TOP: u32 = 122;
const PLOT_LEFT: u32 = 16;
const PLOT_RIGHT: u32 = 36;
const Y_LABEL_AREA: u32 = 84;
const X_LABEL_AREA: u32 = 70;

/// One line of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// One value per label, in the unit of the value axis; `None` where there is no figure.
    pub values: Vec<Option<f64>>,
    /// The point and legend colour (from [`PALETTE`]), found nowhere else in the image.
    pub marker: Rgb,
    /// The line's colour, a lighter shade.
    pub line: Rgb,
}

/// Series over labelled points (periods), with the words that say what they are.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub title: String,
    /// The value axis' name and unit (`案件（起）`, `¥ million`), drawn above it.
    pub value_axis: String,
    /// The period axis' name, drawn under the period labels.
    pub period_axis: String,
    /// One label per period, oldest first.
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the chart font could not be read")]
    Font,
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG: {0}")]
    Png(#[from] png::EncodingError),
}

fn draw_error<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

/// Where the plot part of a chart landed, in pixels, for the text drawn around it.
struct Layout {
    /// The plot's left and right edges and its top and bottom (the period axis).
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
    /// Each period's x.
    xs: Vec<i32>,
    /// Each value line: its value and y.
    ticks: Vec<(f64, i32)>,
}

impl LineChart {
    /// The chart as PNG bytes, [`WIDTH`] × [`HEIGHT`] pixels, 8-bit RGB.
    ///
    /// # Errors
    /// [`ChartError`] if the font cannot be read or plotters fails to draw (neither
    /// happens with the shipped font; the error says which).
    pub fn render_png(&self) -> Result<Vec<u8>, ChartError> {
        let writer = text::Writer::new()?;
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        let layout = {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
            let layout = self.plot(&root)?;
            root.present().map_err(draw_error)?;
            layout
        };
        self.write(&writer, &mut rgb, &layout);
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
        Ok(bytes)
    }

    /// The scale's top and its five steps.
    fn scale(&self) -> (f64, Vec<f64>) {
        let max = self.series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0, |a: f64, &b| a.max(b));
        let top = nice_ceiling(max);
        (top, (0..=5).map(|i| top * f64::from(i) / 5.0).collect())
    }

    /// Axes, value lines, series and points, with plotters; no text.
    fn plot(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> Result<Layout, ChartError> {
        root.fill(&WHITE.colour()).map_err(draw_error)?;
        let n = self.labels.len().max(1);
        let (top, steps) = self.scale();
        let area = root.margin(PLOT_TOP, 16, PLOT_LEFT, PLOT_RIGHT);
        let mut chart = ChartBuilder::on(&area)
            .set_label_area_size(LabelAreaPosition::Left, Y_LABEL_AREA)
            .set_label_area_size(LabelAreaPosition::Bottom, X_LABEL_AREA)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)
            .map_err(draw_error)?;
        let (x_range, y_range) = chart.plotting_area().get_pixel_range();
        let (left, right, bottom) = (x_range.start, x_range.end - 1, y_range.end - 1);
        let ticks: Vec<(f64, i32)> = steps.iter().map(|v| (*v, chart.backend_coord(&(0.0, *v)).1)).collect();
        for (value, y) in &ticks {
            let colour = if *value == 0.0 { AXIS } else { GRID };
            root.draw(&PathElement::new(vec![(left, *y), (right, *y)], colour.colour()))
                .map_err(draw_error)?;
        }
        root.draw(&PathElement::new(vec![(left, y_range.start), (left, bottom)], AXIS.colour()))
            .map_err(draw_error)?;
        let xs: Vec<i32> = (0..self.labels.len()).map(|i| chart.backend_coord(&(i as f64, 0.0)).0).collect();

        for series in &self.series {
            let points: Vec<(f64, f64)> =
                series.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as f64, v))).collect();
            let line = ShapeStyle::from(series.line.colour()).stroke_width(3);
            chart.draw_series(LineSeries::new(points, line)).map_err(draw_error)?;
        }
        // Points last, on top of every line.
        let half = (MARKER / 2) as i32;
        for series in &self.series {
            let style = series.marker.colour().filled();
            let points = series.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as f64, v)));
            chart
                .draw_series(
                    points
                        .map(|p| EmptyElement::at(p) + Rectangle::new([(-half, -half), (half, half)], style)),
                )
                .map_err(draw_error)?;
        }
        // Legend swatches, where [`LineChart::write`] puts the names beside them.
        let writer = text::Writer::new()?;
        for (series, x) in self.series.iter().zip(self.legend_xs(&writer)) {
            let half = LEGEND_SWATCH as i32 / 2;
            let y = legend_middle() as i32;
            let square = [(x as i32, y - half), (x as i32 + LEGEND_SWATCH as i32 - 1, y + half - 1)];
            root.draw(&Rectangle::new(square, series.marker.colour().filled())).map_err(draw_error)?;
        }
        Ok(Layout { left, right, top: y_range.start, bottom, xs, ticks })
    }

    /// Each legend entry's left end: swatch, gap, name, the whole row centred.
    fn legend_xs(&self, writer: &text::Writer) -> Vec<f32> {
        let entries: Vec<f32> = self
            .series
            .iter()
            .map(|s| LEGEND_SWATCH as f32 + 8.0 + writer.width(&s.name, LEGEND_SIZE))
            .collect();
        let total = entries.iter().sum::<f32>() + LEGEND_SPACING * entries.len().saturating_sub(1) as f32;
        let mut x = ((WIDTH as f32 - total) / 2.0).max(0.0);
        entries
            .iter()
            .map(|w| {
                let at = x;
                x += w + LEGEND_SPACING;
                at
            })
            .collect()
    }

    /// Title, legend names, the axes' names, value labels and period labels.
    fn write(&self, writer: &text::Writer, rgb: &mut [u8], layout: &Layout) {
        use text::Align;
        let middle = |area: Area| (area.y0 + area.y1) as f32 / 2.0;
        let centre = (TITLE_AREA.x0 + TITLE_AREA.x1) as f32 / 2.0;
        writer.draw(rgb, WIDTH, &self.title, (centre, middle(TITLE_AREA)), TITLE_SIZE, Align::Centre, TEXT);
        for (series, x) in self.series.iter().zip(self.legend_xs(writer)) {
            let at = (x + LEGEND_SWATCH as f32 + 8.0, legend_middle());
            writer.draw(rgb, WIDTH, &series.name, at, LEGEND_SIZE, Align::Left, TEXT);
        }
        // The value axis' name and unit, above its labels.
        let at = (PLOT_LEFT as f32 + 4.0, layout.top as f32 - 18.0);
        writer.draw(rgb, WIDTH, &self.value_axis, at, LABEL_SIZE, Align::Left, TEXT);
        for (value, y) in &layout.ticks {
            let text = crate::render::figures::decimal(*value, 2);
            let at = ((layout.left - 8) as f32, *y as f32);
            writer.draw(rgb, WIDTH, &text, at, LABEL_SIZE, Align::Right, TEXT);
        }
        // Period labels, centred under their points; every `step`-th from the latest when
        // all of them would not fit side by side.
        let widths: Vec<u32> =
            self.labels.iter().map(|l| writer.width(l, LABEL_SIZE).ceil() as u32).collect();
        let slot = f64::from((layout.right - layout.left).max(0) as u32) / self.labels.len().max(1) as f64;
        let step = label_step(&widths, slot);
        let y = layout.bottom as f32 + 20.0;
        for (i, (label, x)) in self.labels.iter().zip(&layout.xs).enumerate() {
            if (self.labels.len() - 1 - i) % step == 0 {
                // A long label at either end stays inside the image.
                let half = widths[i] as f32 / 2.0;
                let x = (*x as f32).clamp(half + 4.0, (WIDTH as f32 - half - 4.0).max(half + 4.0));
                writer.draw(rgb, WIDTH, label, (x, y), LABEL_SIZE, Align::Centre, TEXT);
            }
        }
        let at = ((layout.left + layout.right) as f32 / 2.0, layout.bottom as f32 + 52.0);
        writer.draw(rgb, WIDTH, &self.period_axis, at, LABEL_SIZE, Align::Centre, TEXT);
    }
}

fn legend_middle() -> f32 {
    (LEGEND_AREA.y0 + LEGEND_AREA.y1) as f32 / 2.0
}

/// Every how many periods a label fits: the smallest step at which the widest label and
/// [`LABEL_GAP`] fit in `step` slots of `slot` pixels. Labels are drawn at every
/// `step`-th period counting back from the latest, so the latest always has its label.
pub fn label_step(widths: &[u32], slot: f64) -> usize {
    let widest = widths.iter().copied().max().unwrap_or(0) + LABEL_GAP;
    if slot <= 0.0 {
        return widths.len().max(1);
    }
    ((f64::from(widest) / slot).ceil() as usize).clamp(1, widths.len().max(1))
}

/// A round number at or above `max`, for the top of the scale, with a little room above
/// the highest point.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 4.0;
    }
    let max = max * 1.05;
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Decodes a PNG into its size and pixels.
    pub(crate) fn decode(bytes: &[u8]) -> (u32, u32, Vec<Rgb>) {
        let decoder = png::Decoder::new(bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels = buffer[..info.buffer_size()].chunks(3).map(|p| Rgb(p[0], p[1], p[2])).collect();
        (info.width, info.height, pixels)
    }

    /// Separate blobs of exactly `colour` outside the legend.
    pub(crate) fn blobs(width: u32, height: u32, pixels: &[Rgb], colour: Rgb) -> usize {
        let mut seen = vec![false; pixels.len()];
        let mut count = 0;
        for start in 0..pixels.len() {
            let (x, y) = ((start as u32) % width, (start as u32) / width);
            if seen[start] || pixels[start] != colour || LEGEND_AREA.contains(x, y) {
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

    /// Pixels in `area` that are neither white nor a series' colour: text.
    pub(crate) fn text_pixels(width: u32, pixels: &[Rgb], area: Area) -> usize {
        let colours: Vec<Rgb> = PALETTE.iter().flat_map(|(a, b)| [*a, *b]).collect();
        pixels
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                let (x, y) = ((*i as u32) % width, (*i as u32) / width);
                area.contains(x, y) && **p != WHITE && !colours.contains(p)
            })
            .count()
    }

    fn sample(labels: &[&str], names: [&str; 2]) -> LineChart {
        let series = |name: &str, values: Vec<Option<f64>>, (marker, line): (Rgb, Rgb)| Series {
            name: name.into(),
            values,
            marker,
            line,
        };
        LineChart {
            title: "title".into(),
            value_axis: "axis".into(),
            period_axis: "period".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            series: vec![
                series(names[0], vec![Some(1200.0), Some(1100.0), None, Some(800.0)], PALETTE[0]),
                series(names[1], vec![Some(300.0), Some(450.0), Some(520.0), Some(610.0)], PALETTE[1]),
            ],
        }
    }

    #[test]
    fn every_point_is_drawn_once_in_its_colour_and_the_words_in_their_places() {
        for (title, names) in [
            ("电信网络诈骗案件：立案与破案", ["立案", "破案"]),
            ("Cases filed and solved", ["Cases filed", "Cases solved"]),
        ] {
            let mut chart = sample(&["2023年1–3月", "2023年4–6月", "2023年7–9月", "2023年10–12月"], names);
            chart.title = title.into();
            let (w, h, pixels) = decode(&chart.render_png().unwrap());
            assert_eq!((w, h), (WIDTH, HEIGHT));
            assert_eq!(blobs(w, h, &pixels, PALETTE[0].0), 3, "no point where there is no figure");
            assert_eq!(blobs(w, h, &pixels, PALETTE[1].0), 4);
            assert!(text_pixels(w, &pixels, TITLE_AREA) > 300, "the title is drawn");
            assert!(text_pixels(w, &pixels, LEGEND_AREA) > 100, "the legend's names are drawn");
            // A title of one character draws far fewer pixels: the count measures the words.
            chart.title = "1".into();
            let (_, _, one) = decode(&chart.render_png().unwrap());
            assert!(text_pixels(w, &one, TITLE_AREA) * 5 < text_pixels(w, &pixels, TITLE_AREA));
        }
    }

    #[test]
    fn crowded_period_labels_are_thinned_and_never_overlap() {
        assert_eq!(label_step(&[80, 80, 80], 200.0), 1);
        assert_eq!(label_step(&[80, 120, 80], 100.0), 2);
        assert_eq!(label_step(&[150; 12], 60.0), 3);
        assert_eq!(label_step(&[], 60.0), 1);
        // Twelve long labels on one chart: drawn, and no two overlap (a column of the
        // label band that has text belongs to one label's run of columns).
        let labels: Vec<String> = (1..=12).map(|m| format!("Nov {}–Oct {}", 2010 + m, 2011 + m)).collect();
        let chart = LineChart {
            title: "t".into(),
            value_axis: "a".into(),
            period_axis: "p".into(),
            labels: labels.clone(),
            series: vec![Series {
                name: "s".into(),
                values: vec![Some(1.0); 12],
                marker: PALETTE[0].0,
                line: PALETTE[0].1,
            }],
        };
        let (w, h, pixels) = decode(&chart.render_png().unwrap());
        // The band of period labels: under the plot, above the axis' name.
        let band = Area { x0: 0, y0: h - 16 - X_LABEL_AREA + 8, x1: w, y1: h - 16 - 30 };
        let inked: Vec<bool> = (0..w)
            .map(|x| {
                (band.y0..band.y1).any(|y| {
                    let p = pixels[(y * w + x) as usize];
                    p != WHITE && p != AXIS
                })
            })
            .collect();
        let runs = inked.windows(2).filter(|p| !p[0] && p[1]).count();
        // Words hold spaces: count separate labels by gaps wider than a space.
        let mut labels_seen = 0;
        let mut blank = usize::MAX;
        for &ink in &inked {
            if ink {
                if blank > LABEL_GAP as usize / 2 {
                    labels_seen += 1;
                }
                blank = 0;
            } else {
                blank = blank.saturating_add(1);
            }
        }
        // Every `step`-th label is drawn, each apart from the next: as many separate
        // groups of ink as labels drawn.
        let writer = text::Writer::new().unwrap();
        let widths: Vec<u32> = labels.iter().map(|l| writer.width(l, LABEL_SIZE).ceil() as u32).collect();
        let slot = f64::from(WIDTH - PLOT_LEFT - PLOT_RIGHT - Y_LABEL_AREA) / 12.0;
        let step = label_step(&widths, slot);
        assert!(step > 1, "the labels ({widths:?}) do not fit in slots of {slot}");
        assert!(runs >= labels_seen, "{labels_seen} labels in {runs} runs");
        assert_eq!(
            labels_seen,
            12_usize.div_ceil(step),
            "crowded labels are thinned, and none touches another"
        );
        // The first and last columns of the image stay blank: no label is cut off.
        assert!(!inked[0] && !inked[w as usize - 1]);
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_ceiling(3774.0), 4000.0);
        assert_eq!(nice_ceiling(1583.0), 2000.0);
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(nice_ceiling(17.15), 20.0);
    }
}
