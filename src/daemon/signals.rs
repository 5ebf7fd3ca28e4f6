//! Turns SIGTERM and SIGINT into the daemon's shutdown token.

use futures::StreamExt;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_tokio::{Handle, Signals};
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

/// Starts listening; the first SIGTERM or SIGINT cancels `shutdown`.
pub fn spawn(shutdown: CancellationToken) -> std::io::Result<SignalTask> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let handle = signals.handle();
    tokio::spawn(async move {
        while let Some(signal) = signals.next().await {
            tracing::info!(signal, "received stop signal");
            shutdown.cancel();
        }
    });
    Ok(SignalTask { handle })
}
