//! Child processes: own process group, die with the bench, killed on Drop and on signals;
//! the environment they get, and their CPU and memory use from /proc.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use std::{fs, io};

use anyhow::{anyhow, bail, Context, Result};

use crate::util::lock;

static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());
pub(crate) static ROOT: OnceLock<PathBuf> = OnceLock::new();

pub(crate) fn kill_all_children() {
    for pid in lock(&CHILDREN).drain(..) {
        // SAFETY: kill(2) on a process group we created; at worst ESRCH.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

pub(crate) fn install_signal_cleanup() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("install signal handlers")?;
    std::thread::Builder::new()
        .name("bench-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                eprintln!("bench: caught signal {sig}; killing child processes and cleaning up");
                kill_all_children();
                if let Some(root) = ROOT.get() {
                    let _ = fs::remove_dir_all(root);
                }
                std::process::exit(128 + sig);
            }
        })
        .context("spawn signal thread")?;
    Ok(())
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cpu {
    user: f64,
    sys: f64,
}

impl Cpu {
    pub(crate) fn total(self) -> f64 {
        self.user + self.sys
    }
}

/// A child process (and its process group) that is killed when dropped.
pub(crate) struct Proc {
    child: std::process::Child,
    name: String,
    reaped: bool,
}

impl Proc {
    /// Must be called from the main thread (PR_SET_PDEATHSIG follows the spawning thread).
    pub(crate) fn spawn(cmd: &mut Command, name: &str) -> Result<Proc> {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", cmd.get_program()))?;
        lock(&CHILDREN).push(child.id() as i32);
        Ok(Proc {
            child,
            name: name.to_string(),
            reaped: false,
        })
    }

    pub(crate) fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, sig: i32) {
        if !self.reaped {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(self.pid(), sig) };
        }
    }

    pub(crate) fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.reaped {
            return None;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.reaped = true;
                self.unregister();
                Some(status)
            }
            _ => None,
        }
    }

    /// Waits with wait4(2) and returns the CPU time of the child and its waited-for descendants.
    pub(crate) fn wait_rusage(&mut self) -> Result<(ExitStatus, Cpu)> {
        use std::os::unix::process::ExitStatusExt;
        let mut status = 0;
        // SAFETY: zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: wait4 on our own child with valid out-pointers.
            let rc = unsafe { libc::wait4(self.pid(), &mut status, 0, &mut usage) };
            if rc == self.pid() {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                bail!("wait4 {}: {err}", self.name);
            }
        }
        self.reaped = true;
        self.unregister();
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok((
            ExitStatus::from_raw(status),
            Cpu {
                user: tv(usage.ru_utime),
                sys: tv(usage.ru_stime),
            },
        ))
    }

    /// Sends `sig`, waits up to `grace`, then SIGKILLs the group.
    pub(crate) fn stop(&mut self, sig: i32, grace: Duration) -> Option<ExitStatus> {
        if self.reaped {
            return None;
        }
        self.signal(sig);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.try_wait() {
                self.kill_group();
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill();
        None
    }

    fn kill_group(&self) {
        // SAFETY: the group we created for this child (its pid); leftovers die with it.
        unsafe { libc::kill(-self.pid(), libc::SIGKILL) };
    }

    pub(crate) fn kill(&mut self) {
        if self.reaped {
            return;
        }
        self.kill_group();
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reaped = true;
        self.unregister();
    }

    fn unregister(&self) {
        let pid = self.pid();
        lock(&CHILDREN).retain(|p| *p != pid);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Removes the bench's own environment influence from a child (config comes from files only).
pub(crate) fn clean_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("VFETCH_")
            || k.starts_with("VIDEO_")
            || matches!(
                k.as_ref(),
                "PEXELS_API_KEY"
                    | "PIXABAY_API_KEY"
                    | "RUST_LOG"
                    | "JOURNAL_STREAM"
                    | "NOTIFY_SOCKET"
                    | "LISTEN_FDS"
                    | "LISTEN_PID"
                    | "WATCHDOG_USEC"
                    | "http_proxy"
                    | "https_proxy"
                    | "HTTP_PROXY"
                    | "HTTPS_PROXY"
                    | "ALL_PROXY"
                    | "all_proxy"
            )
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_PROXY", "*")
}

/// CPU seconds (user, sys) a live process has used, from /proc/<pid>/stat.
pub(crate) fn proc_cpu(pid: i32) -> Result<Cpu> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = &stat[stat.rfind(')').ok_or_else(|| anyhow!("bad stat"))? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 14 (utime) and 15 (stime) of stat(5); `after` starts at field 3.
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow!("short stat"))?
            .parse::<f64>()?)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(Cpu {
        user: ticks(11)? / hz,
        sys: ticks(12)? / hz,
    })
}

/// (VmRSS, VmHWM) in bytes.
pub(crate) fn proc_mem(pid: i32) -> Result<(u64, u64)> {
    Ok((
        proc_status_kib(pid, "VmRSS:")?,
        proc_status_kib(pid, "VmHWM:")?,
    ))
}

/// One `kB` field of /proc/<pid>/status, in bytes.
pub(crate) fn proc_status_kib(pid: i32, name: &str) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow!("no {name} in /proc/{pid}/status"))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib * 1024)
    };
    field(name)
}
