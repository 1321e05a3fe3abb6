-- The coach's desk (issue 19): team/group tags on athletes, and acknowledged
-- "needs attention" reasons (who dismissed which reason, when).
CREATE TABLE athlete_tags (
    athlete_id TEXT NOT NULL,
    tag        TEXT NOT NULL,            -- lower case, 1-32 letters, digits, '-' or '_'
    PRIMARY KEY (athlete_id, tag)
);
CREATE INDEX athlete_tags_by_tag ON athlete_tags (tag, athlete_id);
CREATE TABLE acknowledgements (
    id         INTEGER PRIMARY KEY,
    athlete_id TEXT NOT NULL,
    reason_key TEXT NOT NULL,            -- e.g. "test:42:worse", "load:acwr_rolling:2026-11-22"
    author     TEXT NOT NULL,            -- user name at the time (kept if the account goes)
    created_at TEXT NOT NULL,
    UNIQUE (athlete_id, reason_key)
);
-- An athlete's tests newest first (the overview's latest and previous test) by index look-up.
CREATE INDEX tests_latest ON tests (athlete_id, (COALESCE(started_at, imported_at)) DESC, id DESC);
-- Each coach's time zone (IANA name), for the times the web app shows them.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
-- Notes: the coach chooses which go into the athlete's report; edits and deletions keep
-- the earlier text in note_versions (who changed it, when).
ALTER TABLE notes ADD COLUMN for_athlete INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notes ADD COLUMN deleted_at TEXT;
CREATE TABLE note_versions (
    id         INTEGER PRIMARY KEY,
    note_id    INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,            -- the text as it was before this change
    for_athlete INTEGER NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('edited', 'deleted'))
);
CREATE INDEX note_versions_by_note ON note_versions (note_id, id);
