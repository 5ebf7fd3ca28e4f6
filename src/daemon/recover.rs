//! `vfetchd --recover`, and the exact command line a refusal to start on a damaged database
//! tells the administrator to run.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::error::DaemonError;
use super::lock;
use crate::config::{Config, Mode, Overrides};
use crate::permissions;
use crate::store::recover::{self, Recovery};
use crate::store::StoreError;

/// Saves what can be read of the configured database into a new one and puts it in place.
/// Takes the state directory's lock first, so a running daemon is never pulled from under.
pub fn run(config: &Config) -> Result<Recovery, DaemonError> {
    permissions::ensure_dir(&config.state_dir, config.mode.private_dir_mode()).map_err(
        |source| DaemonError::Directory {
            path: config.state_dir.clone(),
            source,
        },
    )?;
    let _lock = lock::StateLock::acquire(&config.state_dir)?;
    let database = config.database();
    let owner = std::fs::metadata(&database).ok();
    let recovery = recover::recover(&database, config.mode.private_file_mode())?;
    // Run as root for a service that runs as its own user, the new file must still belong to
    // that user, or the service could not write to it.
    let current = std::fs::metadata(&database).ok();
    if let (Some(owner), Some(current)) = (owner, current) {
        if (owner.uid(), owner.gid()) != (current.uid(), current.gid()) {
            std::os::unix::fs::chown(&database, Some(owner.uid()), Some(owner.gid())).map_err(
                |source| StoreError::File {
                    action: "give the damaged database's owner and group to",
                    path: database.clone(),
                    source,
                },
            )?;
        }
    }
    Ok(recovery)
}

/// The `vfetchd --recover` command line that finds the same database as this daemon.
pub fn command(mode: Mode, overrides: &Overrides) -> String {
    let mut words = vec!["vfetchd".to_string()];
    if mode == Mode::System {
        words.push("--system".to_string());
    }
    if let Some(file) = &overrides.config_file {
        words.push("--config".to_string());
        words.push(shell_quote(file));
    }
    if let Some(dir) = &overrides.state_dir {
        words.push("--state-dir".to_string());
        words.push(shell_quote(dir));
    }
    words.push("--recover".to_string());
    words.join(" ")
}

/// A path as one shell word.
fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_command_names_the_flags_that_find_the_database() {
        let overrides = Overrides {
            config_file: Some(PathBuf::from("/etc/my vfetch/it's.toml")),
            state_dir: Some(PathBuf::from("/srv/state")),
            ..Overrides::default()
        };
        assert_eq!(
            command(Mode::System, &overrides),
            r"vfetchd --system --config '/etc/my vfetch/it'\''s.toml' --state-dir /srv/state --recover"
        );
        assert_eq!(
            command(Mode::User, &Overrides::default()),
            "vfetchd --recover"
        );
    }
}
