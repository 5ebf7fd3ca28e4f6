//! Turns SIGTERM and SIGINT into the daemon's shutdown token, and SIGHUP into a reload.

use std::sync::Arc;

use futures::StreamExt;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_tokio::{Handle, Signals};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Stops signal delivery when the daemon is done with it.
pub struct SignalTask {
    handle: Handle,
}

impl SignalTask {
    /// Unregisters the handlers.
    pub fn close(self) {
        self.handle.close();
    }
}

/// Starts listening: SIGTERM or SIGINT cancel `shutdown`; SIGHUP wakes `reload`.
pub fn spawn(shutdown: CancellationToken, reload: Arc<Notify>) -> std::io::Result<SignalTask> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    let handle = signals.handle();
    tokio::spawn(async move {
        while let Some(signal) = signals.next().await {
            if signal == SIGHUP {
                tracing::info!("received SIGHUP: reloading the config file");
                reload.notify_one();
            } else {
                tracing::info!(signal, "received stop signal");
                shutdown.cancel();
            }
        }
    });
    Ok(SignalTask { handle })
}
