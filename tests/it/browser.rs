//! The web dashboard, end to end: its files as served (policy, compression, caching, login
//! and logout), and the dashboard itself in Debian's headless Chromium against the real daemon
//! and the fake provider — a job added through the form and followed live to done, the
//! gallery and player, hostile provider text, the theme, every keyboard shortcut, and axe-core
//! on every view in both themes, with screenshots under target/screenshots/.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::support::browser::{axe_script, processes_mentioning, Chromium};
use crate::support::fake_provider::{
    fixtures, video_from_fixture, FakeProvider, Fault, FaultRule, Source,
};
use crate::support::web::{send, Web, WEB_ON};
use crate::support::{add_big, wait_until, Daemon};

/// The policy the dashboard's pages must carry (the brief's, word for word).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";
/// A provider title that would run script if it were ever rendered as markup.
const HOSTILE_TITLE: &str = "<img src=x onerror=alert(1)>";
/// Everything the dashboard loads on first visit.
const FIRST_LOAD: [&str; 13] = [
    "/",
    "/assets/theme-init.js",
    "/assets/app.css",
    "/assets/app.js",
    "/assets/dom.js",
    "/assets/live.js",
    "/assets/views/queue.js",
    "/assets/views/add.js",
    "/assets/views/job.js",
    "/assets/views/gallery.js",
    "/assets/views/stats.js",
    "/assets/views/history.js",
    "/assets/views/settings.js",
];

/// Where the screenshots go.
fn screenshots() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// A one-time login link from `vfetchctl web`.
fn login_url(daemon: &Daemon) -> String {
    daemon.ctl_json(&["web"])["login_url"]
        .as_str()
        .expect("login_url")
        .to_string()
}

/// The session cookie (`name=value`) a login link sets.
fn log_in(web: &Web, daemon: &Daemon) -> String {
    let link = login_url(daemon);
    let path = link
        .strip_prefix(&web.url)
        .expect("the link is on this listener");
    let reply = send(web.bare(Method::GET, path));
    assert_eq!(reply.status, 303, "{}", reply.body);
    reply
        .header("set-cookie")
        .split(';')
        .next()
        .expect("cookie")
        .to_string()
}

#[test]
fn dashboard_files_are_served_compressed_cached_and_under_a_strict_policy() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();

    // Without a session: the login hint, no data and no app.
    let anonymous = send(web.bare(Method::GET, "/"));
    assert_eq!(anonymous.status, 200);
    assert!(anonymous.header("content-type").starts_with("text/html"));
    assert_eq!(anonymous.header("content-security-policy"), CSP);
    assert!(
        anonymous.body.contains("vfetchctl web"),
        "{}",
        anonymous.body
    );
    assert!(!anonymous.body.contains("app.js"), "{}", anonymous.body);

    let cookie = log_in(&web, &daemon);
    let home = send(web.bare(Method::GET, "/").header("cookie", &cookie));
    assert!(home.body.contains("/assets/app.js"), "{}", home.body);
    assert_eq!(home.header("content-security-policy"), CSP);
    assert_eq!(home.header("cache-control"), "no-store");

    // Text goes out gzipped, and the whole first load stays small.
    let mut transferred = 0;
    for path in FIRST_LOAD {
        let reply = send(
            web.bare(Method::GET, path)
                .header("cookie", &cookie)
                .header("accept-encoding", "gzip"),
        );
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.header("content-encoding"), "gzip", "{path}");
        transferred += reply.body.len();
    }
    assert!(
        transferred <= 150 * 1024,
        "first load is {transferred} bytes"
    );

    // Types, revalidation by ETag, and nothing outside the embedded files.
    let script = send(web.bare(Method::GET, "/assets/app.js"));
    assert_eq!(
        script.header("content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(script.header("cache-control"), "no-cache");
    let etag = script.header("etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = send(
        web.bare(Method::GET, "/assets/app.js")
            .header("if-none-match", &etag),
    );
    assert_eq!(again.status, 304);
    assert_eq!(
        send(web.bare(Method::GET, "/assets/app.css")).header("content-type"),
        "text/css; charset=utf-8"
    );
    send(web.bare(Method::GET, "/assets/nope.js")).assert_problem(404);
    send(web.bare(Method::GET, "/assets/..%2FCargo.toml")).assert_problem(404);

    // Logout: only from the dashboard's own page; then the cookie is worth nothing.
    let foreign = send(
        web.bare(Method::POST, "/logout")
            .header("cookie", &cookie)
            .header("origin", "http://evil.example"),
    );
    foreign.assert_problem(403);
    let logout = send(
        web.bare(Method::POST, "/logout")
            .header("cookie", &cookie)
            .header("origin", &web.url),
    );
    assert_eq!(logout.status, 303);
    assert!(logout.header("set-cookie").contains("Max-Age=0"));
    let after = send(web.bare(Method::GET, "/").header("cookie", &cookie));
    assert!(
        after.body.contains("vfetchctl web"),
        "logged out: {}",
        after.body
    );
    send(
        web.bare(Method::GET, "/api/status")
            .header("cookie", &cookie),
    )
    .assert_problem(401);
}

/// The provider: a small video titled like an attack (theme "reef"), and a big one (theme
/// "ocean waves") sent slowly enough for its progress to be watched.
fn provider() -> FakeProvider {
    let provider = FakeProvider::start();
    let mut hostile = video_from_fixture(
        Source::Wikimedia,
        // Wikimedia's title is its file name.
        &format!("{HOSTILE_TITLE}.webm"),
        HOSTILE_TITLE,
        &fixtures()[1],
    );
    hostile.tags.push("reef".into());
    provider.add(hostile);
    let big = add_big(&provider, "Ocean waves.mp4", "ocean waves");
    let url = provider.file_url(&big);
    let path = url.trim_start_matches(&provider.base_url()).to_string();
    provider.fault(FaultRule {
        path_contains: path,
        fault: Fault::Throttle(700_000),
        times: None,
    });
    // Searches for "dunes" hang: jobs that stay active for the keyboard checks.
    provider.fault(FaultRule {
        path_contains: "dunes".into(),
        fault: Fault::Latency(Duration::from_secs(120)),
        times: None,
    });
    provider
}

fn job_state(web: &Web, id: i64) -> String {
    web.get(&format!("/api/jobs/{id}")).json()["job"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn wait_state(web: &Web, id: i64, state: &str) {
    wait_until(
        Duration::from_secs(90),
        &format!("job {id} {state}"),
        || job_state(web, id) == state,
    );
}

#[test]
fn dashboard_adds_a_job_and_follows_it_live_in_chromium() {
    let provider = provider();
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia"],
        &format!("retry_base_ms = 50\n{WEB_ON}"),
    );
    let web = daemon.web();
    let reef = daemon.add(&["reef", "1"]);
    wait_state(&web, reef, "done");

    let Some(chrome) = Chromium::launch() else {
        return;
    };
    let profile = chrome.profile();
    chrome.open(&login_url(&daemon));
    chrome.wait_for(
        Duration::from_secs(10),
        "the dashboard",
        "document.querySelector('.jobs')",
    );
    // Any script a provider string smuggled in would call this.
    chrome
        .js("(window.alert = () => { window.__alerted = true; }, window.__page = 'first load', 1)");

    // Add: the earlier theme is offered, the API's refusal is shown beside its field.
    chrome.js("(location.hash = '#/add', 1)");
    chrome.wait_for(
        Duration::from_secs(5),
        "the add form",
        "document.getElementById('field-theme')",
    );
    chrome
        .tab
        .find_element("#field-theme")
        .expect("theme")
        .click()
        .expect("focus theme");
    chrome.tab.type_str("re").expect("type");
    chrome.wait_for(
        Duration::from_secs(5),
        "the earlier theme offered",
        "[...document.querySelectorAll('#theme-suggestions option')].some(o => o.value === 'reef')",
    );
    chrome.js(
        "(() => { const f = document.getElementById('field-theme'); f.value = 'ocean waves'; \
               document.getElementById('field-count').value = '0'; return 1; })()",
    );
    chrome.js("(document.querySelector('form.add button[type=submit]').click(), 1)");
    chrome.wait_for(
        Duration::from_secs(5),
        "the count's error",
        "document.getElementById('error-count').textContent",
    );
    let error = chrome.js("document.getElementById('error-count').textContent");
    assert!(error.as_str().unwrap_or("").contains("count"), "{error}");
    assert_eq!(
        chrome.js("document.getElementById('field-count').getAttribute('aria-invalid')"),
        "true"
    );
    chrome.js("(document.getElementById('field-count').value = '1', document.querySelector('form.add button[type=submit]').click(), 1)");
    chrome.wait_for(
        Duration::from_secs(5),
        "back on the queue",
        "location.hash === '#/queue'",
    );
    let jobs = web.get("/api/jobs?limit=10").json();
    let ocean = jobs
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["theme"] == "ocean waves"))
        .and_then(|j| j["id"].as_i64())
        .unwrap_or_else(|| panic!("the form's job is queued: {jobs}"));

    // Progress bars move without a reload, and the job reaches done.
    let mut seen: Vec<f64> = Vec::new();
    wait_until(
        Duration::from_secs(60),
        "the download's bar to move",
        || {
            if let Some(v) = chrome
                .js("document.querySelector('.dl progress')?.value ?? null")
                .as_f64()
            {
                if seen.last() != Some(&v) {
                    seen.push(v);
                }
            }
            seen.iter().filter(|v| **v > 0.0).count() >= 3
        },
    );
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress went back: {seen:?}"
    );
    chrome.wait_for(
        Duration::from_secs(60),
        "the job shown done",
        &format!(
            "document.querySelector('.job[data-id=\"{ocean}\"] .state')?.textContent === 'done'"
        ),
    );
    assert_eq!(
        chrome.js("window.__page"),
        "first load",
        "the page reloaded"
    );

    // Hostile provider text is shown as text; nothing runs.
    chrome.js(&format!("(location.hash = '#/job/{reef}', 1)"));
    chrome.wait_for(
        Duration::from_secs(5),
        "the job's downloads",
        "document.querySelector('td.title')",
    );
    assert_eq!(
        chrome.js("document.querySelector('td.title').textContent"),
        HOSTILE_TITLE
    );
    assert_eq!(
        chrome.js("document.querySelectorAll('img[src=\"x\"]').length"),
        0
    );
    assert_eq!(chrome.js("window.__alerted === true"), false);

    // Gallery: both videos with their thumbnails (made in the background once a download
    // lands), a hover preview from the sprite, the player plays and seeks.
    wait_until(Duration::from_secs(60), "both thumbnails made", || {
        let page = web.get("/api/library").json();
        let videos = page["videos"].as_array().cloned().unwrap_or_default();
        videos.len() == 2 && videos.iter().all(|v| v["thumbnail"] == true)
    });
    chrome.js("(location.hash = '#/gallery', 1)");
    chrome.wait_for(
        Duration::from_secs(10),
        "two cards",
        "document.querySelectorAll('.card').length === 2",
    );
    let captions =
        chrome.js("[...document.querySelectorAll('.card .caption')].map(c => c.textContent)");
    assert!(
        captions
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == HOSTILE_TITLE),
        "{captions}"
    );
    chrome.wait_for(
        Duration::from_secs(10),
        "thumbnails loaded",
        "[...document.querySelectorAll('.card img.thumb')].length === 2 && \
         [...document.querySelectorAll('.card img.thumb')].every(i => i.complete && i.naturalWidth > 0)",
    );
    assert_eq!(
        chrome.js("document.querySelectorAll('img[src=\"x\"]').length"),
        0
    );
    let ocean_download = web.get(&format!("/api/jobs/{ocean}")).json()["downloads"][0]["id"]
        .as_i64()
        .expect("download");
    let card = format!(".card[data-id=\"{ocean_download}\"] button");
    let frames = web.get("/api/library").json()["videos"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["download"] == ocean_download).cloned())
        .map(|v| v["sprite_frames"].as_u64().unwrap_or(0))
        .unwrap_or(0);
    assert!(
        frames > 1,
        "the big video has a hover sprite ({frames} frames)"
    );
    let hover = chrome.tab.find_element(&card).expect("card");
    hover.move_mouse_over().expect("hover");
    chrome.wait_for(
        Duration::from_secs(5),
        "the sprite behind the card",
        &format!("document.querySelector('{card} img').style.backgroundImage.includes('/sprite')"),
    );
    let statuses = chrome.record_statuses(&format!("/media/{ocean_download}"));
    chrome.js(&format!("(document.querySelector('{card}').click(), 1)"));
    chrome.wait_for(
        Duration::from_secs(5),
        "the player",
        "document.getElementById('player-video')",
    );
    let src = chrome.js("document.getElementById('player-video').getAttribute('src')");
    assert_eq!(src, format!("/media/{ocean_download}"));
    chrome.js("(() => { const v = document.getElementById('player-video'); v.muted = true; return v.play().then(() => 1); })()");
    chrome.wait_for(
        Duration::from_secs(10),
        "playback",
        "document.getElementById('player-video').currentTime > 0.3",
    );
    chrome.js("(document.getElementById('player-video').currentTime = 3, 1)");
    chrome.wait_for(
        Duration::from_secs(10),
        "the seek",
        "document.getElementById('player-video').currentTime >= 3",
    );
    chrome.screenshot(&screenshots(), "player-desktop");
    let statuses = statuses.lock().unwrap().clone();
    assert!(
        statuses.contains(&206),
        "no Range answer reached the player: {statuses:?}"
    );

    // Theme: the toggle survives a reload.
    let before = chrome.js("document.documentElement.dataset.theme");
    chrome.js("(document.getElementById('theme-toggle').click(), 1)");
    let toggled = chrome.js("document.documentElement.dataset.theme");
    assert_ne!(before, toggled);
    chrome.tab.reload(false, None).expect("reload");
    chrome.wait_for(
        Duration::from_secs(5),
        "the reloaded page",
        "document.getElementById('theme-toggle')",
    );
    assert_eq!(chrome.js("document.documentElement.dataset.theme"), toggled);

    keyboard(&chrome, &daemon, &web);

    drop(chrome);
    let left = processes_mentioning(&profile.to_string_lossy());
    assert!(left.is_empty(), "chromium processes left: {left:?}");
}

/// Every shortcut, on two active jobs (their searches hang).
fn keyboard(chrome: &Chromium, daemon: &Daemon, web: &Web) {
    let first = daemon.add(&["dunes", "1", "--priority", "5"]);
    let second = daemon.add(&["dunes night", "1"]);
    chrome.js("(location.hash = '#/queue', document.activeElement.blur(), 1)");
    chrome.wait_for(
        Duration::from_secs(10),
        "both jobs listed",
        &format!("document.querySelector('.job[data-id=\"{second}\"]')"),
    );
    let hash = || chrome.js("location.hash");
    let selected =
        || chrome.js("document.querySelector('.job[aria-current=true]')?.dataset.id ?? null");

    chrome.key("/");
    assert_eq!(chrome.js("document.activeElement.id"), "search");
    chrome.key("Escape");
    assert_ne!(chrome.js("document.activeElement.id"), "search");
    chrome.key("?");
    assert_eq!(chrome.js("document.getElementById('help').open"), true);
    chrome.key("Escape");
    assert_eq!(chrome.js("document.getElementById('help').open"), false);

    chrome.key("n");
    assert_eq!(hash(), "#/add");
    // While typing, letters are letters.
    chrome.wait_for(
        Duration::from_secs(5),
        "the theme field focused",
        "document.activeElement.id === 'field-theme'",
    );
    chrome.tab.type_str("gq").expect("type");
    assert_eq!(hash(), "#/add");
    assert_eq!(
        chrome.js("document.getElementById('field-theme').value"),
        "gq"
    );
    chrome.key("Escape");
    for (second_key, view) in [("g", "#/gallery"), ("s", "#/stats"), ("q", "#/queue")] {
        chrome.key("g");
        chrome.key(second_key);
        assert_eq!(hash(), view, "g {second_key}");
    }

    chrome.wait_for(
        Duration::from_secs(5),
        "the jobs",
        &format!("document.querySelector('.job[data-id=\"{second}\"]')"),
    );
    chrome.key("j");
    assert_eq!(selected(), first.to_string(), "j selects the first job");
    chrome.key("j");
    assert_eq!(selected(), second.to_string(), "j moves down");
    chrome.key("k");
    assert_eq!(selected(), first.to_string(), "k moves up");
    chrome.key("p");
    wait_state(web, first, "paused");
    chrome.wait_for(
        Duration::from_secs(5),
        "the paused job shown",
        &format!(
            "document.querySelector('.job[data-id=\"{first}\"] .state').textContent === 'paused'"
        ),
    );
    chrome.key("p");
    wait_until(Duration::from_secs(10), "job resumed", || {
        job_state(web, first) != "paused"
    });
    chrome.key("x");
    assert_eq!(chrome.js("document.getElementById('confirm').open"), true);
    chrome.key("Escape");
    assert_eq!(chrome.js("document.getElementById('confirm').open"), false);
    assert_ne!(job_state(web, first), "cancelled", "Escape keeps the job");
    chrome.key("x");
    chrome.js("(document.querySelector('#confirm button[value=ok]').click(), 1)");
    wait_state(web, first, "cancelled");
}

#[test]
fn every_view_passes_axe_in_both_themes_and_is_screenshotted() {
    let provider = provider();
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia"],
        &format!("retry_base_ms = 50\n{WEB_ON}"),
    );
    let web = daemon.web();
    let reef = daemon.add(&["reef", "1"]);
    wait_state(&web, reef, "done");
    daemon.add(&["dunes", "2"]);

    let Some(axe) = axe_script() else { return };
    let Some(chrome) = Chromium::launch() else {
        return;
    };
    chrome.open(&login_url(&daemon));
    chrome.wait_for(
        Duration::from_secs(10),
        "the dashboard",
        "document.querySelector('.jobs')",
    );
    let views = [
        ("queue", "#/queue", ".job"),
        ("add", "#/add", "#source-boxes input"),
        ("job", &*format!("#/job/{reef}"), "td.title"),
        ("gallery", "#/gallery", ".card"),
        ("statistics", "#/stats", ".chart svg"),
        ("history", "#/history", "td.title"),
        ("settings", "#/settings", ".settings tbody tr"),
        ("export", "#/export", "a[href*='format=csv']"),
    ];
    let shots = screenshots();
    let mut problems = Vec::new();
    for (width, height, size) in [(1280, 800, "desktop"), (360, 740, "phone")] {
        chrome.viewport(width, height);
        for theme in ["light", "dark"] {
            // As a user switches: the toggle (its label follows), not the attribute.
            chrome.js(&format!(
                "(document.documentElement.dataset.theme === '{theme}' || \
                 document.getElementById('theme-toggle').click(), 1)"
            ));
            assert_eq!(chrome.js("document.documentElement.dataset.theme"), theme);
            for (name, hash, ready) in &views {
                chrome.js(&format!("(location.hash = '{hash}', 1)"));
                chrome.wait_for(
                    Duration::from_secs(10),
                    &format!("{name} ready"),
                    &format!("document.querySelector(\"{ready}\")"),
                );
                chrome.screenshot(&shots, &format!("{name}-{theme}-{size}"));
                if size == "desktop" {
                    for violation in chrome.axe(&axe) {
                        problems.push(format!("{name} ({theme}): {violation}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "axe-core:\n{}", problems.join("\n"));
    assert_eq!(Value::Bool(true), chrome.js("true"));
}
