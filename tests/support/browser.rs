//! Debian's Chromium, headless, driven over the DevTools protocol (headless_chrome) for the
//! dashboard's tests: launch with a private profile, evaluate JavaScript and read the answer as
//! JSON, switch viewport size, save screenshots, run axe-core; on drop, make sure no Chromium
//! process of this test is left.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

/// Where Debian installs Chromium (`.ci/run` installs it).
const CHROMIUM: &str = "/usr/bin/chromium";

/// The axe-core script `.ci/run` installs from the npm registry, for these tests only.
pub fn axe_script() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-tools/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => missing(&format!(
            "axe-core ({}: {e}; `npm install --prefix target/test-tools/axe axe-core@4`)",
            path.display()
        )),
    }
}

/// Under CI a missing tool fails the test; elsewhere the test is skipped with the reason.
fn missing<T>(what: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is needed for the browser tests (CI is set; .ci/run installs it)");
    }
    eprintln!("NOTICE: browser test skipped: {what} is missing");
    None
}

/// A headless Chromium with one tab, and its own profile directory.
pub struct Chromium {
    pub tab: Arc<Tab>,
    browser: Option<Browser>,
    profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts Chromium at a desktop size, or `None` (test skipped) when it is not installed
    /// outside CI.
    pub fn launch() -> Option<Chromium> {
        if !Path::new(CHROMIUM).exists() {
            return missing(&format!("chromium ({CHROMIUM})"));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let options = LaunchOptions::default_builder()
            .path(Some(PathBuf::from(CHROMIUM)))
            .headless(true)
            // Tests run as root in CI, where Chromium's sandbox cannot start.
            .sandbox(false)
            .window_size(Some((1280, 800)))
            .user_data_dir(Some(profile.path().to_path_buf()))
            .idle_browser_timeout(Duration::from_secs(300))
            .build()
            .expect("launch options");
        let browser = Browser::new(options).expect("start chromium");
        let tab = browser.new_tab().expect("a tab");
        tab.set_default_timeout(Duration::from_secs(20));
        Some(Chromium {
            tab,
            browser: Some(browser),
            profile,
        })
    }

    /// Loads `url` and waits for the page's load event.
    pub fn open(&self, url: &str) {
        self.tab
            .navigate_to(url)
            .and_then(|t| t.wait_until_navigated())
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Evaluates `expr` (awaited if it is a promise) and returns its value as JSON.
    pub fn js(&self, expr: &str) -> Value {
        let wrapped = format!("(async () => JSON.stringify(await ({expr})))()");
        let result = self
            .tab
            .evaluate(&wrapped, true)
            .unwrap_or_else(|e| panic!("evaluate {expr}: {e}"));
        match result.value {
            Some(Value::String(text)) => serde_json::from_str(&text).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Waits until `expr` is truthy in the page.
    pub fn wait_for(&self, limit: Duration, what: &str, expr: &str) {
        let start = Instant::now();
        loop {
            let value = self.js(expr);
            if !(value.is_null() || value == false || value == 0 || value == "") {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "timed out after {limit:?} waiting for {what} ({expr})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses one key as a user would (keydown, char, keyup) on the focused element.
    pub fn key(&self, key: &str) {
        self.tab
            .press_key(key)
            .unwrap_or_else(|e| panic!("press {key}: {e}"));
    }

    /// Sets the viewport to `width`×`height` CSS pixels (phone sizes as a mobile device).
    pub fn viewport(&self, width: u32, height: u32) {
        self.tab
            .call_method(Emulation::SetDeviceMetricsOverride {
                width,
                height,
                device_scale_factor: 1.0,
                mobile: width < 600,
                scale: None,
                screen_width: None,
                screen_height: None,
                position_x: None,
                position_y: None,
                dont_set_visible_size: None,
                screen_orientation: None,
                viewport: None,
                display_feature: None,
                device_posture: None,
            })
            .expect("set viewport");
    }

    /// Saves a PNG of the viewport as `<dir>/<name>.png`.
    pub fn screenshot(&self, dir: &Path, name: &str) {
        let png = self
            .tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .expect("screenshot");
        std::fs::create_dir_all(dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Runs axe-core on the page; returns its serious and critical violations as readable lines.
    pub fn axe(&self, script: &str) -> Vec<String> {
        if self.js("typeof axe") != "object" {
            self.tab.evaluate(script, false).expect("inject axe-core");
        }
        let found = self.js(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations \
             .filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`))",
        );
        let Some(found) = found.as_array() else {
            panic!("axe-core did not run: {found}");
        };
        found
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // headless_chrome kills the main process; its helpers (renderer, GPU, zygote) normally
        // follow. Any that did not are found by this test's private profile and ended by pid.
        drop(self.browser.take());
        let marker = self.profile.path().to_string_lossy().into_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = processes_mentioning(&marker);
            if left.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                for pid in &left {
                    let _ = std::process::Command::new("kill")
                        .args(["-9", &pid.to_string()])
                        .status();
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Pids whose command line contains `marker`.
pub fn processes_mentioning(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmdline).contains(marker) {
                pids.push(pid);
            }
        }
    }
    pids
}

impl Chromium {
    /// From now on, the status of every response whose URL contains `url_part` (as the
    /// browser's network layer saw it: media requests included).
    pub fn record_statuses(&self, url_part: &str) -> Arc<Mutex<Vec<u32>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let part = url_part.to_string();
        self.tab
            .register_response_handling(
                format!("statuses {part}"),
                Box::new(move |event, _body| {
                    if event.response.url.contains(&part) {
                        sink.lock().unwrap().push(event.response.status);
                    }
                }),
            )
            .expect("network events");
        seen
    }

    /// This browser's profile directory: every Chromium process of this test names it.
    pub fn profile(&self) -> PathBuf {
        self.profile.path().to_path_buf()
    }
}
