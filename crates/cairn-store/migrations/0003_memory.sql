-- Memory: what Cairn remembers about a user across conversations, the rolling summaries of
-- conversations that outgrew a model's context window, and each user's memory switch.

CREATE TABLE memories (
    id                      TEXT PRIMARY KEY,
    user_id                 TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    text                    TEXT NOT NULL,
    -- Little-endian f32s from `embedding_model`; NULL when no embedder answered, in which
    -- case similarity falls back to word overlap.
    embedding               BLOB,
    embedding_model         TEXT,
    -- Where it was learned: NULL for memories the user wrote themselves.
    source_conversation_id  TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    source_message_id       TEXT REFERENCES messages(id) ON DELETE SET NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);
CREATE INDEX memories_user_updated ON memories(user_id, updated_at DESC);

-- One rolling summary per conversation: the model's summary of every message up to and
-- including `through_seq`; later turns are sent as they are.
CREATE TABLE conversation_summaries (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    summary          TEXT NOT NULL,
    through_seq      INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- A row only for users who changed the setting; no row means memory is on.
CREATE TABLE memory_settings (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    enabled     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
