-- Knowledge: collections of documents. Chunks and vectors live in the knowledge index; the
-- database is the source of truth for what exists and who may read it, and the index is
-- reconciled against it at start.

CREATE TABLE collections (
    id          TEXT PRIMARY KEY,
    -- Exactly one owner: a user or an organisation.
    user_id     TEXT REFERENCES users(id) ON DELETE CASCADE,
    org_id      TEXT REFERENCES orgs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE INDEX collections_user ON collections(user_id);
CREATE INDEX collections_org ON collections(org_id);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    mime          TEXT,
    bytes         INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    -- queued | parsing | embedding | indexed | failed
    status        TEXT NOT NULL,
    error         TEXT,
    chunks_total  INTEGER NOT NULL DEFAULT 0,
    chunks_done   INTEGER NOT NULL DEFAULT 0,
    -- A JSON object of string values, filterable in search.
    metadata      TEXT NOT NULL DEFAULT '{}',
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    -- The same content twice in one collection is one document.
    UNIQUE (collection_id, sha256)
);
CREATE INDEX documents_collection ON documents(collection_id, created_at);
CREATE INDEX documents_status ON documents(status);

-- Collections a conversation's answers are grounded in.
CREATE TABLE conversation_collections (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    collection_id   TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, collection_id)
) WITHOUT ROWID;

-- The sources a grounded answer cited, as the JSON list the API returns.
CREATE TABLE message_citations (
    message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    citations  TEXT NOT NULL
) WITHOUT ROWID;
