//! config get / set / unset: runtime settings, validated, persisted and applied live.

use std::sync::Arc;

use crate::config::{Config, ConfigError};
use crate::daemon::reload::{self, SetError};
use crate::daemon::Shared;
use crate::protocol::{ConfigChange, ErrorKind, Response, RpcError, Setting};

/// One key, or every key, with its value in force.
pub async fn get(shared: &Arc<Shared>, key: Option<String>) -> Result<Response, RpcError> {
    let runtime: Vec<String> = shared
        .store
        .settings()
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let config = shared.config();
    let keys = match key {
        Some(key) => {
            Config::check_key(&key, "config get").map_err(bad)?;
            vec![key]
        }
        None => Config::keys(),
    };
    let mut out = Vec::new();
    for key in keys {
        let value = config.get(&key).map_err(bad)?;
        out.push(Setting {
            runtime: runtime.contains(&key),
            key,
            value,
        });
    }
    Ok(Response::Config(out))
}

/// Sets (or with `None`, unsets) one key and answers with its new value.
pub async fn set(
    shared: &Arc<Shared>,
    key: String,
    value: Option<String>,
) -> Result<Response, RpcError> {
    // Checked here, not in `set_key`, so the error names the command the user typed.
    let command = if value.is_some() {
        "config set"
    } else {
        "config unset"
    };
    Config::check_key(&key, command).map_err(bad)?;
    reload::set_key(shared, &key, value.as_deref())
        .await
        .map_err(|e| match e {
            SetError::Store(e) => RpcError::from(e),
            SetError::Config(e) => bad(e),
            other => RpcError::new(ErrorKind::BadRequest, other.to_string()),
        })?;
    tracing::info!(key = %key, "runtime setting changed");
    get(shared, Some(key)).await
}

/// Several keys at once: every key and value is checked (together, on a copy of the config in
/// force) before the first is applied, so a typo in one changes nothing.
pub async fn patch(shared: &Arc<Shared>, changes: Vec<ConfigChange>) -> Result<Response, RpcError> {
    if changes.is_empty() {
        return Err(RpcError::new(
            ErrorKind::BadRequest,
            "no settings to change",
        ));
    }
    let mut candidate = (*shared.config()).clone();
    for ConfigChange { key, value } in &changes {
        Config::check_key(key, "config set").map_err(bad)?;
        if reload::RESTART_KEYS.contains(&key.as_str()) {
            return Err(RpcError::new(
                ErrorKind::BadRequest,
                SetError::NeedsRestart(key.clone()).to_string(),
            ));
        }
        if let Some(value) = value {
            candidate.set(key, value, "config set").map_err(bad)?;
        }
    }
    let mut out = Vec::new();
    for ConfigChange { key, value } in changes {
        let Response::Config(settings) = set(shared, key, value).await? else {
            continue;
        };
        out.extend(settings);
    }
    Ok(Response::Config(out))
}

fn bad(error: ConfigError) -> RpcError {
    RpcError::new(ErrorKind::BadRequest, error.to_string())
}
