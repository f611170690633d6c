-- Orchestration: prompt templates, and runs (agent runs, workflow runs, articles) with the
-- steps they are made of. A run's steps are its checkpoints: a finished step is never run
-- again when the run resumes after a restart.

-- A user's own prompt templates. Each save is a new version; older versions stay readable.
-- Built-in templates live in the binary, not here.
CREATE TABLE prompt_templates (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (user_id, name, version)
);

-- kind: 'agent' | 'workflow' | 'article'.
-- status: 'running' | 'waiting' (for the user, e.g. to edit an outline) | 'succeeded' |
-- 'failed' | 'cancelled'. Runs left 'running' by a crash are resumed at start.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    -- What the run was started with (inputs, limits, model), JSON.
    input        TEXT NOT NULL,
    -- The workflow source (or agent settings) as it was when the run started, so a resumed
    -- run does the same thing even if the definition changed since.
    definition   TEXT NOT NULL,
    output       TEXT,
    error        TEXT,
    tokens       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX runs_user_kind_updated ON runs(user_id, kind, updated_at DESC);
CREATE INDEX runs_status ON runs(status);

-- One row per step (a map's items are steps of their own: key 'sections[2]').
-- status: 'running' | 'succeeded' | 'failed' | 'skipped'.
CREATE TABLE run_steps (
    run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    input        TEXT,
    output       TEXT,
    error        TEXT,
    tokens       INTEGER NOT NULL DEFAULT 0,
    elapsed_ms   INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 1,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    PRIMARY KEY (run_id, key)
);
