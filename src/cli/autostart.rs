//! Starting a user-mode daemon on first use, so one command works on a fresh machine.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Failure;
use crate::config::Config;
use crate::ipc::client::answers;

/// How long to wait for a freshly started daemon to answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Starts `vfetchd` detached, logging to the state directory, and waits until its socket answers.
pub async fn start_daemon(config: &Config, config_file: Option<&Path>) -> Result<(), Failure> {
    let binary = find_vfetchd()?;
    std::fs::create_dir_all(&config.state_dir).map_err(|e| {
        Failure::Autostart(format!(
            "cannot create state directory {}: {e}",
            config.state_dir.display()
        ))
    })?;
    let log_path = config.log_file();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| Failure::Autostart(format!("cannot open {}: {e}", log_path.display())))?;
    let log_err = log
        .try_clone()
        .map_err(|e| Failure::Autostart(format!("cannot open {}: {e}", log_path.display())))?;

    let mut command = Command::new(&binary);
    // The daemon must agree with us on the socket, whatever the environment says.
    command.arg("--socket").arg(&config.socket);
    if let Some(file) = config_file {
        command.arg("--config").arg(file);
    }
    // Its own process group: a Ctrl-C in the terminal that ran vfetchctl must not stop it.
    use std::os::unix::process::CommandExt;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| Failure::Autostart(format!("cannot start {}: {e}", binary.display())))?;
    eprintln!(
        "vfetchctl: started vfetchd (pid {}), logging to {}; stop it with `vfetchctl shutdown`",
        child.id(),
        log_path.display()
    );

    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if answers(&config.socket).await {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Failure::Autostart(format!(
                "vfetchd exited during start-up ({status}); see {}",
                log_path.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(Failure::Autostart(format!(
        "vfetchd did not answer on {} within {START_TIMEOUT:?}; see {}",
        config.socket.display(),
        log_path.display()
    )))
}

/// `vfetchd` beside this executable (as cargo builds and packages install them), else on PATH.
fn find_vfetchd() -> Result<PathBuf, Failure> {
    let mut looked = Vec::new();
    if let Some(dir) = env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        let candidate = dir.join("vfetchd");
        if candidate.is_file() {
            return Ok(candidate);
        }
        looked.push(dir.display().to_string());
    }
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            let candidate = dir.join("vfetchd");
            if candidate.is_file() {
                return Ok(candidate);
            }
            looked.push(dir.display().to_string());
        }
    }
    Err(Failure::Autostart(format!(
        "no daemon answers and vfetchd was not found to start one (looked in: {}); \
         build it with `cargo build --release --bins` or install it, or start it yourself",
        looked.join(", ")
    )))
}
