//! Validation of a complete download. A probe that cannot finish (ffprobe hangs, cannot start)
//! is retried with the download backoff, and after its tries is settled by the `validate`
//! policy, so a job never waits on a validation forever.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::shared::Shared;
use crate::protocol::{Event, Retry};
use crate::retry::RetryPolicy;
use crate::store::Work;
use crate::timestamp::Timestamp;
use crate::validate::{ValidateMode, Verdict};

/// How a validation ended.
pub(super) enum Checked {
    /// ffprobe's verdict, or the policy's once the tries ran out.
    Verdict(Verdict),
    /// Stopped by pause, cancel or shutdown; the file stays in staging for the next run.
    Stopped,
}

/// Probes `part`, retrying probes that do not finish; the tries are stored, so they add up over
/// restarts.
pub(super) async fn check(
    shared: &Arc<Shared>,
    work: &Work,
    part: &Path,
    cancel: &CancellationToken,
) -> Checked {
    let config = shared.config();
    let policy = RetryPolicy {
        max_tries: config.download_tries,
        base: config.retry_base,
        ..RetryPolicy::DOWNLOAD
    };
    let validator = shared
        .validator
        .clone()
        .with_timeout(config.ffprobe_timeout);
    let id = work.download;
    let mut tries = work.validation_tries;
    loop {
        // Dropping the probe (on cancel) kills ffprobe and its process group.
        let result = tokio::select! {
            _ = cancel.cancelled() => return Checked::Stopped,
            result = validator.validate(part) => result,
        };
        let error = match result {
            Ok(verdict) => return Checked::Verdict(verdict),
            Err(e) => e.to_string(),
        };
        tries = tries.saturating_add(1);
        if !policy.may_retry(tries) {
            tracing::warn!(download = %id, job = %work.job, tries, error = %error, "validation did not finish; settled by the validate policy");
            return Checked::Verdict(settle(validator.mode(), tries, &error));
        }
        let wait = policy.delay(tries, None);
        let retry_at = Timestamp(Timestamp::now().0.saturating_add(millis(wait)));
        tracing::info!(download = %id, job = %work.job, tries, error = %error, "validation did not finish; retrying");
        let note = error.clone();
        if let Err(e) = shared
            .store
            .validation_unfinished(id, tries, note, retry_at)
            .await
        {
            tracing::warn!(download = %id, error = %e, "cannot store the validation retry");
        }
        shared.publish(Event::from(Retry {
            source: work.candidate.attribution.source,
            job: Some(work.job),
            download: Some(id),
            attempt: tries,
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            error: format!("validation: {error}"),
        }));
        tokio::select! {
            _ = cancel.cancelled() => return Checked::Stopped,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The verdict once no try is left: `require` rejects the file (the job takes the next
/// candidate); otherwise it is kept and marked not validated.
fn settle(mode: ValidateMode, tries: u32, error: &str) -> Verdict {
    let reason = format!("{error} ({tries} tries)");
    match mode {
        ValidateMode::Require => Verdict::Invalid(reason),
        ValidateMode::Auto | ValidateMode::Off => Verdict::NotValidated(reason),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_validations_settle_by_policy() {
        let hung = "ffprobe did not finish within 1s";
        assert_eq!(
            settle(ValidateMode::Require, 5, hung),
            Verdict::Invalid("ffprobe did not finish within 1s (5 tries)".into())
        );
        assert_eq!(
            settle(ValidateMode::Auto, 2, hung),
            Verdict::NotValidated("ffprobe did not finish within 1s (2 tries)".into())
        );
    }
}
