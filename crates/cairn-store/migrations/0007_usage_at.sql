-- The admin dashboard reads usage by time window (the last hour, day, week or month) and
-- lists the newest requests first; both walk this index instead of the whole table.
CREATE INDEX usage_at ON usage(at);
