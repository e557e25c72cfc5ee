//! Charts (plotters), each as PNG and SVG: daily bars on a dated axis with the scenario's
//! campaign windows and scripted changes marked (GMV, order lines, refunds, payouts stacked by
//! kind), GMV by plan type, and seller net across replications. The helpers — [`DayAxis`],
//! [`Timeline`], [`draw_daily`], [`draw_hbars`], [`both`] — are for any report writer.
//!
//! PNGs are drawn with a font embedded in the binary (DejaVu Sans, `assets/fonts`), so charts
//! render on a bare machine with no system font libraries. Axis labels come from
//! [`Ticks`](super::format::Ticks), so they are never repeated.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::prelude::ToPrimitive;

use super::format::{Currency, Ticks, fmt_money_short, fmt_rate, metric_label};
use crate::experiment::daily::DailyAgg;
use crate::experiment::totals::{Totals, TotalsAgg};
use crate::metrics::{EndMetric, Metric};
use crate::scenario::{Action, Scenario};
use crate::sim::Replication;
use crate::time::{Calendar, SimTime};

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

pub use crate::experiment::daily::{Band, pct};

/// Chart size in pixels.
pub const W: u32 = 960;
pub const H: u32 = 540;
/// Width of the y-axis label area: the same on every daily chart and its timeline strip, so
/// their x axes line up.
const Y_AREA: u32 = 96;
const FONT_SIZE: u32 = 14;

/// Colours for series, chosen to be told apart (Tableau 10).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(89, 161, 79),
    RGBColor(225, 87, 89),
    RGBColor(176, 122, 161),
    RGBColor(237, 201, 72),
    RGBColor(118, 183, 178),
    RGBColor(156, 117, 95),
    RGBColor(255, 157, 167),
    RGBColor(186, 176, 172),
];

/// Draws a chart twice, as `<name>.svg` and `<name>.png`, both `W`×`H`.
pub fn both(
    dir: &Path,
    name: &str,
    draw: &dyn Fn(DrawingArea<SVGBackend, Shift>) -> Result<()>,
    draw_png: &dyn Fn(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let svg = dir.join(format!("{name}.svg"));
    draw(SVGBackend::new(&svg, (W, H)).into_drawing_area())?;
    let png = dir.join(format!("{name}.png"));
    draw_png(BitMapBackend::new(&png, (W, H)).into_drawing_area())?;
    Ok(())
}

pub(crate) fn e<T: std::fmt::Debug>(x: T) -> anyhow::Error {
    anyhow!("chart drawing failed: {x:?}")
}

/// A linear f64 axis whose ticks are exactly `keys` (no automatic ticks, no light grid).
#[derive(Clone, Debug)]
pub struct Keyed {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Keyed {
    pub fn new(lo: f64, hi: f64, keys: Vec<f64>) -> Keyed {
        Keyed { lo, hi, keys }
    }
}

impl Ranged for Keyed {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f64::from(limit.1 - limit.0) * t + 1e-3).floor() as i32
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// The x axis of a daily chart: day `d` is centred on `d`, its bar spanning `d ± 0.4`; ticks
/// at whole days are labelled with their calendar dates (`1 Oct`).
#[derive(Clone, Debug)]
pub struct DayAxis {
    pub calendar: Calendar,
    pub days: usize,
    ticks: Vec<usize>,
}

impl DayAxis {
    pub fn new(calendar: Calendar, days: usize) -> DayAxis {
        let days = days.max(1);
        let ticks = if days > 180 {
            // Month starts, every k-th month so that there are at most 12.
            let firsts: Vec<usize> = (0..days)
                .filter(|d| {
                    calendar
                        .date(SimTime::start_of_day(*d as u32))
                        .format("%d")
                        .to_string()
                        == "01"
                })
                .collect();
            let k = firsts.len().div_ceil(12).max(1);
            firsts.into_iter().step_by(k).collect()
        } else {
            let step = match days {
                0..=10 => 1,
                11..=20 => 2,
                21..=75 => 7,
                76..=150 => 14,
                _ => 28,
            };
            (0..days).step_by(step).collect()
        };
        DayAxis {
            calendar,
            days,
            ticks,
        }
    }
    /// The days that carry a tick and a date.
    pub fn ticks(&self) -> &[usize] {
        &self.ticks
    }
    /// The date label of day `d`: `1 Oct` (or `Oct 2025` on axes longer than 180 days).
    pub fn label(&self, d: usize) -> String {
        let date = self.calendar.date(SimTime::start_of_day(d as u32));
        if self.days > 180 {
            date.format("%b %Y").to_string()
        } else {
            date.format("%-d %b").to_string()
        }
    }
    /// Where a moment falls on the axis (00:00 of day `d` is `d − 0.5`).
    pub fn x_of(&self, t: SimTime) -> f64 {
        f64::from(t.minutes()) / 1440.0 - 0.5
    }
    fn range(&self) -> Keyed {
        Keyed::new(
            -0.5f64,
            self.days as f64 - 0.5,
            self.ticks.iter().map(|d| *d as f64).collect(),
        )
    }
}

/// A window of the scenario shown on daily charts: a campaign from start to end.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub label: String,
    pub from: SimTime,
    pub to: SimTime,
}

/// A moment of the scenario shown on daily charts: a scripted rate change or termination.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub label: String,
    pub at: SimTime,
}

/// What daily charts mark: campaign windows (one lane each above the plot), scripted changes
/// (dashed lines), and the end of new demand when the chart runs on through the drain.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
    /// Windows left out to keep the strip readable.
    pub hidden: usize,
    /// The first day without new demand (the scenario's length).
    pub demand_ends: Option<u32>,
}

/// At most this many window lanes above a daily chart.
pub const MAX_LANES: usize = 6;

impl Timeline {
    /// The scenario's windows — Plus campaigns (start–end), distributor campaigns' promotion,
    /// Target invitations (sent–end) — and its scripted rate changes and terminations.
    pub fn of(sc: &Scenario) -> Timeline {
        let mut spans = Vec::new();
        for p in &sc.plus {
            let kind = match p.kind {
                crate::rules::plus::PlusKind::Task { .. } => "Plus Task",
                _ => "Plus Challenge",
            };
            spans.push(Span {
                label: format!("{kind} {}", p.name),
                from: p.start,
                to: p.end,
            });
        }
        for c in &sc.campaigns {
            spans.push(Span {
                label: format!("distributor campaign {}", c.campaign.name),
                from: c.campaign.promotion.0,
                to: c.campaign.promotion.1,
            });
        }
        for i in &sc.invitations {
            spans.push(Span {
                label: format!("Target invitation {}", i.name),
                from: i.sent,
                to: i.ends,
            });
        }
        spans.sort_by_key(|s| (s.from, s.to));
        let hidden = spans.len().saturating_sub(MAX_LANES);
        spans.truncate(MAX_LANES);
        let product = |p: crate::model::ProductId| {
            sc.named
                .products
                .get(p.idx())
                .map_or_else(|| p.generated_name(), |x| x.name.clone())
        };
        let seller = |s: crate::model::SellerId| {
            sc.named
                .sellers
                .get(s.idx())
                .map_or_else(|| s.generated_name(), |x| x.name.clone())
        };
        let mut marks = Vec::new();
        for s in &sc.script {
            let label = match &s.action {
                Action::OpenRate {
                    plan,
                    product: p,
                    rate,
                    shop_ads,
                } => {
                    let plan = sc
                        .open_plans
                        .get(plan.index())
                        .map_or("Open plan", |o| o.name.as_str());
                    let what = p.map(|p| format!(" {}", product(p))).unwrap_or_default();
                    let ads = if *shop_ads { " Shop Ads" } else { "" };
                    format!("{plan}{what}{ads} → {rate}")
                }
                Action::ShopRate { seller: s, rate } => {
                    format!("Shop plan {} → {rate}", seller(*s))
                }
                Action::Terminate {
                    campaign,
                    seller: s,
                    ..
                } => {
                    let c = sc
                        .campaigns
                        .get(campaign.index())
                        .map_or("campaign", |c| c.campaign.name.as_str());
                    format!("{} leaves {c}", seller(*s))
                }
                _ => continue,
            };
            marks.push(Mark { label, at: s.at });
        }
        Timeline {
            spans,
            marks,
            hidden,
            demand_ends: Some(sc.days),
        }
    }
    fn lanes(&self) -> usize {
        self.spans.len() + usize::from(!self.marks.is_empty() || self.demand_ends.is_some())
    }
}

/// One stacked series of a daily chart.
#[derive(Clone, Debug)]
pub struct Layer {
    pub label: String,
    pub values: Vec<f64>,
    pub color: RGBColor,
}

/// A daily bar chart: stacked layers (bottom first), optional p5–p95 whiskers.
pub struct DailyChart<'a> {
    pub title: String,
    pub y_desc: String,
    /// Counts: whole-number ticks.
    pub integer: bool,
    pub layers: Vec<Layer>,
    /// Low and high per day and their legend label (e.g. p5–p95 across replications).
    pub whiskers: Option<(Vec<f64>, Vec<f64>, String)>,
    pub axis: DayAxis,
    pub timeline: &'a Timeline,
}

const LANE_H: u32 = 17;

/// Draws a [`DailyChart`]: title; a strip of window lanes and change labels; the bars on a
/// dated axis with the changes as dashed lines; the legend in its own row below the axis.
pub fn draw_daily<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &DailyChart) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let root = root.titled(&c.title, ("sans-serif", 22)).map_err(e)?;
    let lanes = c.timeline.lanes();
    let strip_h = if lanes > 0 {
        lanes as u32 * LANE_H + 6
    } else {
        0
    };
    let (strip, rest) = root.split_vertically(strip_h);
    let items = legend_items(c);
    let legend_h = legend_rows(&rest, &items)? * LEGEND_ROW + 8;
    let rest_h = rest.dim_in_pixel().1;
    let (main, legend) = rest.split_vertically(rest_h.saturating_sub(legend_h));

    let days = c.axis.days;
    let ticks = c.y_ticks();
    let (y0, y1) = ticks.range();
    let yr = Keyed::new(y0, y1, ticks.values.clone());
    let mut chart = ChartBuilder::on(&main)
        .margin_left(16)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(36)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(c.axis.range(), yr)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(BLACK.mix(0.10))
        .axis_desc_style(("sans-serif", FONT_SIZE))
        .y_desc(c.y_desc.as_str())
        .label_style(("sans-serif", FONT_SIZE))
        .x_label_formatter(&|x| c.axis.label(x.round().max(0.0) as usize))
        .y_label_formatter(&|y| ticks.label(*y))
        .draw()
        .map_err(e)?;

    let mut base = vec![0.0f64; days];
    for l in &c.layers {
        chart
            .draw_series((0..days).filter_map(|d| {
                let v = l.values.get(d).copied().unwrap_or(0.0);
                (v != 0.0).then(|| {
                    let b = base[d];
                    Rectangle::new(
                        [(d as f64 - 0.38, b), (d as f64 + 0.38, b + v)],
                        l.color.filled(),
                    )
                })
            }))
            .map_err(e)?;
        for (b, v) in base.iter_mut().zip(&l.values) {
            *b += v;
        }
    }
    if let Some((lo, hi, _)) = &c.whiskers {
        let style = BLACK.mix(0.75).stroke_width(1);
        chart
            .draw_series((0..days.min(lo.len()).min(hi.len())).flat_map(|d| {
                let x = d as f64;
                [
                    PathElement::new(vec![(x, lo[d]), (x, hi[d])], style),
                    PathElement::new(vec![(x - 0.15, lo[d]), (x + 0.15, lo[d])], style),
                    PathElement::new(vec![(x - 0.15, hi[d]), (x + 0.15, hi[d])], style),
                ]
            }))
            .map_err(e)?;
    }
    let mark_style = RGBColor(90, 90, 90).stroke_width(1);
    for m in &c.timeline.marks {
        let x = c.axis.x_of(m.at);
        if x > -0.5 && x < days as f64 - 0.5 {
            chart
                .draw_series(DashedLineSeries::new([(x, y0), (x, y1)], 6, 4, mark_style))
                .map_err(e)?;
        }
    }
    let demand_end = c
        .timeline
        .demand_ends
        .map(|d| d as f64 - 0.5)
        .filter(|x| *x < days as f64 - 0.5);
    if let Some(x) = demand_end {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, y0), (x, y1)],
                BLACK.mix(0.6).stroke_width(2),
            )))
            .map_err(e)?;
    }

    // The strip above: one lane per window, then a lane of change labels.
    if lanes > 0 {
        let mut s = ChartBuilder::on(&strip)
            .margin_left(16)
            .margin_right(24)
            .margin_top(4)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(c.axis.range(), 0f64..lanes as f64)
            .map_err(e)?;
        let font = ("sans-serif", 12).into_font().color(&BLACK);
        let left = font.pos(Pos::new(HPos::Left, VPos::Center));
        let right = font.pos(Pos::new(HPos::Right, VPos::Center));
        let last = days as f64 - 0.5;
        for (i, sp) in c.timeline.spans.iter().enumerate() {
            let color = PALETTE[(i + 4) % PALETTE.len()];
            let y = (lanes - 1 - i) as f64;
            let (a, b) = span_x(&c.axis, sp);
            if b <= a {
                continue;
            }
            s.draw_series(std::iter::once(Rectangle::new(
                [(a, y + 0.12), (b, y + 0.88)],
                color.mix(0.45).filled(),
            )))
            .map_err(e)?;
            let dates = format!(
                "{} ({}–{})",
                sp.label,
                c.calendar_label(sp.from),
                c.calendar_label(sp.to)
            );
            // Label inside the lane, from the window's start, or ending at the window's end
            // when the start is in the right half of the chart.
            let (x, style) = if a < last * 0.55 {
                (a + 0.15, &left)
            } else {
                (b - 0.15, &right)
            };
            s.draw_series(std::iter::once(Text::new(
                dates,
                (x, y + 0.5),
                style.clone(),
            )))
            .map_err(e)?;
        }
        let y = 0.5;
        for m in &c.timeline.marks {
            let x = c.axis.x_of(m.at);
            if x > -0.5 && x < last {
                let style = if x < last * 0.6 { &left } else { &right };
                let dx = if x < last * 0.6 { 0.2 } else { -0.2 };
                s.draw_series(DashedLineSeries::new(
                    [(x, 0.0), (x, 1.0)],
                    4,
                    3,
                    mark_style,
                ))
                .map_err(e)?;
                s.draw_series(std::iter::once(Text::new(
                    m.label.clone(),
                    (x + dx, y),
                    style.clone(),
                )))
                .map_err(e)?;
            }
        }
        if let Some(x) = demand_end {
            s.draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, 1.0)],
                BLACK.mix(0.6).stroke_width(2),
            )))
            .map_err(e)?;
            s.draw_series(std::iter::once(Text::new(
                "last day of demand; then settlements drain",
                (x + 0.2, y),
                left.clone(),
            )))
            .map_err(e)?;
        }
    }

    // The legend, in its own rows under the axis.
    draw_legend(&legend, &items)?;
    root.present().map_err(e)?;
    Ok(())
}

fn legend_items(c: &DailyChart) -> Vec<LegendItem> {
    let mut items: Vec<LegendItem> = c
        .layers
        .iter()
        .map(|l| LegendItem::Swatch(l.label.clone(), l.color))
        .collect();
    if let Some((_, _, label)) = &c.whiskers {
        items.push(LegendItem::Whisker(label.clone()));
    }
    if !c.timeline.marks.is_empty() {
        items.push(LegendItem::Dashed("scripted change".into()));
    }
    if c.timeline.hidden > 0 {
        items.push(LegendItem::Note(format!(
            "{} more window(s) not shown",
            c.timeline.hidden
        )));
    }
    items
}

impl DailyChart<'_> {
    /// The y axis: from zero to the top of the stack or of the whiskers.
    pub fn y_ticks(&self) -> Ticks {
        let days = self.axis.days;
        let mut top = vec![0.0f64; days];
        for l in &self.layers {
            for (t, v) in top.iter_mut().zip(&l.values) {
                *t += v;
            }
        }
        let mut ymax = top.iter().copied().fold(0.0, f64::max);
        if let Some((_, hi, _)) = &self.whiskers {
            ymax = hi.iter().take(days).copied().fold(ymax, f64::max);
        }
        let floor = if self.integer { 1.0 } else { 0.0 };
        Ticks::new(0.0, ymax.max(floor), 7, self.integer)
    }

    fn calendar_label(&self, t: SimTime) -> String {
        self.axis.calendar.date(t).format("%-d %b").to_string()
    }
}

fn span_x(axis: &DayAxis, s: &Span) -> (f64, f64) {
    let last = axis.days as f64 - 0.5;
    (
        axis.x_of(s.from).clamp(-0.5, last),
        axis.x_of(s.to).clamp(-0.5, last),
    )
}

/// An entry of a legend row.
pub enum LegendItem {
    Swatch(String, RGBColor),
    Whisker(String),
    Dashed(String),
    Note(String),
}

const LEGEND_ROW: u32 = 22;

fn legend_font() -> TextStyle<'static> {
    ("sans-serif", FONT_SIZE).into_font().color(&BLACK)
}

/// Where each legend entry goes: (row, x) per entry, wrapping at the area's width.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> Result<Vec<(u32, i32)>>
where
    DB::ErrorType: 'static,
{
    let font = legend_font();
    let right = area.dim_in_pixel().0 as i32 - 16;
    let start = Y_AREA as i32 + 16;
    let (mut row, mut x) = (0u32, start);
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let (w, _) = area.estimate_text_size(it.label(), &font).map_err(e)?;
        let width = 18 + w as i32;
        if x > start && x + width > right {
            row += 1;
            x = start;
        }
        out.push((row, x));
        x += width + 22;
    }
    Ok(out)
}

/// How many rows a legend takes in `area`'s width.
pub fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> Result<u32>
where
    DB::ErrorType: 'static,
{
    Ok(legend_layout(area, items)?
        .last()
        .map_or(0, |(row, _)| row + 1))
}

impl LegendItem {
    fn label(&self) -> &str {
        match self {
            LegendItem::Swatch(l, _)
            | LegendItem::Whisker(l)
            | LegendItem::Dashed(l)
            | LegendItem::Note(l) => l,
        }
    }
}

/// Draws a legend in rows of entries, left to right, in `area` (outside any plot).
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let style = legend_font().pos(Pos::new(HPos::Left, VPos::Center));
    for (it, (row, x)) in items.iter().zip(legend_layout(area, items)?) {
        let y = 12 + (row * LEGEND_ROW) as i32;
        let x = match it {
            LegendItem::Swatch(_, color) => {
                area.draw(&Rectangle::new(
                    [(x, y - 6), (x + 14, y + 6)],
                    color.filled(),
                ))
                .map_err(e)?;
                x
            }
            LegendItem::Whisker(_) => {
                let s = BLACK.mix(0.75).stroke_width(1);
                area.draw(&PathElement::new(vec![(x + 7, y - 7), (x + 7, y + 7)], s))
                    .map_err(e)?;
                area.draw(&PathElement::new(vec![(x + 3, y - 7), (x + 11, y - 7)], s))
                    .map_err(e)?;
                area.draw(&PathElement::new(vec![(x + 3, y + 7), (x + 11, y + 7)], s))
                    .map_err(e)?;
                x
            }
            LegendItem::Dashed(_) => {
                let s = RGBColor(90, 90, 90).stroke_width(1);
                for k in 0..3 {
                    area.draw(&PathElement::new(
                        vec![(x + 7, y - 7 + k * 5), (x + 7, y - 4 + k * 5)],
                        s,
                    ))
                    .map_err(e)?;
                }
                x
            }
            LegendItem::Note(_) => x - 18,
        };
        area.draw(&Text::new(it.label(), (x + 18, y), style.clone()))
            .map_err(e)?;
    }
    Ok(())
}

/// One bar of a horizontal bar chart.
#[derive(Clone, Debug)]
pub struct HBar {
    pub label: String,
    pub value: f64,
    /// A range drawn as a whisker (e.g. p5–p95 across replications).
    pub interval: Option<(f64, f64)>,
    /// Text after the bar (e.g. the value and its share).
    pub note: String,
}

/// The value axis of a horizontal bar chart: zero (or the lowest value) to the highest, with
/// room on the right for the notes.
pub fn hbar_ticks(bars: &[HBar]) -> Ticks {
    let hi = bars
        .iter()
        .map(|b| b.interval.map_or(b.value, |i| i.1.max(b.value)))
        .fold(0.0f64, f64::max);
    let lo = bars
        .iter()
        .map(|b| b.interval.map_or(b.value, |i| i.0.min(b.value)))
        .fold(0.0f64, f64::min);
    Ticks::new(lo, hi.max(1.0) * 1.35, 7, false)
}

/// Horizontal bars, first bar on top, with the category labels on the left and each bar's
/// note after it; `x_desc` names the quantity and unit.
pub fn draw_hbars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    bars: &[HBar],
    whisker_label: Option<&str>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(e)?;
    let h = root.dim_in_pixel().1;
    let (main, legend) = root.split_vertically(h.saturating_sub(if whisker_label.is_some() {
        LEGEND_ROW + 8
    } else {
        0
    }));
    let n = bars.len().max(1);
    let ticks = hbar_ticks(bars);
    let (x0, x1) = ticks.range();
    let font: TextStyle = ("sans-serif", FONT_SIZE).into_font().into();
    let label_w = bars
        .iter()
        .map(|b| {
            main.estimate_text_size(&b.label, &font)
                .map_or(0, |(w, _)| w)
        })
        .max()
        .unwrap_or(40)
        + 16;
    let yr = Keyed::new(-0.5f64, n as f64 - 0.5, (0..n).map(|i| i as f64).collect());
    let mut chart = ChartBuilder::on(&main)
        .margin_left(16)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(48)
        .y_label_area_size(label_w)
        .build_cartesian_2d(Keyed::new(x0, x1, ticks.values.clone()), yr)
        .map_err(e)?;
    let row = |y: f64| n - 1 - (y.round().max(0.0) as usize).min(n - 1);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(BLACK.mix(0.10))
        .axis_desc_style(("sans-serif", FONT_SIZE))
        .x_desc(x_desc)
        .label_style(("sans-serif", FONT_SIZE))
        .x_label_formatter(&|x| ticks.label(*x))
        .y_label_formatter(&|y| bars.get(row(*y)).map_or(String::new(), |b| b.label.clone()))
        .draw()
        .map_err(e)?;
    let y_of = |i: usize| (n - 1 - i) as f64;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let y = y_of(i);
            Rectangle::new(
                [(0.0, y - 0.32), (b.value, y + 0.32)],
                PALETTE[i % PALETTE.len()].filled(),
            )
        }))
        .map_err(e)?;
    let style = BLACK.mix(0.75).stroke_width(1);
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let (a, c) = b.interval?;
            let y = y_of(i);
            Some(PathElement::new(vec![(a, y), (c, y)], style))
        }))
        .map_err(e)?;
    chart
        .draw_series(bars.iter().enumerate().flat_map(|(i, b)| {
            let y = y_of(i);
            b.interval
                .map(|(a, c)| {
                    [
                        PathElement::new(vec![(a, y - 0.12), (a, y + 0.12)], style),
                        PathElement::new(vec![(c, y - 0.12), (c, y + 0.12)], style),
                    ]
                })
                .into_iter()
                .flatten()
        }))
        .map_err(e)?;
    let note = ("sans-serif", FONT_SIZE)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let pad = (x1 - x0) * 0.01;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let end = b.interval.map_or(b.value, |iv| iv.1.max(b.value)).max(0.0);
            Text::new(b.note.clone(), (end + pad, y_of(i)), note.clone())
        }))
        .map_err(e)?;
    if let Some(l) = whisker_label {
        draw_legend(&legend, &[LegendItem::Whisker(l.to_string())])?;
    }
    root.present().map_err(e)?;
    Ok(())
}

/// The value axis of a histogram: the values' range (widened around a single value).
pub fn histogram_ticks(values: &[f64]) -> Ticks {
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let (lo, hi) = if values.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.01).max(1.0);
        (lo - pad, hi + pad)
    };
    Ticks::new(lo, hi, 8, false)
}

/// A histogram of `values` in 20 bins, with distinct money ticks.
fn histogram<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    values: &[f64],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(e)?;
    let xt = histogram_ticks(values);
    let (x0, x1) = xt.range();
    let bins = 20usize;
    let width = (x1 - x0) / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in values {
        let i = (((v - x0) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let yt = Ticks::new(0.0, top * 1.1, 6, true);
    let (y0, y1) = yt.range();
    let mut chart = ChartBuilder::on(&root)
        .margin_left(16)
        .margin_right(24)
        .margin_top(6)
        .margin_bottom(8)
        .x_label_area_size(48)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(
            Keyed::new(x0, x1, xt.values.clone()),
            Keyed::new(y0, y1, yt.values.clone()),
        )
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(BLACK.mix(0.10))
        .axis_desc_style(("sans-serif", FONT_SIZE))
        .x_desc(x_label)
        .y_desc("replications")
        .label_style(("sans-serif", FONT_SIZE))
        .x_label_formatter(&|v| xt.label(*v))
        .y_label_formatter(&|v| yt.label(*v))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| {
                    let a = x0 + width * i as f64;
                    Rectangle::new(
                        [(a + width * 0.04, 0.0), (a + width * 0.96, *c as f64)],
                        PALETTE[0].filled(),
                    )
                }),
        )
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// 12 345 678 → "12.3M" (see [`super::format::fmt_short`]).
pub fn human(v: f64) -> String {
    super::format::fmt_short(v)
}

/// The payout kinds stacked on the payouts chart, bottom first. Together they are the total
/// payouts: what sellers pay out to creators, distributors and the platform's Plus service.
pub const PAYOUTS: [(Metric, &str); 6] = [
    (Metric::Commissions, "commissions"),
    (Metric::ShopAdsCommissions, "Shop Ads commissions"),
    (Metric::DistributorFees, "distributor fees"),
    (Metric::FlatFeesPaid, "Target flat fees"),
    (Metric::RewardsPaid, "Plus rewards"),
    (Metric::ServiceFeesCharged, "Plus service fees"),
];

/// The payouts chart's layers (per-day means of each kind) and the per-day mean of total
/// payouts, which the layers add up to.
pub fn payout_layers(daily: &DailyAgg) -> (Vec<Layer>, Vec<f64>) {
    let layers = PAYOUTS
        .iter()
        .enumerate()
        .map(|(i, (m, l))| Layer {
            label: (*l).to_string(),
            values: daily.mean(&[*m]),
            color: PALETTE[i],
        })
        .collect();
    let all: Vec<Metric> = PAYOUTS.iter().map(|(m, _)| *m).collect();
    (layers, daily.mean(&all))
}

/// GMV by the plan type that paid commission on each line.
pub const GMV_BY_PLAN: [(Metric, &str); 6] = [
    (Metric::GmvShop, "Shop plan"),
    (Metric::GmvOpen, "Open collaboration"),
    (Metric::GmvTarget, "Target collaboration"),
    (Metric::GmvPlus, "Collaboration Plus"),
    (Metric::GmvDistributor, "distributor link"),
    (Metric::GmvUnattributed, "no commission"),
];

/// GMV by plan type over the run: the mean over replications, p5–p95 as the interval when
/// there are several, and the share of mean GMV in the note.
pub fn gmv_by_plan(reps: &[Replication], cur: &Currency) -> Vec<HBar> {
    let n = reps.len().max(1) as f64;
    let total = |m: Metric| -> Vec<f64> {
        let mut v: Vec<f64> = reps
            .iter()
            .map(|r| r.total(m).to_f64().unwrap_or(0.0))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    hbars(reps.len(), cur, |m| {
        let v = total(m);
        (v.iter().sum::<f64>() / n, pct(&v, 0.05), pct(&v, 0.95))
    })
}

/// [`gmv_by_plan`] from the totals' aggregate (beyond the exact limit): means from the exact
/// sums, p5–p95 from the sketches.
pub fn gmv_by_plan_of(agg: &TotalsAgg, cur: &Currency) -> Vec<HBar> {
    hbars(agg.count() as usize, cur, |m| agg.mean_band(m))
}

/// The GMV-by-plan bars of `n` replications whose metric `m` has (mean, p5, p95) `of(m)`.
fn hbars(n: usize, cur: &Currency, of: impl Fn(Metric) -> (f64, f64, f64)) -> Vec<HBar> {
    let gmv = of(Metric::Gmv).0;
    GMV_BY_PLAN
        .iter()
        .map(|(m, label)| {
            let (mean, p5, p95) = of(*m);
            let share = if gmv > 0.0 { mean / gmv } else { 0.0 };
            HBar {
                label: (*label).to_string(),
                value: mean,
                interval: (n > 1).then_some((p5, p95)),
                note: format!("{} ({})", fmt_money_short(mean, cur), fmt_rate(share)),
            }
        })
        .collect()
}

/// The days a chart shows: through the last day with a non-zero value, and at least the
/// scenario's `days` (the drain's empty tail is left out).
pub fn active_days(values: &[f64], days: usize) -> usize {
    let last = values.iter().rposition(|v| *v != 0.0).map_or(0, |i| i + 1);
    (last + 1).max(days).min(values.len().max(days))
}

/// The daily charts of a run — GMV, order lines and refunds per day (median, p5–p95
/// whiskers), payouts per day stacked by kind (means) — by file name.
pub fn daily_charts<'a>(
    sc: &Scenario,
    daily: &DailyAgg,
    timeline: &'a Timeline,
) -> Vec<(&'static str, DailyChart<'a>)> {
    let code = sc.region.currency.as_str();
    let n = daily.count() as usize;
    let all_days = daily.days().max(1);
    let stat = if n > 1 {
        format!("median of {n} replications")
    } else {
        "one replication".to_string()
    };
    let mut out = Vec::new();
    for (name, m, what, unit) in [
        ("gmv", Metric::Gmv, "GMV per day", code),
        ("orders", Metric::Orders, "Order lines per day", "lines"),
        ("refunds", Metric::Refunds, "Refunds per day", code),
    ] {
        let b = daily.band(m);
        // No new demand after the last day: GMV and orders stop there; refunds run on
        // through the drain, as far as there are any.
        let days = if matches!(m, Metric::Gmv | Metric::Orders) {
            (sc.days as usize).min(all_days)
        } else {
            active_days(&b.p95, sc.days as usize).min(all_days)
        };
        let cut = |v: &[f64]| v[..days.min(v.len())].to_vec();
        out.push((
            name,
            DailyChart {
                title: format!("{what} ({unit}, {stat})"),
                y_desc: format!("{} per day ({unit})", metric_label(m.name())),
                integer: m.unit() == crate::metrics::Unit::Count,
                layers: vec![Layer {
                    label: if n > 1 {
                        "median".into()
                    } else {
                        "value".into()
                    },
                    values: cut(&b.p50),
                    color: PALETTE[0],
                }],
                whiskers: (n > 1).then(|| {
                    (
                        cut(&b.p5),
                        cut(&b.p95),
                        "p5–p95 across replications".to_string(),
                    )
                }),
                axis: DayAxis::new(sc.calendar, days),
                timeline,
            },
        ));
    }
    let (layers, total) = payout_layers(daily);
    let days = active_days(&total, sc.days as usize);
    let layers = layers
        .into_iter()
        .map(|mut l| {
            l.values.truncate(days);
            l
        })
        .collect();
    out.push((
        "payouts",
        DailyChart {
            title: format!("Payouts per day by kind ({code}, {})", mean_of(n)),
            y_desc: format!("paid per day ({code})"),
            integer: false,
            layers,
            whiskers: None,
            axis: DayAxis::new(sc.calendar, days),
            timeline,
        },
    ));
    out
}

fn mean_of(n: usize) -> String {
    if n > 1 {
        format!("mean of {n} replications")
    } else {
        "one replication".to_string()
    }
}

/// Seller net at the end of each replication (the histogram's values).
pub fn seller_nets(reps: &[Replication]) -> Vec<f64> {
    reps.iter()
        .map(|r| r.end_metric(EndMetric::SellerNet).to_f64().unwrap_or(0.0))
        .collect()
}

/// Writes every chart as PNG and SVG; returns their base names with their titles. The daily
/// charts come from `daily` (the replications' rows aggregated as they arrived).
pub fn write_charts(
    dir: &Path,
    sc: &Scenario,
    totals: &Totals,
    daily: &DailyAgg,
) -> Result<Vec<(String, String)>> {
    let cur = Currency::of(&sc.region);
    let code = &cur.code;
    let n = totals.count() as usize;
    let timeline = Timeline::of(sc);
    let mut out = Vec::new();
    for (name, chart) in daily_charts(sc, daily, &timeline) {
        both(dir, name, &|a| draw_daily(a, &chart), &|a| {
            draw_daily(a, &chart)
        })?;
        out.push((name.to_string(), chart.title.clone()));
    }

    let bars = match totals.exact() {
        Some(reps) => gmv_by_plan(reps, &cur),
        None => gmv_by_plan_of(totals.agg(), &cur),
    };
    let title = format!("GMV by plan type ({code}, {})", mean_of(n));
    let x_desc = format!("GMV over the run ({code})");
    let wl = (n > 1).then_some("p5–p95 across replications");
    both(
        dir,
        "gmv_by_plan",
        &|a| draw_hbars(a, &title, &x_desc, &bars, wl),
        &|a| draw_hbars(a, &title, &x_desc, &bars, wl),
    )?;
    out.push(("gmv_by_plan".into(), title.clone()));

    let nets = match totals.exact() {
        Some(reps) => seller_nets(reps),
        // seller net: the first figure after the metrics
        None => totals.agg().sketched_values(Metric::COUNT),
    };
    let title = format!("Seller net at the end, across {n} replication(s) ({code})");
    let xl = format!("sellers' net position at the end ({code})");
    both(
        dir,
        "seller_net",
        &|a| histogram(a, &title, &xl, &nets),
        &|a| histogram(a, &title, &xl, &nets),
    )?;
    out.push(("seller_net".into(), title.clone()));
    Ok(out)
}
