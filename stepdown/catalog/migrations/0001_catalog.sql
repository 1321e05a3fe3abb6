-- The session catalog: athletes, their tests, reps, measures, checklist items,
-- coach labels and notes, and the accounts of the review web app.
-- Units as in DESIGN.md: SI (m, s) except the analysis' own *_deg / *_cm measures.

CREATE TABLE athletes (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL DEFAULT '',
    height_m             REAL,
    thigh_length_m       REAL,
    shank_length_m       REAL,
    foot_medial_offset_m REAL,
    notes                TEXT NOT NULL DEFAULT '',
    created_at           TEXT NOT NULL
);

-- One lateral step-down test = one recording file = one analysis document.
CREATE TABLE tests (
    id               INTEGER PRIMARY KEY,
    athlete_id       TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    started_at       TEXT,              -- ISO 8601 UTC from the recording, if known
    imported_at      TEXT NOT NULL,
    test_leg         TEXT NOT NULL CHECK (test_leg IN ('left', 'right')),
    step_height_m    REAL,
    sensors          TEXT NOT NULL,     -- JSON list of placements used by the analysis
    recording_path   TEXT NOT NULL,     -- copy of the recording inside the data home
    content_sha256   TEXT NOT NULL UNIQUE,  -- of the recording file: makes import idempotent
    analysis_version INTEGER NOT NULL,
    analysis_json    TEXT NOT NULL,     -- the full analysis document, as produced
    rule             TEXT NOT NULL,     -- test-level aggregation rule (majority, any, worst)
    total            INTEGER NOT NULL,
    piva_total       INTEGER NOT NULL,
    category         TEXT NOT NULL CHECK (category IN ('good', 'medium', 'poor'))
);
CREATE INDEX tests_by_athlete ON tests (athlete_id, started_at);

CREATE TABLE test_items (
    test_id INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
    item    TEXT NOT NULL,
    value   INTEGER,                  -- NULL: not assessed
    PRIMARY KEY (test_id, item)
);

CREATE TABLE reps (
    id        INTEGER PRIMARY KEY,
    test_id   INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
    rep_index INTEGER NOT NULL,       -- 1-based, as in the analysis
    start_s   REAL NOT NULL,
    bottom_s  REAL,
    end_s     REAL NOT NULL,
    total     INTEGER NOT NULL,
    pain_nrs  REAL,                   -- athlete-reported 0-10 pain, if any
    UNIQUE (test_id, rep_index)
);

-- Measures in long form: the analysis may add measures without a migration.
CREATE TABLE rep_measures (
    rep_id INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
    name   TEXT NOT NULL,             -- e.g. pelvic_drop_deg, knee_medial_cm
    value  REAL,                      -- NULL where the sensors cannot give it
    PRIMARY KEY (rep_id, name)
);

-- The automatic verdict per rep and checklist item.
CREATE TABLE rep_items (
    rep_id INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
    item   TEXT NOT NULL,
    value  INTEGER,                   -- NULL: not assessed (counts 0 in totals)
    source TEXT NOT NULL,             -- rule, classifier, reported, not_assessed
    PRIMARY KEY (rep_id, item)
);

-- A coach's own verdict, kept beside the automatic one and never overwriting it.
-- Append-only: the newest row per (rep, item) is the current label, older rows are history.
CREATE TABLE coach_labels (
    id         INTEGER PRIMARY KEY,
    rep_id     INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
    item       TEXT NOT NULL,
    value      INTEGER NOT NULL,
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX coach_labels_by_rep ON coach_labels (rep_id, item, id);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    test_id    INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
    rep_index  INTEGER,               -- NULL: a note on the whole test
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notes_by_test ON notes (test_id, id);

-- Accounts of the review web app.
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,      -- scrypt$n$r$p$salt_hex$hash_hex
    sees_all      INTEGER NOT NULL DEFAULT 0,   -- 1: head clinician, sees every athlete
    created_at    TEXT NOT NULL
);

CREATE TABLE coach_athletes (
    username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    athlete_id TEXT NOT NULL,         -- no FK: a coach may be assigned before the first import
    PRIMARY KEY (username, athlete_id)
);

-- Server-side sessions; only a hash of the cookie token is stored.
CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
