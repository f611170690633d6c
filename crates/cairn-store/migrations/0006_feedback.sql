-- Feedback on answers: thumbs up (+1) or down (-1), with an optional comment, that a user
-- gave an assistant message of one of their conversations. The data flywheel reads it: the
-- rated answer, the prompt before it and the model that wrote it. One per message and user;
-- rating again changes it (updated_at), and it goes with its message (a regenerated or
-- edited turn, a deleted conversation or user).

CREATE TABLE feedback (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    rating           INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    -- Bounded where it is received (the API); NULL: no comment.
    comment          TEXT,
    -- The model of the rated answer (messages.model), kept to filter and group by.
    model            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (message_id, user_id)
);
CREATE INDEX feedback_conversation ON feedback(conversation_id, user_id);
CREATE INDEX feedback_updated ON feedback(updated_at DESC, id DESC);
