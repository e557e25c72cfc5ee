//! Charts (plotters): GMV, orders, payouts by kind, refunds over time as the median with a
//! p5–p95 band across replications, and seller net across replications; each as PNG and SVG.
//!
//! PNGs are drawn with a font embedded in the binary (DejaVu Sans, `assets/fonts`), so charts
//! render on a bare machine with no system font libraries.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;

use crate::metrics::{EndMetric, Metric};
use crate::scenario::Scenario;
use crate::sim::Replication;

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

/// One metric's daily values across replications: median and the p5–p95 band.
pub struct Band {
    pub p5: Vec<f64>,
    pub p50: Vec<f64>,
    pub p95: Vec<f64>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The per-day band of a metric.
pub fn band(reps: &[Replication], m: Metric) -> Band {
    let days = reps.iter().map(|r| r.daily.len()).max().unwrap_or(0);
    let mut b = Band {
        p5: Vec::with_capacity(days),
        p50: Vec::with_capacity(days),
        p95: Vec::with_capacity(days),
    };
    let mut col = Vec::with_capacity(reps.len());
    for d in 0..days {
        col.clear();
        col.extend(reps.iter().map(|r| {
            r.daily
                .get(d)
                .map_or(0.0, |row| row[m as usize].to_f64().unwrap_or(0.0))
        }));
        col.sort_by(f64::total_cmp);
        b.p5.push(pct(&col, 0.05));
        b.p50.push(pct(&col, 0.5));
        b.p95.push(pct(&col, 0.95));
    }
    b
}

const W: u32 = 960;
const H: u32 = 520;

pub(crate) fn both(
    dir: &Path,
    name: &str,
    draw: &dyn Fn(DrawingArea<SVGBackend, Shift>) -> Result<()>,
    draw_png: &dyn Fn(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<()> {
    let svg = dir.join(format!("{name}.svg"));
    draw(SVGBackend::new(&svg, (W, H)).into_drawing_area())?;
    let png = dir.join(format!("{name}.png"));
    draw_png(BitMapBackend::new(&png, (W, H)).into_drawing_area())?;
    Ok(())
}

pub(crate) fn e<T: std::fmt::Debug>(x: T) -> anyhow::Error {
    anyhow!("chart drawing failed: {x:?}")
}

fn band_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    b: &Band,
    n: usize,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let days = b.p50.len().max(1);
    let ymax = b
        .p95
        .iter()
        .chain(&b.p50)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let mut chart = daily_frame(&root, title, y_label, days, ymax)?;
    let pts = |v: &[f64]| {
        v.iter()
            .enumerate()
            .map(|(d, y)| (d as f64, *y))
            .collect::<Vec<_>>()
    };
    if n > 1 {
        let mut poly = pts(&b.p95);
        poly.extend(pts(&b.p5).into_iter().rev());
        chart
            .draw_series(std::iter::once(Polygon::new(poly, BLUE.mix(0.18))))
            .map_err(e)?
            .label("p5–p95 across replications")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 16, y + 5)], BLUE.mix(0.18).filled())
            });
    }
    chart
        .draw_series(LineSeries::new(pts(&b.p50), BLUE.stroke_width(2)))
        .map_err(e)?
        .label(if n > 1 { "median" } else { "value" })
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    legend_and_present(&mut chart, &root)
}

/// The frame of a per-day chart: caption, axes with the days and amounts, grid.
pub(crate) fn daily_frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    days: usize,
    ymax: f64,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(92)
        .build_cartesian_2d(0f64..(days as f64 - 1.0).max(1.0), 0f64..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("day of the run")
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .y_label_formatter(&|v| human(*v))
        .draw()
        .map_err(e)?;
    Ok(chart)
}

/// Draws a daily chart's legend (upper right) and writes the file.
pub(crate) fn legend_and_present<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    root: &'a DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The payout kinds stacked (medians per day).
const PAYOUTS: [(Metric, &str); 6] = [
    (Metric::Commissions, "commissions"),
    (Metric::ShopAdsCommissions, "Shop Ads commissions"),
    (Metric::RewardsPaid, "Plus rewards"),
    (Metric::DistributorFees, "distributor fees"),
    (Metric::FlatFeesPaid, "flat fees"),
    (Metric::ServiceFeesCharged, "service fees"),
];

fn stacked_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    layers: &[(Vec<f64>, &str)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let days = layers.first().map_or(1, |l| l.0.len()).max(1);
    let mut cum: Vec<Vec<f64>> = Vec::new();
    let mut acc = vec![0.0; days];
    for (v, _) in layers {
        for (d, a) in acc.iter_mut().enumerate() {
            *a += v.get(d).copied().unwrap_or(0.0);
        }
        cum.push(acc.clone());
    }
    let ymax = acc.iter().copied().fold(0.0f64, f64::max).max(1.0) * 1.08;
    let mut chart = daily_frame(&root, title, y_label, days, ymax)?;
    // Top layer first so lower layers paint over it.
    for (i, (top, (_, label))) in cum.iter().zip(layers).enumerate().rev() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(AreaSeries::new(
                top.iter().enumerate().map(|(d, y)| (d as f64, *y)),
                0.0,
                color.mix(0.85),
            ))
            .map_err(e)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
    }
    legend_and_present(&mut chart, &root)
}

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
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let (lo, hi) = if values.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let bins = 20usize;
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in values {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let ymax = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0f64..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("replications")
        .label_style(("sans-serif", 14))
        .x_label_formatter(&|v| human(*v))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x0 = lo + width * i as f64;
            Rectangle::new([(x0, 0.0), (x0 + width, *c as f64)], BLUE.mix(0.6).filled())
        }))
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// 12 345 678 → "12.3M".
pub fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Writes every chart as PNG and SVG; returns their base names with their titles.
pub fn write_charts(
    dir: &Path,
    sc: &Scenario,
    reps: &[Replication],
) -> Result<Vec<(String, String)>> {
    register_font();
    let cur = &sc.region.currency;
    let n = reps.len();
    let mut out = Vec::new();
    for (name, m, title, unit) in [
        (
            "gmv",
            Metric::Gmv,
            "GMV per day",
            format!("GMV per day ({cur})"),
        ),
        (
            "orders",
            Metric::Orders,
            "Order lines per day",
            "order lines per day".to_string(),
        ),
        (
            "refunds",
            Metric::Refunds,
            "Refunds per day",
            format!("refunds per day ({cur})"),
        ),
    ] {
        let mut b = band(reps, m);
        if matches!(m, Metric::Gmv | Metric::Orders) {
            // No new demand after the last day: the drain only settles what is under way.
            let days = sc.days as usize;
            b.p5.truncate(days);
            b.p50.truncate(days);
            b.p95.truncate(days);
        }
        both(dir, name, &|a| band_chart(a, title, &unit, &b, n), &|a| {
            band_chart(a, title, &unit, &b, n)
        })?;
        out.push((name.to_string(), title.to_string()));
    }
    let layers: Vec<(Vec<f64>, &str)> = PAYOUTS
        .iter()
        .map(|(m, l)| (band(reps, *m).p50, *l))
        .collect();
    let unit = format!("paid per day ({cur}, medians)");
    both(
        dir,
        "payouts",
        &|a| stacked_chart(a, "Payouts by kind", &unit, &layers),
        &|a| stacked_chart(a, "Payouts by kind", &unit, &layers),
    )?;
    out.push(("payouts".into(), "Payouts by kind".into()));
    let nets: Vec<f64> = reps
        .iter()
        .map(|r| r.end_metric(EndMetric::SellerNet).to_f64().unwrap_or(0.0))
        .collect();
    let xl = format!("seller net at the end ({cur})");
    both(
        dir,
        "seller_net",
        &|a| histogram(a, "Seller net across replications", &xl, &nets),
        &|a| histogram(a, "Seller net across replications", &xl, &nets),
    )?;
    out.push(("seller_net".into(), "Seller net across replications".into()));
    Ok(out)
}

/// Sweep charts: for each of a few headline metrics, every arm's mean with its 95% interval.
pub fn write_sweep_charts(
    dir: &Path,
    doc: &serde_json::Value,
    currency: &str,
) -> Result<Vec<(String, String)>> {
    register_font();
    let arms = doc["arms"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (metric, title) in [
        ("gmv", "GMV by arm"),
        ("marketing_cost", "Marketing cost by arm"),
        ("rewards_paid", "Plus rewards paid by arm"),
        ("seller_net", "Seller net by arm"),
    ] {
        let pts: Vec<(String, f64, f64, f64)> = arms
            .iter()
            .map(|a| {
                let m = &a["metrics"][metric];
                let mean = m["mean"]
                    .as_str()
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(0.0);
                (
                    a["label"].as_str().unwrap_or("").to_string(),
                    mean,
                    m["ci95"][0].as_f64().unwrap_or(mean),
                    m["ci95"][1].as_f64().unwrap_or(mean),
                )
            })
            .collect();
        let y_label = format!("{metric} per replication ({currency}); mean and 95% CI");
        let name = format!("sweep_{metric}");
        both(
            dir,
            &name,
            &|root| arm_chart(root, title, &y_label, &pts),
            &|root| arm_chart(root, title, &y_label, &pts),
        )?;
        out.push((format!("sweep_{metric}"), title.to_string()));
    }
    Ok(out)
}

fn arm_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    pts: &[(String, f64, f64, f64)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let lo = pts
        .iter()
        .map(|p| p.2.min(p.1))
        .fold(f64::MAX, f64::min)
        .min(0.0);
    let hi = pts
        .iter()
        .map(|p| p.3.max(p.1))
        .fold(f64::MIN, f64::max)
        .max(1.0)
        * 1.1;
    let n = pts.len().max(1);
    let labels: Vec<String> = pts.iter().map(|p| p.0.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(60)
        .y_label_area_size(92)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("arm")
        .y_desc(y_label)
        .label_style(("sans-serif", 12))
        .y_label_formatter(&|v| human(*v))
        .disable_x_mesh()
        .draw()
        .map_err(e)?;
    chart
        .draw_series(
            pts.iter()
                .enumerate()
                .map(|(i, p)| ErrorBar::new_vertical(i as f64, p.2, p.1, p.3, BLUE.filled(), 12)),
        )
        .map_err(e)?;
    chart
        .draw_series(
            pts.iter()
                .enumerate()
                .map(|(i, p)| Circle::new((i as f64, p.1), 5, BLUE.filled())),
        )
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
