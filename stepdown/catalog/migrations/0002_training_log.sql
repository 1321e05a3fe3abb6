-- The training log (issue 7): one row per session or marked rest day of an athlete.
-- Dates are the athlete's local calendar date (YYYY-MM-DD, no time zone): see
-- analysis/training_load/entries.py. Units SI: duration_s (s), distance_m (m), load_kg (kg).

-- One row per imported CSV file: makes re-importing the same file a refusal, not a double count.
CREATE TABLE training_imports (
    id             INTEGER PRIMARY KEY,
    file_name      TEXT NOT NULL,
    content_sha256 TEXT NOT NULL UNIQUE,
    n_entries      INTEGER NOT NULL,
    imported_at    TEXT NOT NULL
);

CREATE TABLE training_log (
    id           INTEGER PRIMARY KEY,
    athlete_id   TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    date         TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    activity     TEXT NOT NULL
                 CHECK (activity IN ('run', 'ride', 'strength', 'stepdown', 'sport', 'other', 'rest')),
    duration_s   REAL CHECK (duration_s >= 0),
    distance_m   REAL CHECK (distance_m >= 0),
    sets         INTEGER CHECK (sets >= 1),
    reps         INTEGER CHECK (reps >= 1),          -- per set
    load_kg      REAL CHECK (load_kg >= 0),          -- per rep
    rpe          REAL CHECK (rpe BETWEEN 0 AND 10),  -- session RPE, CR-10
    pain_nrs     REAL CHECK (pain_nrs BETWEEN 0 AND 10),
    season_start INTEGER NOT NULL DEFAULT 0 CHECK (season_start IN (0, 1)),
    notes        TEXT NOT NULL DEFAULT '',
    import_id    INTEGER REFERENCES training_imports(id) ON DELETE CASCADE,  -- NULL: added by hand
    created_at   TEXT NOT NULL
);
CREATE INDEX training_log_by_athlete ON training_log (athlete_id, date);
