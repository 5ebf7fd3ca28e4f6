//! The daemon: wires config, store, socket, signals and handlers together and owns their life.

pub mod args;
mod backup;
mod connections;
mod error;
mod handlers;
mod http;
mod limits;
mod lock;
pub mod logging;
mod notify;
mod progress;
pub mod recover;
pub(crate) mod reload;
mod server;
mod shared;
mod signals;

pub use error::{DaemonError, EXIT_DAMAGED_DATABASE};
pub use shared::Shared;

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{self, Config, Mode, Overrides};
use crate::egress::EgressPolicy;
use crate::events::EventBus;
use crate::ipc::server::bind;
use crate::permissions;
use crate::scheduler::{self, Scheduler};
use crate::sources::http::{build_client, ClientSettings};
use crate::store::{Store, StoreError};
use crate::thumbnail::Thumbnailer;
use crate::validate::Validator;

/// How many events a subscriber may fall behind before it is told it lagged.
const EVENT_BACKLOG: usize = 1024;
/// How long shutdown waits for connections to finish their current request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs the daemon until SIGTERM, SIGINT or a `shutdown` request.
/// `overrides` are the command-line flags, kept so a reload re-applies them over the file.
pub async fn run(config: Config, overrides: Overrides) -> Result<(), DaemonError> {
    limits::raise_open_files();
    // Handlers go in first: a SIGTERM that arrives once the socket answers must stop us cleanly.
    let shutdown = CancellationToken::new();
    let reload = Arc::new(Notify::new());
    let signals =
        signals::spawn(shutdown.clone(), Arc::clone(&reload)).map_err(DaemonError::Signals)?;
    // The state directory holds the database, whose runtime settings include API keys: only
    // the owner (and in system mode the service group) may enter it.
    let private = config.mode.private_dir_mode();
    for dir in [&config.state_dir, &config.staging_dir()] {
        permissions::ensure_dir(dir, private).map_err(|source| DaemonError::Directory {
            path: dir.clone(),
            source,
        })?;
    }
    create_dir(&config.library_dir)?;
    let _lock = lock::StateLock::acquire(&config.state_dir)?;
    let store = match Store::open_with_mode(&config.database(), config.mode.private_file_mode()) {
        Ok(store) => store,
        Err(StoreError::Damaged(damage)) => {
            return Err(DaemonError::Damaged {
                damage,
                recover_command: recover::command(config.mode, &overrides),
            })
        }
        Err(e) => return Err(e.into()),
    };
    // Settings made with `vfetchctl config set` outlive restarts: they sit over the file.
    let config = reload::with_runtime_settings(&store, config).await?;
    let requeued = store.requeue_interrupted().await?;
    if requeued > 0 {
        tracing::info!(
            jobs = requeued,
            "requeued work interrupted by the last stop"
        );
    }
    let socket_mode = match config.mode {
        Mode::User => 0o600,
        Mode::System => 0o660,
    };
    let inherited = inherited_sockets();
    let listener = match inherited.unix.and_then(unix_listener) {
        Some(listener) => {
            tracing::info!("using the socket passed by systemd (socket activation)");
            listener
        }
        None => bind(&config.socket, socket_mode).await?,
    };
    let web_access = http::access::WebAccess::default();
    let web_listener = http::bind(&config, inherited.http, &web_access).await?;
    tracing::info!(
        socket = %config.socket.display(),
        database = %store.path().display(),
        version = env!("CARGO_PKG_VERSION"),
        "vfetchd ready"
    );

    let client = build_client(
        ClientSettings {
            read_timeout: config.stall_timeout,
            connect_timeout: config.connect_timeout,
            ..ClientSettings::default()
        },
        EgressPolicy::from_config(&config),
    )
    .map_err(DaemonError::Http)?;
    let events = EventBus::new(EVENT_BACKLOG);
    let validator = Validator::new(config.validate, config.ffprobe.clone());
    match validator.check() {
        Ok(true) => {}
        Ok(false) => tracing::warn!("{}", validator.describe()),
        Err(e) => return Err(DaemonError::Validate(e)),
    }
    let config = config::Live::new(config);
    let thumbnailer = Thumbnailer::new(store.clone());
    let scheduler = Scheduler::new(
        scheduler::Context {
            config: config.clone(),
            store: store.clone(),
            events: events.clone(),
            shutdown: shutdown.clone(),
            thumbnailer: thumbnailer.clone(),
        },
        client,
        validator,
    );
    let shared = Arc::new(Shared {
        config,
        overrides,
        store,
        events,
        started: Instant::now(),
        shutdown,
        scheduler,
        web: web_access,
        thumbnailer,
    });
    let scheduler = shared.scheduler.start();
    let reloader = tokio::spawn(reload::on_signal(Arc::clone(&shared), reload));
    let notifier = notify::start(Arc::clone(&shared));
    let ticker = progress::start(Arc::clone(&shared));
    let backups = backup::start(Arc::clone(&shared));

    let web = web_listener.map(|l| tokio::spawn(http::serve(l, Arc::clone(&shared))));
    let tracker = TaskTracker::new();
    server::serve(listener, Arc::clone(&shared), &tracker).await;

    tracing::info!("shutting down");
    notify::stopping();
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}; closing them");
    }
    let _ = scheduler.await;
    if let Some(web) = web {
        // Bounded inside: requests in flight get a moment, long streams are cut.
        let _ = web.await;
    }
    // Returns at once unless a backup is being written; that one is finished, not torn.
    let _ = backups.await;
    reloader.abort();
    notifier.abort();
    ticker.abort();
    // Downloads see the same cancellation and stop at a clean, stored offset.
    if !shared.scheduler.drain(DRAIN_TIMEOUT).await {
        tracing::warn!("some downloads did not stop within {DRAIN_TIMEOUT:?}");
    }
    signals.close();
    tracing::info!("stopped");
    Ok(())
}

fn create_dir(path: &PathBuf) -> Result<(), DaemonError> {
    std::fs::create_dir_all(path).map_err(|source| DaemonError::Directory {
        path: path.clone(),
        source,
    })
}

/// The listening sockets systemd passed (socket activation).
#[derive(Default)]
struct Inherited {
    /// The Unix socket for vfetchctl.
    unix: Option<OwnedFd>,
    /// The HTTP API's TCP socket.
    http: Option<OwnedFd>,
}

/// Sorts the sockets systemd passed: one named `http` (`FileDescriptorName=http`) or any TCP
/// socket is the HTTP API's; the first other one (an unnamed single socket included) is the
/// Unix socket. Sorting by family too lets one `.socket` unit carry both, since systemd gives
/// every socket of a unit the same name.
fn inherited_sockets() -> Inherited {
    let mut found = Inherited::default();
    let Ok(fds) = sd_notify::listen_fds_with_names() else {
        return found;
    };
    for (fd, name) in fds {
        // SAFETY: systemd hands this process ownership of the fds from 3 on (LISTEN_PID matched
        // our pid), each is taken here once, and nothing else in the process takes them.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let slot = if name == "http" || is_tcp(&owned) {
            &mut found.http
        } else {
            &mut found.unix
        };
        if slot.is_none() {
            *slot = Some(owned);
        }
    }
    found
}

/// Whether `fd` is an IPv4 or IPv6 socket.
fn is_tcp(fd: &OwnedFd) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: getsockname writes at most `len` bytes into storage we own, on a valid fd.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let got = libc::getsockname(
            fd.as_raw_fd(),
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        );
        got == 0 && matches!(i32::from(storage.ss_family), libc::AF_INET | libc::AF_INET6)
    }
}

/// The Unix listener systemd passed, if it is one we can use.
fn unix_listener(owned: OwnedFd) -> Option<interprocess::local_socket::tokio::Listener> {
    match interprocess::os::unix::uds_local_socket::tokio::Listener::try_from(owned) {
        Ok(listener) => Some(listener.into()),
        Err(e) => {
            tracing::error!(error = %e, "cannot use the socket passed by systemd; binding our own");
            None
        }
    }
}
