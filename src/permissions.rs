//! File modes for what the daemon keeps private: the state directory, the database (which holds
//! API keys set with `vfetchctl config set`) and its backups.
//!
//! Modes are set per file at creation instead of through a process-wide umask, which would also
//! change the modes of library files meant to be shared. Existing files are only ever
//! tightened: a bit the wanted mode lacks is removed, a bit it has is never added.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The permission bits (rwx for owner, group, others) a mode is judged on.
const PERMISSION_BITS: u32 = 0o777;

/// Creates `path` (and missing parents) with `mode` for the last component, or tightens the
/// mode of an existing directory to at most `mode`.
pub fn ensure_dir(path: &Path, mode: u32) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match DirBuilder::new().mode(mode).create(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {
            tighten(path, mode).map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// Creates a new, empty file with `mode`; fails if `path` exists.
pub fn create_new_file(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// Removes from `path`'s mode every permission bit `mode` lacks; returns whether it changed
/// anything. A path that does not exist is left alone.
pub fn tighten(path: &Path, mode: u32) -> io::Result<bool> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    // A symlink's own mode means nothing, and following it could chmod something else.
    if metadata.file_type().is_symlink() {
        return Ok(false);
    }
    let current = metadata.permissions().mode() & 0o7777;
    let wanted = tightened(current, mode);
    if wanted == current {
        return Ok(false);
    }
    std::fs::set_permissions(path, Permissions::from_mode(wanted))?;
    tracing::info!(
        path = %path.display(),
        from = format_args!("{current:04o}"),
        to = format_args!("{wanted:04o}"),
        "tightened permissions"
    );
    Ok(true)
}

/// `current` without the permission bits `limit` lacks (set-gid and sticky bits are kept).
fn tightened(current: u32, limit: u32) -> u32 {
    current & !(PERMISSION_BITS & !limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tightening_only_removes_bits() {
        assert_eq!(tightened(0o755, 0o700), 0o700);
        assert_eq!(tightened(0o644, 0o640), 0o640);
        assert_eq!(tightened(0o600, 0o640), 0o600);
        assert_eq!(tightened(0o2775, 0o750), 0o2750);
    }

    #[test]
    fn existing_directories_and_files_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a").join("state");
        ensure_dir(&state, 0o700).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        std::fs::set_permissions(&state, Permissions::from_mode(0o755)).unwrap();
        ensure_dir(&state, 0o700).unwrap();
        assert_eq!(mode(&state), 0o700);

        let file = state.join("f");
        drop(create_new_file(&file, 0o600).unwrap());
        assert!(create_new_file(&file, 0o600).is_err());
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        assert!(tighten(&file, 0o600).unwrap());
        assert!(!tighten(&file, 0o600).unwrap());
        assert_eq!(mode(&file), 0o600);
        assert!(!tighten(&state.join("missing"), 0o600).unwrap());
    }
}
