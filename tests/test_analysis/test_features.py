"""Per-rep features: SPARC on known shapes, and the tidy table on simulated tests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.integrate import quad

from analysis.features import FEATURES, ID_COLUMNS, rep_features, sparc
from analysis.pipeline import analyze
from simulator.single_test import SimConfig, simulate

FS = 100.0


def gaussian_speed(sigma_s: float, amplitude: float = 1.0, fs: float = FS) -> np.ndarray:
    t = np.arange(-8 * sigma_s, 8 * sigma_s, 1.0 / fs)
    return amplitude * np.exp(-t ** 2 / (2 * sigma_s ** 2))


def gaussian_sparc_exact(amp_threshold: float = 0.05) -> float:
    """A Gaussian speed has a Gaussian spectrum; with frequency normalised to the cut-off
    where it falls to the threshold, its arc length is the same for every width:
    V(u) = exp(-ln(1/th) u²) on u in [0, 1]."""
    a = np.log(1.0 / amp_threshold)
    return -quad(lambda u: np.sqrt(1.0 + (2 * a * u * np.exp(-a * u ** 2)) ** 2), 0.0, 1.0)[0]


def test_sparc_of_a_gaussian_matches_its_closed_form():
    exact = gaussian_sparc_exact()
    assert -1.7 < exact < -1.3
    for sigma in (0.15, 0.3, 0.6):
        assert sparc(gaussian_speed(sigma), FS) == pytest.approx(exact, abs=0.01)


def test_sparc_ignores_amplitude_and_duration():
    base = sparc(gaussian_speed(0.3), FS)
    assert sparc(gaussian_speed(0.3, amplitude=40.0), FS) == pytest.approx(base, abs=1e-9)
    assert sparc(gaussian_speed(0.45), FS) == pytest.approx(base, abs=0.01)


def test_sparc_is_more_negative_for_intermittent_movement():
    t = np.arange(0.0, 3.0, 1.0 / FS)
    one = np.exp(-((t - 1.5) / 0.4) ** 2)
    two = np.exp(-((t - 1.0) / 0.2) ** 2) + np.exp(-((t - 2.0) / 0.2) ** 2)
    tremor = one * (1.0 + 0.3 * np.sin(2 * np.pi * 6.0 * t))
    assert sparc(two, FS) < sparc(one, FS) - 0.5
    assert sparc(tremor, FS) < sparc(one, FS) - 0.3


def test_sparc_is_nan_without_movement():
    assert np.isnan(sparc(np.zeros(50), FS))
    assert np.isnan(sparc(np.ones(3), FS))


@pytest.fixture(scope="module")
def minimal():
    sim = simulate(SimConfig(seed=41, test_leg="right", sensors=("pelvis", "thigh"), profile="poor"))
    return sim, analyze(sim.recording, classify=False)


@pytest.fixture(scope="module")
def full():
    sim = simulate(SimConfig(seed=42, test_leg="left", profile="medium",
                             sensors=("pelvis", "thigh", "shank", "trunk", "wrist")))
    return sim, analyze(sim.recording, classify=False)


def test_one_row_per_rep_with_every_column(minimal):
    _, a = minimal
    df = rep_features(a)
    assert list(df.columns) == [*ID_COLUMNS, *FEATURES]
    assert len(df) == len(a.reps) >= 3
    assert df["rep"].tolist() == [r.index for r in a.reps]
    assert (df["test_leg"] == "right").all()
    # units are in every numeric column's name
    suffixes = ("_deg", "_cm", "_s", "_ms2", "_deg_s", "_deg_s3", "_ratio", "_sparc")
    assert all(c.endswith(suffixes) for c in FEATURES), [c for c in FEATURES if not c.endswith(suffixes)]


def test_measures_and_timings_agree_with_the_analysis(minimal):
    _, a = minimal
    df = rep_features(a)
    for row, rep in zip(df.itertuples(), a.reps, strict=True):
        assert row.pelvic_drop_deg == rep.measures.get("pelvic_drop_deg")
        assert row.knee_medial_cm == rep.measures.get("knee_medial_cm")
        assert row.descent_s == pytest.approx(rep.bottom_s - rep.start_s)
        assert row.ascent_s == pytest.approx(rep.end_s - rep.bottom_s)
        assert 0.0 <= row.pelvic_drop_time_to_peak_s <= row.rep_s + 0.01
        assert 0.0 < row.bottom_hold_s < row.rep_s


def test_depth_is_the_thighs_peak_inclination(minimal):
    sim, a = minimal
    df = rep_features(a)
    # a step-down bends the hip 35-70 degrees; the thigh inclines about as much
    assert df["depth_deg"].between(25.0, 80.0).all(), df["depth_deg"]
    for row, rep in zip(df.itertuples(), a.reps, strict=True):
        m = (a.series.t >= rep.start_s) & (a.series.t <= rep.end_s)
        assert row.depth_deg == pytest.approx(np.degrees(a.series.depth_rad[m].max()))


def test_smoothness_and_sway_are_finite_and_physical(minimal):
    _, a = minimal
    df = rep_features(a)
    assert (df["descent_sparc"] < -1.0).all() and (df["ascent_sparc"] < -1.0).all()
    assert (df["depth_jerk_rms_deg_s3"] > 0).all()
    pelvis = a.motion.get("pelvis", "right")
    rep = a.reps[0]
    m = (a.motion.t >= rep.start_s) & (a.motion.t <= rep.end_s) & ~pelvis.gap
    expected = np.degrees(np.sqrt(np.mean(np.sum(pelvis.gyr[m] ** 2, axis=1))))
    assert df["pelvis_gyr_rms_deg_s"].iloc[0] == pytest.approx(expected)


def test_variability_is_the_deviation_from_the_median_rep(minimal):
    _, a = minimal
    df = rep_features(a)
    dev = df["pelvic_drop_deg"] - df["pelvic_drop_deg"].median()
    assert np.allclose(df["pelvic_drop_from_median_deg"], dev)
    assert df["depth_curve_rmsd_deg"].ge(0).all()
    assert df["depth_curve_rmsd_deg"].max() > 0


def test_a_jerkier_depth_signal_scores_rougher(minimal):
    _, a = minimal
    t = a.series.t
    wobble = np.radians(1.5) * np.sin(2 * np.pi * 4.0 * t)
    series = dataclasses.replace(a.series, depth_rad=a.series.depth_rad + wobble)
    rough = dataclasses.replace(a, series=series)
    smooth_df, rough_df = rep_features(a), rep_features(rough)
    assert (rough_df["depth_jerk_rms_deg_s3"] > 2 * smooth_df["depth_jerk_rms_deg_s3"]).all()
    assert (rough_df["descent_sparc"] < smooth_df["descent_sparc"]).all()


def test_missing_sensors_give_nan_columns(minimal, full):
    small, big = rep_features(minimal[1]), rep_features(full[1])
    for col in ("trunk_lean_deg", "trunk_gyr_rms_deg_s", "trunk_lean_time_to_peak_s",
                "trunk_lean_from_median_deg", "wrist_motion_deg"):
        assert small[col].isna().all(), col
        assert big[col].notna().all(), col
    core = [c for c in FEATURES if not c.startswith(("trunk_", "wrist_"))]
    assert small[core].notna().all().all()


def test_no_reps_gives_an_empty_table_with_the_columns(minimal):
    _, a = minimal
    df = rep_features(dataclasses.replace(a, reps=[]))
    assert df.empty and list(df.columns) == [*ID_COLUMNS, *FEATURES]
