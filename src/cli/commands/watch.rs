//! `watch`: follow live progress of one job or of everything. `add --wait` follows too.

use super::{Context, Session};
use crate::cli::watch::{View, Watch};
use crate::cli::{Exit, Failure};
use crate::ipc::client::Client;
use crate::job::{Job, JobId, JobState};
use crate::protocol::{Event, JobDetail, Request, StatusView, Subscribed};

/// Job states in which something is happening or about to happen.
const ACTIVE: [JobState; 3] = [JobState::Queued, JobState::Searching, JobState::Downloading];

/// Shows events until the job ends, the daemon goes away or the user stops it. Following one
/// job exits as `add --wait` does: 0 when it is done, 1 when it failed or was cancelled.
pub async fn run(ctx: &Context<'_>, job: Option<JobId>) -> Result<Exit, Failure> {
    let mut session = ctx.connect().await?;
    let view = View::for_stdout(ctx.json, View::Plain);
    Ok(match follow(&mut session, job, view).await? {
        Some(ended) if ended.state != JobState::Done => Exit::Failed,
        _ => Exit::Ok,
    })
}

/// Shows events until the watched job ends (returning it) or, for everything, until the daemon
/// goes away or the user stops it.
pub(super) async fn follow(
    session: &mut Session,
    job: Option<JobId>,
    view: View,
) -> Result<Option<Job>, Failure> {
    // Subscribe on a second connection first, then read the current state, so no change is
    // missed between the two.
    let mut events = Client::connect(&session.socket).await?;
    let Subscribed = events.call(&Request::Subscribe { job }).await?;
    let mut watch = Watch::new(view, job);
    watch.hello(&events.daemon_version);
    if let Some(id) = job {
        let detail: JobDetail = session.call(Request::Show(id)).await?;
        if detail.job.state.is_terminal() {
            // A job that already ended still gets its final line, then the watch is over.
            watch.show_ended(&detail.job);
            watch.finish();
            return Ok(Some(detail.job));
        }
        watch.show(&Event::Job(detail.job));
    } else {
        let status: StatusView = session.call(Request::Status).await?;
        let active: u64 = ACTIVE
            .iter()
            .filter_map(|state| status.jobs.get(state.as_str()))
            .sum();
        if active == 0 && status.active_downloads == 0 {
            // On stderr: a person sees it instead of a blank screen; JSON readers do not.
            eprintln!("no active jobs; waiting for work (Ctrl-C to leave)");
        }
    }
    loop {
        let next = tokio::select! {
            next = events.next_event() => next?,
            _ = tokio::signal::ctrl_c() => {
                watch.finish();
                return Ok(None);
            }
        };
        match next {
            Some(event) => {
                if let Some(ended) = watch.show(&event) {
                    watch.finish();
                    return Ok(Some(ended));
                }
            }
            None => {
                watch.finish();
                return match job {
                    Some(id) => Err(Failure::Other(format!(
                        "vfetchd went away while waiting for job {id}; it will continue when the daemon restarts"
                    ))),
                    None => Ok(None),
                };
            }
        }
    }
}
