//! Running the media tools (ffprobe for validation, ffmpeg for thumbnails) safely: each in its
//! own process group that is killed whole on timeout or when abandoned, with bounded reads of
//! what it prints, so a hung or chatty tool stalls neither the runtime nor memory.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// A running child's process group, killed when dropped unless disarmed (set to `None`).
pub(crate) struct ProcessGroup(pub(crate) Option<u32>);

impl ProcessGroup {
    /// SIGKILL to every process in the group, once.
    pub(crate) fn kill(&mut self) {
        if let Some(pid) = self.0.take().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals that process group; the group's leader
            // is our unreaped child, so the id still names the group we created.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads up to `cap` bytes, then drains the rest so the child never blocks on a full pipe.
pub(crate) async fn read_capped<R: AsyncRead + Unpin>(
    r: Option<R>,
    cap: u64,
) -> io::Result<(Vec<u8>, bool)> {
    let (mut buf, Some(r)) = (Vec::new(), r) else {
        return Ok((Vec::new(), false));
    };
    let mut limited = r.take(cap);
    limited.read_to_end(&mut buf).await?;
    let extra = tokio::io::copy(&mut limited.into_inner(), &mut tokio::io::sink()).await?;
    Ok((buf, extra > 0))
}

/// The first stderr line, minus the file name and "[mov,mp4 @ 0x…] " prefixes ffmpeg's tools
/// add.
pub(crate) fn first_error_line(stderr: &[u8], file: &str) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let mut line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    line = line.strip_prefix(&format!("{file}: ")).unwrap_or(line);
    // The context prefix holds a heap address, which would make equal failures look different.
    if let Some((context, message)) = line.split_once("] ") {
        if context.starts_with('[') && context.contains(" @ 0x") {
            line = message;
        }
    }
    Some(line.chars().take(200).collect())
}

/// How a [`run_quiet`] ended when it did not exit by itself.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The program could not be started (`NotFound` when it is missing).
    Spawn(io::Error),
    /// It did not finish in time and was killed with its group.
    Timeout(Duration),
}

/// Runs `command` (stdin closed, stdout discarded) in its own process group, killed with the
/// group after `timeout`; returns its exit status and the start of its stderr.
pub(crate) async fn run_quiet(
    mut command: tokio::process::Command,
    timeout: Duration,
) -> Result<(ExitStatus, Vec<u8>), RunError> {
    const STDERR_CAP: u64 = 64 << 10;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(RunError::Spawn)?;
    let stderr = child.stderr.take();
    // Declared after `child`, so it is dropped first (see validate.rs): an abandoned run takes
    // its whole group down while the leader's id still names it.
    let mut group = ProcessGroup(child.id());
    let run = async {
        let (err, _) = read_capped(stderr, STDERR_CAP).await?;
        Ok::<_, io::Error>((child.wait().await?, err))
    };
    let Ok(finished) = tokio::time::timeout(timeout, run).await else {
        group.kill();
        let _ = child.start_kill();
        return Err(RunError::Timeout(timeout));
    };
    // Reaped: the id may be reused from now on, so never signal it again.
    group.0 = None;
    finished.map_err(RunError::Spawn)
}
