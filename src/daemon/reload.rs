//! Changing the configuration of a running daemon: SIGHUP re-reads the file; `config set` and
//! `config unset` change one key. Either way the new config replaces the old one whole, and a
//! bad one is refused while the old one stays in force.

use std::sync::Arc;

use tokio::sync::Notify;

use super::{notify, Shared};
use crate::config::{Config, ConfigError};
use crate::store::{Store, StoreError};
use crate::text::for_log;

/// Keys that name where the daemon lives or listens; changing them needs a restart.
pub const RESTART_KEYS: [&str; 5] = [
    "socket",
    "state_dir",
    "database",
    "web_listen",
    "web_allow_remote",
];

/// Where runtime settings come from, in error messages.
const RUNTIME_ORIGIN: &str = "runtime setting (vfetchctl config set)";

/// Applies the settings stored with `config set` over `config`; one that no longer parses is
/// logged and skipped rather than keeping the daemon from starting.
pub async fn with_runtime_settings(
    store: &Store,
    mut config: Config,
) -> Result<Config, StoreError> {
    for (key, value) in store.settings().await? {
        if let Err(e) = config.set(&key, &value, RUNTIME_ORIGIN) {
            tracing::warn!(error = %for_log(&e.to_string()), "ignoring a stored runtime setting");
        }
    }
    Ok(config)
}

/// Puts `new` in force (keeping the keys that need a restart) and rebuilds what depends on it.
pub fn apply(shared: &Shared, mut new: Config) {
    let old = shared.config();
    for key in RESTART_KEYS {
        if old.get(key).ok() != new.get(key).ok() {
            tracing::warn!(key, "changing {key} takes effect after a restart");
        }
    }
    new.socket = old.socket.clone();
    new.state_dir = old.state_dir.clone();
    new.web_listen = old.web_listen;
    new.web_allow_remote = old.web_allow_remote;
    if let Ok(database) = old.get("database") {
        let _ = new.set("database", &database, "running daemon");
    }
    shared.scheduler.reconfigure(&old, &new);
    shared.config.replace(new);
    // More slots or other limits may let more work start now.
    shared.scheduler.wake();
}

/// Re-reads the file, environment and flags, then the runtime settings; keeps the old config if
/// anything is wrong.
pub async fn from_file(shared: &Shared) -> Result<(), ReloadError> {
    notify::reloading();
    let env = |name: &str| std::env::var(name).ok();
    let mode = shared.config().mode;
    let result = match Config::load(mode, &shared.overrides, &env) {
        Ok(config) => with_runtime_settings(&shared.store, config)
            .await
            .map_err(ReloadError::from),
        Err(e) => Err(ReloadError::from(e)),
    };
    let outcome = match result {
        Ok(config) => {
            apply(shared, config);
            tracing::info!("configuration reloaded");
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %for_log(&e.to_string()), "config reload failed; keeping the previous configuration");
            Err(e)
        }
    };
    notify::ready();
    outcome
}

/// Reloads each time SIGHUP arrives.
pub async fn on_signal(shared: Arc<Shared>, reload: Arc<Notify>) {
    loop {
        reload.notified().await;
        let _ = from_file(&shared).await;
    }
}

/// Validates and applies one runtime change (`value: None` unsets it), persisting it first.
pub async fn set_key(shared: &Shared, key: &str, value: Option<&str>) -> Result<(), SetError> {
    if RESTART_KEYS.contains(&key) {
        return Err(SetError::NeedsRestart(key.to_string()));
    }
    let current = shared.config();
    current.get(key).map_err(SetError::Config)?;
    let (key_owned, value_owned) = (key.to_string(), value.map(str::to_string));
    match value {
        Some(value) => {
            // Try it on a copy first: a bad value changes nothing, in memory or on disk.
            let mut candidate = (*current).clone();
            candidate
                .set(key, value, RUNTIME_ORIGIN)
                .map_err(SetError::Config)?;
            shared
                .store
                .set_setting(key_owned, value_owned.unwrap_or_default())
                .await
                .map_err(SetError::Store)?;
            apply(shared, candidate);
        }
        None => {
            shared
                .store
                .unset_setting(key_owned)
                .await
                .map_err(SetError::Store)?;
            // The key falls back to file, environment and flags: rebuild from those.
            from_file(shared).await.map_err(SetError::Reload)?;
        }
    }
    Ok(())
}

/// Why a runtime change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("{0} cannot change while the daemon runs; edit the config file and restart")]
    NeedsRestart(String),
    #[error(transparent)]
    Config(ConfigError),
    #[error(transparent)]
    Store(StoreError),
    #[error("reload failed: {0}")]
    Reload(ReloadError),
}

/// Why re-reading the configuration failed; the previous configuration stays in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
