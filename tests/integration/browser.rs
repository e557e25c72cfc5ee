//! `report.html` in a real browser: headless Chromium renders the demo's report and the test
//! fails on console errors, failed loads, missing or empty images and charts, and tables or a
//! page wider than their container.
//!
//! Needs Debian's `chromium` (`apt-get install -y chromium`; `.ci/run` installs it), or a
//! Chromium-compatible browser named by `AFFSIM_CHROMIUM`. Without one the test fails under CI
//! (`CI=true`) and says how to install it; elsewhere it prints a note and skips, as it does with
//! `AFFSIM_SKIP_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TempDir, affsim, arg};

const PROBE: &str = include_str!("browser_probe.js");

/// The browser to run: `AFFSIM_CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AFFSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// The browser, or `None` when the test is to be skipped; panics with instructions otherwise.
fn browser_or_skip() -> Option<PathBuf> {
    if std::env::var("AFFSIM_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("AFFSIM_SKIP_BROWSER=1: the browser test of report.html is skipped");
        return None;
    }
    match chromium() {
        Some(p) => Some(p),
        // A fresh developer machine runs `cargo test` green without a browser (the README's
        // set-up is two commands); CI (`CI=true`, where .ci/run installs Chromium) must run it.
        None if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!(
                "note: no Chromium found, so the browser test of report.html is skipped outside CI \
                 (install it with `apt-get install -y chromium`, or name one with AFFSIM_CHROMIUM)"
            );
            None
        }
        None => panic!(
            "the report.html browser test needs headless Chromium, which was not found on PATH.\n\
             Install it (Debian/Ubuntu: `apt-get update && apt-get install -y chromium`), or name a \
             Chromium-compatible browser with AFFSIM_CHROMIUM=/path/to/chrome, or skip this test \
             with AFFSIM_SKIP_BROWSER=1."
        ),
    }
}

/// What the probe measured in the browser.
#[derive(Debug)]
struct Probe {
    doc: serde_json::Value,
    /// Console messages Chromium logged on stderr.
    console: Vec<String>,
}

/// Renders `page` (a copy with the probe injected) at `width` pixels and returns the probe.
fn render(browser: &Path, tmp: &TempDir, page: &Path, width: u32) -> Probe {
    let html = std::fs::read_to_string(page).expect("cannot read the page");
    let probed = html.replacen("<head>", &format!("<head><script>{PROBE}</script>"), 1);
    assert_ne!(
        probed, html,
        "the page has no <head> to inject the probe into"
    );
    let copy = page.with_file_name(format!("probe-{width}.html"));
    std::fs::write(&copy, probed).expect("cannot write the probed page");
    let url = format!("file://{}", std::fs::canonicalize(&copy).unwrap().display());
    let dom_file = tmp.join(&format!("dom-{width}.html"));
    let log_file = tmp.join(&format!("chromium-{width}.log"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            &format!(
                "--user-data-dir={}",
                arg(&tmp.join(&format!("profile-{width}")))
            ),
            &format!("--window-size={width},1000"),
            "--virtual-time-budget=5000",
            "--dump-dom",
            &url,
        ])
        // Files, not pipes: a full pipe would block the browser while the test waits.
        .stdout(Stdio::from(std::fs::File::create(&dom_file).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&log_file).unwrap()))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let started = Instant::now();
    while child
        .try_wait()
        .expect("cannot wait for the browser")
        .is_none()
    {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{} did not finish within 120 s", browser.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = std::fs::read_to_string(&dom_file).expect("cannot read the dumped DOM");
    let stderr = std::fs::read_to_string(&log_file).unwrap_or_default();
    let start = r#"<pre id="affsim-browser-check">"#;
    let at = dom.find(start).unwrap_or_else(|| {
        panic!(
            "the probe wrote no results (the page did not load?)\n--- stderr ---\n{stderr}\n--- DOM (start) ---\n{}",
            dom.chars().take(2000).collect::<String>()
        )
    });
    let rest = &dom[at + start.len()..];
    let text = &rest[..rest.find("</pre>").expect("unterminated probe output")];
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let doc: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("probe output is not JSON ({e}): {text}"));
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Probe { doc, console }
}

/// Every problem the probe found, in words.
fn problems(p: &Probe) -> Vec<String> {
    let mut out = Vec::new();
    for e in p.doc["errors"].as_array().into_iter().flatten() {
        out.push(format!("console error: {e}"));
    }
    for c in &p.console {
        out.push(format!("console message: {c}"));
    }
    for im in p.doc["images"].as_array().into_iter().flatten() {
        if im["ok"] != true {
            out.push(format!("image missing or empty: {}", im["src"]));
        }
    }
    for (i, s) in p.doc["svgs"].as_array().into_iter().flatten().enumerate() {
        let (w, h) = (
            s["width"].as_f64().unwrap_or(0.0),
            s["height"].as_f64().unwrap_or(0.0),
        );
        if w < 1.0 || h < 1.0 || s["children"].as_u64().unwrap_or(0) == 0 {
            out.push(format!("chart {i} is empty or has no size: {s}"));
        }
    }
    for t in p.doc["tables"].as_array().into_iter().flatten() {
        let n = |k: &str| t[k].as_f64().unwrap_or(0.0);
        if n("scroll") > n("container_client") + 0.5
            || n("container_scroll") > n("container_client") + 0.5
        {
            out.push(format!("table {} overflows its container: {t}", t["index"]));
        }
    }
    let page = &p.doc["page"];
    if page["scroll"].as_f64().unwrap_or(0.0) > page["client"].as_f64().unwrap_or(0.0) + 0.5 {
        out.push(format!("the page is wider than the window: {page}"));
    }
    out
}

#[test]
fn demo_report_renders_cleanly_in_chromium() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let tmp = TempDir::new("browser-report");
    let out = tmp.join("report");
    let run = affsim(&["run", "--replications", "3", "--quiet", "--out", arg(&out)]);
    assert_eq!(run.code, 0, "{run}");
    let page = out.join("report.html");
    let charts = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "svg"))
        })
        .count();
    assert!(charts >= 6, "expected at least 6 charts, found {charts}");
    for width in [1280, 1024] {
        let probe = render(&browser, &tmp, &page, width);
        let svgs = probe.doc["svgs"].as_array().map_or(0, Vec::len);
        assert_eq!(
            svgs, charts,
            "at {width}px: every chart file is inlined in report.html"
        );
        assert!(
            probe.doc["tables"].as_array().map_or(0, Vec::len) >= 2,
            "at {width}px: the headline and all-metrics tables are there: {}",
            probe.doc
        );
        let found = problems(&probe);
        assert!(found.is_empty(), "at {width}px:\n{}", found.join("\n"));
    }
}

/// The checker itself can fail: a page with a console error, an uncaught exception, a missing
/// image and an overflowing table yields each of those problems.
#[test]
fn browser_check_catches_a_broken_page() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let tmp = TempDir::new("browser-broken");
    let page = tmp.write(
        "bad.html",
        &format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"></head><body>\
             <img src=\"missing.png\" alt=\"gone\">\
             <div style=\"width:300px\"><table><tr><td>{}</td></tr></table></div>\
             <script>console.error(\"boom\"); notAFunction();</script></body></html>",
            "x".repeat(200)
        ),
    );
    let found = problems(&render(&browser, &tmp, &page, 1280)).join("\n");
    for expected in [
        "console error: \"boom\"",
        "notAFunction",
        "image missing or empty: \"missing.png\"",
        "table 0 overflows its container",
    ] {
        assert!(
            found.contains(expected),
            "missing {expected:?} in:\n{found}"
        );
    }
}
