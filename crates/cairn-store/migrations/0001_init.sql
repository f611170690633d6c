-- Cairn's initial schema. Times are unix milliseconds (UTC); money is integer nano-units of the
-- configured currency, so sums never drift.

CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    tier           TEXT NOT NULL,
    org_id         TEXT REFERENCES orgs(id) ON DELETE SET NULL,
    password_hash  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    prefix               TEXT NOT NULL,
    hash                 TEXT NOT NULL UNIQUE,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER,
    revoked_at           INTEGER,
    requests_per_minute  INTEGER,
    tokens_per_minute    INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE usage (
    id                 TEXT PRIMARY KEY,
    at                 INTEGER NOT NULL,
    day                TEXT NOT NULL,
    request_id         TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    key_id             TEXT,
    org_id             TEXT,
    route              TEXT NOT NULL,
    model              TEXT NOT NULL,
    provider           TEXT NOT NULL,
    status             INTEGER NOT NULL,
    stream             INTEGER NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    cost_nanos         INTEGER NOT NULL,
    latency_ms         INTEGER NOT NULL,
    ttft_ms            INTEGER
);
CREATE INDEX usage_user_day ON usage(user_id, day);
CREATE INDEX usage_key_day ON usage(key_id, day);
CREATE INDEX usage_day ON usage(day);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    model          TEXT,
    system_prompt  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX conversations_user_updated ON conversations(user_id, updated_at DESC);

CREATE TABLE messages (
    id                 TEXT PRIMARY KEY,
    conversation_id    TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq                INTEGER NOT NULL,
    role               TEXT NOT NULL,
    content            TEXT NOT NULL,
    model              TEXT,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    created_at         INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
