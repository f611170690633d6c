-- The web app: browser sessions and sign-up invitations. Passwords live in the existing
-- `users.password_hash` (an Argon2id PHC string). Tokens are stored only as SHA-256 hashes,
-- like API keys: the cookie or link holds the secret, the database cannot give it back.

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    -- The synchronizer token a cookie-authenticated write must echo in a header. Not a
    -- credential on its own (it is useless without the cookie), so kept as it is.
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    -- When set, only this address may sign up with it.
    email       TEXT,
    -- The tier the new user gets; NULL: the default tier.
    tier        TEXT,
    created_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at  INTEGER
);
