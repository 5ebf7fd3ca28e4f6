-- The scheduler's pick skips sources at their limit; with source in the index, each remaining
-- source's next download is one index lookup instead of a walk over every queued row.
CREATE INDEX downloads_pick_by_source ON downloads (state, source, priority DESC, job_created_at, id);
