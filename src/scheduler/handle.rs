//! [`Scheduler`], the handle the scheduler's host keeps to start it, wake it, ask it about
//! running work and stop it. The host sees only these methods, never the running table or the
//! sources' plumbing, so a second front end (HTTP) or a second host (a cluster node) needs
//! nothing more.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::context::Context;
use super::running::LiveProgress;
use super::shared::Shared;
use crate::config::Config;
use crate::download::Download;
use crate::job::{Job, JobId};
use crate::source_kind::SourceKind;
use crate::sources::gate::Gate;
use crate::sources::http::HttpClient;
use crate::store::StoreError;
use crate::validate::{Validator, ValidatorStatus};
use crate::waiting::Waiting;

/// The host's handle on the scheduler: cheap to clone, safe to use from any task.
#[derive(Clone)]
pub struct Scheduler {
    shared: Arc<Shared>,
}

impl Scheduler {
    /// A scheduler over `ctx` that searches and downloads through `http` and checks files with
    /// `validator`; its gates and sources are built from the configuration in force. It does
    /// nothing until [`Scheduler::start`].
    pub fn new(ctx: Context, http: HttpClient, validator: Validator) -> Scheduler {
        Scheduler {
            shared: Arc::new(Shared::new(ctx, http, validator)),
        }
    }

    /// Runs the scheduling loop until the context's shutdown; the task ends once no new work
    /// will start (running downloads are waited for by [`Scheduler::drain`]).
    pub fn start(&self) -> JoinHandle<()> {
        tokio::spawn(super::run(Arc::clone(&self.shared)))
    }

    /// Asks the scheduler to look again: a job was added, resumed, re-prioritised, or the
    /// limits changed.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Stops a job's running downloads at their next clean offset (pause, cancel).
    pub fn stop_job(&self, job: JobId) {
        self.shared.running.stop_job(job);
    }

    /// Replaces stored bytes and speed with live ones for the downloads that are running, so
    /// `show` is current between checkpoints.
    pub fn live_progress(&self, downloads: &mut [Download]) {
        self.shared.running.live_progress(downloads);
    }

    /// Every running download's progress now (progress events, the systemd status line).
    pub fn progress(&self) -> Vec<LiveProgress> {
        self.shared.running.progress()
    }

    /// How many downloads run now.
    pub fn active(&self) -> usize {
        self.shared.running.len()
    }

    /// One source's gate, for its breaker and rate-limit state in `status` and metrics.
    pub fn gate(&self, source: SourceKind) -> Option<Arc<Gate>> {
        self.shared.gate(source)
    }

    /// For each of `jobs`, in order, the sources that hold it up while every source it still
    /// needs is held (an open breaker, a rate limit); empty for a job that moves.
    pub async fn waiting(&self, jobs: &[Job]) -> Result<Vec<Vec<Waiting>>, StoreError> {
        super::waiting::of(&self.shared, jobs).await
    }

    /// Whether and how finished files are checked (for `status`).
    pub fn validation(&self) -> ValidatorStatus {
        self.shared.validator.status()
    }

    /// Adapts the sources' plumbing to `new` (breakers, rate limits, egress policy, and the
    /// adapters when their settings changed). The host puts `new` in force afterwards and
    /// wakes the scheduler.
    pub fn reconfigure(&self, old: &Config, new: &Config) {
        self.shared.reconfigure(old, new);
    }

    /// Lets no new download start and waits up to `timeout` for the running ones (already told
    /// to stop by the shutdown signal) to reach a clean, stored offset. False if some did not.
    pub async fn drain(&self, timeout: Duration) -> bool {
        self.shared.workers.close();
        tokio::time::timeout(timeout, self.shared.workers.wait())
            .await
            .is_ok()
    }
}
