-- Failed logins (issue 19), in the catalog so that every server process counts the same
-- failures: one row per failure per key ("user:NAME" or "addr:IP"). Rows older than the
-- throttle's window are deleted when the next failure is recorded.
CREATE TABLE login_failures (
    key       TEXT NOT NULL,
    failed_at REAL NOT NULL              -- s since 1970-01-01 UTC (one clock for all processes)
);
CREATE INDEX login_failures_by_key ON login_failures (key, failed_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
