-- The rehab programme (issue 15): hold and heel-tap sets, and each athlete's prescription.
-- Units as in DESIGN.md: SI (m, s, kg) except the analysis' own *_deg / *_cm measures.

-- One programme set = one recording file = one analysis document (HoldSet / HeelTapSet).
CREATE TABLE programme_sets (
    id               INTEGER PRIMARY KEY,
    athlete_id       TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    started_at       TEXT,              -- ISO 8601 UTC from the recording, if known
    day              TEXT NOT NULL,     -- YYYY-MM-DD of started_at (else of the import): the session
    imported_at      TEXT NOT NULL,
    exercise         TEXT NOT NULL CHECK (exercise IN ('hold', 'heel_taps')),
    test_leg         TEXT NOT NULL CHECK (test_leg IN ('left', 'right')),
    band             INTEGER NOT NULL DEFAULT 0 CHECK (band IN (0, 1)),
    step_height_m    REAL,
    load_kg          REAL NOT NULL DEFAULT 0 CHECK (load_kg >= 0),
    recording_path   TEXT NOT NULL,
    content_sha256   TEXT NOT NULL UNIQUE,
    analysis_json    TEXT NOT NULL,
    n_done           INTEGER NOT NULL,  -- holds or taps found
    n_prescribed     INTEGER,           -- holds or taps prescribed in the set
    tut_s            REAL,              -- holds: total time under tension
    volume_kg        REAL,              -- heel taps: taps x added load
    controlled_share REAL,              -- heel taps: share of taps without knee/pelvis fault
    knee_medial_cm   REAL,              -- heel taps: median per tap
    pelvic_drop_deg  REAL,              -- heel taps: median per tap
    pelvis_sway_deg  REAL,              -- holds: median per hold
    tremor_dps       REAL               -- holds: median per hold
);
CREATE INDEX programme_sets_by_athlete ON programme_sets (athlete_id, day);

-- The coach's prescription per athlete and exercise. Append-only: the newest row per
-- (athlete, exercise) is current, older rows are the history.
CREATE TABLE programme_prescriptions (
    id                INTEGER PRIMARY KEY,
    athlete_id        TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    exercise          TEXT NOT NULL CHECK (exercise IN ('hold', 'heel_taps')),
    prescription_json TEXT NOT NULL,
    author            TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX programme_prescriptions_by_athlete ON programme_prescriptions (athlete_id, exercise, id);
