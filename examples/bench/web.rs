//! Scenario 8: the web dashboard in Debian's headless Chromium, on a daemon with queued jobs and
//! a library of 10,000 videos (seeded as the gallery scenario does): the first load's bytes on
//! the wire (compressed), the time from navigation to a rendered queue (Chromium's performance
//! timeline, a mark the queue view sets), and the gallery's first page (its `/api/library`
//! request as the browser timed it, and how many cards the DOM holds, also after scrolling).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use crate::catalogue::Tarpit;
use crate::ctx::Ctx;
use crate::daemon::{idle_web, Daemon};
use crate::gallery::seed;
use crate::table::{median, ms, Row, Verdict};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Library videos (`--smoke`: a few hundred).
const VIDEOS: u64 = 10_000;
const SMOKE_VIDEOS: u64 = 300;
/// Jobs in the queue (their searches hang on the tarpit, so they stay there).
const JOBS: usize = 20;

pub(crate) fn web(ctx: &Ctx) -> Result<Vec<Row>> {
    const S: &str = "web";
    if !std::path::Path::new(CHROMIUM).exists() {
        say!("chromium not found: skipping the web scenario (apt-get install chromium)");
        return Ok(vec![Row {
            verdict: Verdict::Skipped,
            ..Row::info(
                S,
                "dashboard",
                "chromium not installed (apt-get install chromium)",
            )
        }]);
    }
    let videos = if ctx.smoke { SMOKE_VIDEOS } else { VIDEOS };
    let tarpit = Tarpit::start()?;
    let mut d = Daemon::new(&ctx.root, "web", idle_web(&tarpit.base()))?;
    d.start()?;
    d.stop();
    seed(&d.db(), videos)?;
    d.start()?;
    for i in 0..JOBS {
        let status = d.ctl(&["add", &format!("web bench {i}"), "3"]).status()?;
        if !status.success() {
            return Err(anyhow!("vfetchctl add failed"));
        }
    }
    let login = d.web()?.login_url;

    let profile = tempfile::tempdir()?;
    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some(PathBuf::from(CHROMIUM)))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1280, 800)))
            .user_data_dir(Some(profile.path().to_path_buf()))
            .build()
            .map_err(|e| anyhow!("chromium options: {e}"))?,
    )?;
    let tab = browser.new_tab()?;
    tab.navigate_to(&login)?.wait_until_navigated()?;
    wait(&tab, "document.querySelectorAll('.job').length > 0")?;

    // First visit: everything came over the wire (a fresh profile), the event stream aside.
    let bytes = js(
        &tab,
        "performance.getEntriesByType('navigation')[0].transferSize + performance \
         .getEntriesByType('resource').filter(e => !e.name.includes('/api/')) \
         .reduce((sum, e) => sum + e.transferSize, 0)",
    )?
    .as_f64()
    .ok_or_else(|| anyhow!("no transfer sizes"))?;

    let runs = if ctx.smoke { 2 } else { 10 };
    let mut rendered = Vec::new();
    for _ in 0..runs {
        // Bypassing the cache: each load as a first visit's would be.
        tab.reload(true, None)?;
        wait(
            &tab,
            "performance.getEntriesByName('vfetch:queue-rendered').length > 0",
        )?;
        let at = js(
            &tab,
            "performance.getEntriesByName('vfetch:queue-rendered')[0].startTime",
        )?;
        rendered.push(at.as_f64().ok_or_else(|| anyhow!("no queue mark"))?);
    }
    let rendered = median(&rendered);

    js(&tab, "(location.hash = '#/gallery', 1)")?;
    wait(&tab, "document.querySelectorAll('.card').length >= 60")?;
    let api = js(
        &tab,
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/library'))[0].duration",
    )?
    .as_f64()
    .ok_or_else(|| anyhow!("no /api/library timing"))?;
    let first_cards = js(&tab, "document.querySelectorAll('.card').length")?;
    // Scroll on: pages keep coming, the DOM stays bounded.
    for _ in 0..10 {
        js(&tab, "(window.scrollTo(0, document.body.scrollHeight), 1)")?;
        std::thread::sleep(Duration::from_millis(300));
    }
    let scrolled_cards = js(&tab, "document.querySelectorAll('.card').length")?;
    drop(tab);
    drop(browser);
    d.stop();
    drop(tarpit);

    let kb = bytes / 1024.0;
    let cards = |v: &Value| v.as_u64().unwrap_or(0);
    Ok(vec![
        Row::info(
            S,
            "first load of the dashboard (bytes on the wire, gzip)",
            format!("{kb:.1} KiB"),
        )
        .target("<= 150 KB", bytes <= 150_000.0),
        Row::info(
            S,
            format!("navigation to a rendered queue of {JOBS} jobs (Chromium, loopback, median)"),
            ms(rendered),
        )
        .target("<= 500 ms", rendered <= 500.0),
        Row::info(
            S,
            format!("gallery first page at {videos} videos: /api/library as the browser timed it"),
            ms(api),
        )
        .target("<= 30 ms", api <= 30.0),
        Row::info(
            S,
            "gallery cards in the DOM: first page / after scrolling 10 screens",
            format!("{} / {}", cards(&first_cards), cards(&scrolled_cards)),
        )
        .target("a few hundred at most", cards(&scrolled_cards) <= 300),
    ])
}

/// Evaluates `expr` in the page and returns its value as JSON.
fn js(tab: &Tab, expr: &str) -> Result<Value> {
    let wrapped = format!("(async () => JSON.stringify(await ({expr})))()");
    let result = tab.evaluate(&wrapped, true)?;
    match result.value {
        Some(Value::String(text)) => Ok(serde_json::from_str(&text)?),
        other => Err(anyhow!("{expr}: {other:?}")),
    }
}

/// Waits (up to 30 s) until `expr` is true in the page.
fn wait(tab: &Tab, expr: &str) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if js(tab, expr)? == Value::Bool(true) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(anyhow!("timed out waiting for {expr}"))
}
