-- Why a download waits, as a code the daemon matches on (download::FailureKind); `error` keeps
-- the human-readable reason. Replaces matching on the wording of `error`.
ALTER TABLE downloads ADD COLUMN failure_kind TEXT;
-- ffprobe runs that did not finish for this download (kept across restarts, so a validation
-- that always hangs is settled after its tries), and when the next one is due, for `status`.
ALTER TABLE downloads ADD COLUMN validation_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE downloads ADD COLUMN retry_at INTEGER;
