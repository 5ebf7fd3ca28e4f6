-- Jobs: what users asked for. Ordered for the queue by priority, then age, then id.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    theme       TEXT    NOT NULL,
    count       INTEGER NOT NULL CHECK (count > 0),
    priority    INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL,
    options     TEXT    NOT NULL,              -- JSON of job::JobOptions
    errors      TEXT    NOT NULL DEFAULT '[]', -- JSON array of one-line reasons
    created_at  INTEGER NOT NULL,              -- ms since epoch
    updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_by_queue_order ON jobs (priority DESC, created_at, id);
CREATE INDEX jobs_by_state ON jobs (state, priority DESC, created_at, id);

-- Candidates: videos a source returned for a job's theme, with attribution.
CREATE TABLE candidates (
    id           INTEGER PRIMARY KEY,
    job_id       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    source       TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    title        TEXT,
    page_url     TEXT,
    author_name  TEXT,
    author_url   TEXT,
    license      TEXT,
    tags         TEXT,
    duration     REAL,
    width        INTEGER,
    height       INTEGER,
    fps          REAL,
    size         INTEGER,
    url          TEXT    NOT NULL,
    mime         TEXT,
    checksum     TEXT,                         -- "sha1:<hex>" or "md5:<hex>" when the source gives one
    rank         INTEGER NOT NULL,             -- order the scheduler tries them in
    state        TEXT    NOT NULL,             -- new, taken, rejected
    created_at   INTEGER NOT NULL
);
-- The same video is never a candidate twice, across jobs.
CREATE UNIQUE INDEX candidates_by_source_id ON candidates (source, source_id);
CREATE UNIQUE INDEX candidates_by_url ON candidates (url);
CREATE INDEX candidates_by_job ON candidates (job_id, state, rank);

-- Downloads: candidates being fetched or fetched. Priority and job age are copied from the job
-- so the scheduler's pick is one index range scan.
CREATE TABLE downloads (
    id             INTEGER PRIMARY KEY,
    job_id         INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    candidate_id   INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    source         TEXT    NOT NULL,                -- copied from the candidate for per-source limits
    state          TEXT    NOT NULL,
    priority       INTEGER NOT NULL,
    job_created_at INTEGER NOT NULL,
    offset         INTEGER NOT NULL DEFAULT 0,   -- bytes durably in the .part file
    total          INTEGER,
    etag           TEXT,
    last_modified  TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    sha256         TEXT,
    path           TEXT,
    duplicate_of   INTEGER REFERENCES downloads (id) ON DELETE SET NULL,
    probe          TEXT,                         -- JSON of the ffprobe summary
    validation     TEXT,                         -- "valid", "not validated: …" or why it was invalid
    elapsed_ms     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    finished_at    INTEGER
);
CREATE INDEX downloads_pick ON downloads (state, priority DESC, job_created_at, id);
CREATE INDEX downloads_by_job ON downloads (job_id, state);
CREATE INDEX downloads_by_sha256 ON downloads (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX downloads_by_finished ON downloads (finished_at);

-- Per job and source: where lazy paging continues, and whether the source ran dry.
CREATE TABLE job_sources (
    job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    source    TEXT    NOT NULL,
    next_page INTEGER NOT NULL DEFAULT 1,
    exhausted INTEGER NOT NULL DEFAULT 0,
    error     TEXT,
    PRIMARY KEY (job_id, source)
);

-- Search history: one row per request sent to a source.
CREATE TABLE searches (
    id         INTEGER PRIMARY KEY,
    theme      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    page       INTEGER NOT NULL,
    results    INTEGER NOT NULL,
    error      TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX searches_by_theme ON searches (theme COLLATE NOCASE, created_at);
CREATE INDEX searches_by_time ON searches (created_at);

-- Runtime settings made with `vfetchctl config set`, applied over the config file.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Requests sent to each source, for the persisted sliding-window rate limits.
CREATE TABLE source_requests (
    source TEXT    NOT NULL,
    at     INTEGER NOT NULL -- ms since epoch
);
CREATE INDEX source_requests_by_time ON source_requests (source, at);
