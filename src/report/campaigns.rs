//! The per-campaign and per-seller sections of report.md and report.html: tables and the GMV-per-unit-of-cost chart with intervals.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{both, human, register_font};
use crate::experiment::summary::Summary;
use crate::metrics::campaigns::MeanCi;

/// A campaign on the chart: its id, its ratio (if defined) and the ratio's interval (if any).
type Point = (String, Option<f64>, Option<(f64, f64)>);

/// The chart's file name (without extension) in the report folder.
pub const CHART: &str = "campaign_gmv_per_cost";

fn mean(v: &MeanCi) -> String {
    human(v.mean.f64())
}

fn ci(v: Option<(f64, f64)>, fmt: &dyn Fn(f64) -> String) -> String {
    match v {
        Some((lo, hi)) => format!("[{}, {}]", fmt(lo), fmt(hi)),
        None => "—".into(),
    }
}

fn ratio(x: f64) -> String {
    format!("{x:.2}")
}

/// The campaign table's rows: campaign, kind, seller, GMV, its interval, orders, cost, GMV per
/// unit of cost, its interval, participants.
fn campaign_rows(doc: &Summary) -> Vec<[String; 10]> {
    doc.campaigns
        .iter()
        .map(|c| {
            let m = &c.mean;
            let r = &c.gmv_per_cost;
            [
                c.id.clone(),
                c.kind.clone(),
                c.seller
                    .as_deref()
                    .or(c.distributor.as_deref())
                    .unwrap_or("")
                    .to_string(),
                mean(&m.gmv),
                ci(m.gmv.ci95, &human),
                mean(&m.orders),
                mean(&m.cost),
                r.value.map_or("—".into(), ratio),
                ci(r.ci95, &ratio),
                mean(&m.participants),
            ]
        })
        .collect()
}

fn seller_rows(doc: &Summary) -> Vec<[String; 6]> {
    doc.sellers
        .iter()
        .map(|s| {
            let m = &s.mean;
            [
                s.seller.clone(),
                mean(&m.gmv),
                ci(m.gmv.ci95, &human),
                mean(&m.orders),
                mean(&m.cost),
                mean(&m.net),
            ]
        })
        .collect()
}

const CAMPAIGN_HEAD: [&str; 10] = [
    "campaign",
    "kind",
    "seller",
    "GMV",
    "95% CI",
    "orders",
    "cost",
    "GMV per unit of cost",
    "95% CI",
    "participants",
];
const SELLER_HEAD: [&str; 6] = ["seller", "GMV", "95% CI", "orders", "cost", "net"];
const NOTE: &str = "Means over replications with 95% Student-t intervals; GMV per unit of cost is a ratio of means with a delta-method interval (docs/statistics.md). \"—\": no interval (one replication, or a cost whose interval includes zero). Generated plans and sellers are pooled.";

fn md_table<const N: usize>(head: &[&str; N], rows: &[[String; N]], left: usize) -> String {
    let mut s = format!("| {} |\n|", head.join(" | "));
    for i in 0..N {
        s.push_str(if i < left { "---|" } else { "---:|" });
    }
    s.push('\n');
    for r in rows {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    s
}

fn html_table<const N: usize>(head: &[&str; N], rows: &[[String; N]]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    // Wide tables (many cost columns): smaller type, cells may wrap (`table.wide` in report.html).
    let mut s = String::from("<div class=\"table-wrap\"><table class=\"wide\"><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n");
    s
}

/// Adds the campaign and seller sections to the report folder's report.md and report.html,
/// and draws the chart. Does nothing when `doc` has no campaigns.
pub fn append(dir: &Path, doc: &Summary) -> Result<()> {
    let rows = campaign_rows(doc);
    if rows.is_empty() {
        return Ok(());
    }
    let sellers = seller_rows(doc);
    let pts: Vec<Point> = doc
        .campaigns
        .iter()
        .map(|c| (c.id.clone(), c.gmv_per_cost.value, c.gmv_per_cost.ci95))
        .collect();
    register_font();
    let title = "GMV per unit of marketing cost, by campaign (mean, 95% CI; hollow: no interval)";
    both(dir, CHART, &|root| chart(root, title, &pts), &|root| {
        chart(root, title, &pts)
    })?;
    let md_path = dir.join("report.md");
    let mut md = fs::read_to_string(&md_path).unwrap_or_default();
    let _ = write!(
        md,
        "\n## Campaigns\n\n{NOTE}\n\n{}\n![{title}]({CHART}.png)\n\n## Sellers\n\n{}",
        md_table(&CAMPAIGN_HEAD, &rows, 3),
        md_table(&SELLER_HEAD, &sellers, 1)
    );
    fs::write(&md_path, md)?;
    let html_path = dir.join("report.html");
    if let Ok(html) = fs::read_to_string(&html_path) {
        let svg = fs::read_to_string(dir.join(format!("{CHART}.svg")))?;
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let section = format!(
            "<h2>Campaigns</h2>\n<p>{}</p>\n{}<figure>{body}<figcaption>{title}</figcaption></figure>\n<h2>Sellers</h2>\n{}",
            NOTE.replace('"', "&quot;"),
            html_table(&CAMPAIGN_HEAD, &rows),
            html_table(&SELLER_HEAD, &sellers)
        );
        let at = html.rfind("</body>").unwrap_or(html.len());
        fs::write(
            &html_path,
            format!("{}{section}{}", &html[..at], &html[at..]),
        )?;
    }
    Ok(())
}

fn e<T: std::fmt::Debug>(x: T) -> anyhow::Error {
    anyhow!("chart drawing failed: {x:?}")
}

/// One row per campaign: the ratio as a point, its interval as a horizontal bar.
fn chart<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, title: &str, pts: &[Point]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let xs = pts.iter().flat_map(|p| {
        let (a, b) = p.2.unwrap_or((p.1.unwrap_or(0.0), p.1.unwrap_or(0.0)));
        [p.1.unwrap_or(0.0), a, b]
    });
    let lo = xs.clone().fold(0.0f64, f64::min);
    let hi = xs.fold(1.0f64, f64::max) * 1.1;
    let n = pts.len().max(1);
    let labels: Vec<String> = pts.iter().map(|p| p.0.clone()).collect();
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(200)
        .build_cartesian_2d(lo..hi, -0.5f64..(n as f64 - 0.5))
        .map_err(e)?;
    c.configure_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[n - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("GMV per unit of marketing cost")
        .label_style(("sans-serif", 12))
        .disable_y_mesh()
        .draw()
        .map_err(e)?;
    let row = |i: usize| (n - 1 - i) as f64;
    c.draw_series(pts.iter().enumerate().filter_map(|(i, p)| {
        let (v, (a, b)) = (p.1?, p.2?);
        Some(ErrorBar::new_horizontal(row(i), a, v, b, BLUE.filled(), 10))
    }))
    .map_err(e)?;
    // filled: the ratio has an interval; hollow: it has none (see the table's note)
    c.draw_series(pts.iter().enumerate().filter_map(|(i, p)| {
        let style = if p.2.is_some() {
            BLUE.filled()
        } else {
            BLUE.stroke_width(2)
        };
        Some(Circle::new((p.1?, row(i)), 5, style))
    }))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
