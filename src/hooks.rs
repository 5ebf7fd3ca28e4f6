//! Completion hooks: a program run per finished download (JSON on stdin, facts in environment
//! variables, no shell), and a webhook POSTed the same JSON. Failures are logged, never fatal,
//! and everything has a timeout.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::retry::RetryPolicy;
use crate::text::for_log;

/// Where finished downloads are announced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hooks {
    /// Program and arguments; empty means none.
    pub on_complete: Vec<String>,
    pub webhook_url: Option<String>,
    pub timeout: Duration,
}

impl Hooks {
    /// Whether there is anything to run.
    pub fn is_empty(&self) -> bool {
        self.on_complete.is_empty() && self.webhook_url.is_none()
    }
}

/// Runs the program and the webhook for one finished download, concurrently.
pub async fn announce(hooks: Hooks, client: reqwest::Client, payload: Value) {
    let program = run_program(&hooks, &payload);
    let webhook = post_webhook(&hooks, &client, &payload);
    tokio::join!(program, webhook);
}

/// The only variables a hook program inherits from the daemon; the rest of its environment is
/// the documented `VFETCH_*` facts about the download.
const HOOK_INHERITS: [&str; 3] = ["PATH", "HOME", "LANG"];

async fn run_program(hooks: &Hooks, payload: &Value) {
    let Some((program, args)) = hooks.on_complete.split_first() else {
        return;
    };
    let text = |key: &str| {
        payload
            .get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    let mut command = tokio::process::Command::new(program);
    // A clean environment: the daemon's own holds API keys (PEXELS_API_KEY from keys.env,
    // VFETCH_SOURCES_*_API_KEY) that a hook has no business seeing.
    command.env_clear();
    for var in HOOK_INHERITS {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (var, key) in [
        ("VFETCH_DOWNLOAD_ID", "download"),
        ("VFETCH_JOB_ID", "job"),
        ("VFETCH_THEME", "theme"),
        ("VFETCH_SOURCE", "source"),
        ("VFETCH_SOURCE_ID", "source_id"),
        ("VFETCH_PATH", "path"),
        ("VFETCH_SHA256", "sha256"),
        ("VFETCH_BYTES", "bytes"),
    ] {
        command.env(var, text(key));
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(program = %program, error = %e, "on_complete hook could not start");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let body = payload.to_string();
        // A hook that does not read its stdin must not hang us either.
        let _ = tokio::time::timeout(hooks.timeout, stdin.write_all(body.as_bytes())).await;
    }
    match tokio::time::timeout(hooks.timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => {
            tracing::debug!(program = %program, "on_complete hook ran")
        }
        Ok(Ok(status)) => tracing::warn!(program = %program, %status, "on_complete hook failed"),
        Ok(Err(e)) => tracing::warn!(program = %program, error = %e, "on_complete hook failed"),
        Err(_) => {
            let _ = child.kill().await;
            tracing::warn!(program = %program, timeout_secs = hooks.timeout.as_secs(), "on_complete hook timed out and was killed");
        }
    }
}

async fn post_webhook(hooks: &Hooks, client: &reqwest::Client, payload: &Value) {
    let Some(url) = &hooks.webhook_url else {
        return;
    };
    let policy = RetryPolicy {
        max_tries: 3,
        ..RetryPolicy::SEARCH
    };
    for tries in 1..=policy.max_tries {
        let sent = client
            .post(url)
            .json(payload)
            .timeout(hooks.timeout)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => tracing::warn!(
                status = response.status().as_u16(),
                tries,
                "webhook refused"
            ),
            Err(e) => {
                tracing::warn!(error = %for_log(&e.without_url().to_string()), tries, "webhook failed")
            }
        }
        if policy.may_retry(tries) {
            tokio::time::sleep(policy.delay(tries, None)).await;
        }
    }
}
