"""Make the sample recordings in ``data/``: ``python -m stepdown.sample_data [FOLDER]``.

Each sample in :data:`SAMPLES` gets a seed (:func:`choose_seed`: the first that
gives the intended category and faults) and is made by running its
``stepdown simulate`` command line (so the command printed in ``data/README.md``
is exactly what made the file); then the README's generated section is
rewritten: per file the command, the sensors with their rates, the duration,
the size and the truth's checklist. Text outside the markers is kept.

Run it again after any change to the simulator: ``tests/test_stepdown/test_sample_data.py``
fails while the files differ from what the README's commands now produce.

The files are simulated: nothing in ``data/`` was measured on a person.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sensor_io.recording_io import read_recording, write_recording
from simulator.single_test import simulate
from stepdown.truth_files import read_truth, truth_document

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BEGIN, END = "<!-- samples:begin (written by python -m stepdown.sample_data) -->", "<!-- samples:end -->"


@dataclass(frozen=True)
class Sample:
    """One sample recording: file name, simulate options, what it is meant to show.

    The seed is not fixed here: :func:`choose_seed` takes the first seed from
    ``first_seed`` whose truth has the profile's category, the ``needs`` items
    at the test level (item -> level) and a file under ``max_bytes``, so the
    samples stay meaningful when the simulator changes. The README records the
    seed used.
    """

    name: str
    """The recording's file name in the samples' folder."""
    leg: str
    """``left`` or ``right``: the test leg."""
    sensors: str
    """Comma-separated segments, as ``stepdown simulate --sensors`` takes them."""
    profile: str
    """Fault profile, and the category the truth must have."""
    shows: str
    """What the sample is meant to show (README text)."""
    needs: tuple[tuple[str, int], ...] = ()
    """Test-level items the truth must have: (item, level) pairs."""
    reps: int = 5
    """Number of full reps."""
    first_seed: int = 1
    """The first seed tried."""
    max_bytes: int = 1_000_000
    """Largest file size allowed, bytes."""

    def command(self, seed: int, folder: str = "data") -> str:
        """The exact ``stepdown simulate`` command line that makes this file.

        Parameters
        ----------
        seed : int
            The simulator seed.
        folder : str
            Folder the file is written to, as it appears in the command.

        Returns
        -------
        str
            The command line, starting with ``stepdown simulate``.
        """
        return (f"stepdown simulate {folder}/{self.name} --seed {seed} --leg {self.leg} "
                f"--sensors {self.sensors} --profile {self.profile} --reps {self.reps}")


SAMPLES: tuple[Sample, ...] = (
    Sample("good_left_pelvis_thigh.parquet", "left", "pelvis,thigh", "good",
           "the minimum sensor set (pelvis + test-leg thigh) on a good mover",
           first_seed=9),
    Sample("medium_right_pelvis_thigh.parquet", "right", "pelvis,thigh", "medium",
           "a right test leg, pelvic drop and a knee inside the entire foot (knee level 2)",
           needs=(("pelvis", 1), ("knee", 2)), first_seed=26),
    Sample("poor_left_pelvis_thigh.parquet", "left", "pelvis,thigh", "poor",
           "a trunk lean the minimum set cannot measure directly (no trunk sensor)",
           needs=(("trunk", 1),), first_seed=11),
    Sample("medium_left_full_set.parquet", "left", "pelvis,thigh,shank,trunk,wrist", "medium",
           "every optional sensor; the hand leaves the waist (seen by the wrist sensor)",
           needs=(("arm", 1),), first_seed=2),
    Sample("poor_right_full_set.parquet", "right", "pelvis,thigh,shank,trunk,wrist", "poor",
           "every optional sensor on a right test leg; uncontrolled descents with a heel impact",
           needs=(("descent", 1),), first_seed=16),
)


def _fits(sample: Sample, seed: int, scratch: Path) -> bool:
    """Whether ``seed`` gives the sample's category, needed items and size."""
    from stepdown.commands.simulate import sim_config

    cfg = sim_config(seed, sample.leg, sample.sensors, sample.profile, sample.reps)
    sim = simulate(cfg)
    test = truth_document(sim, cfg)["test"]
    if test["category"] != sample.profile:
        return False
    if any(test["items"][item] != level for item, level in sample.needs):
        return False
    write_recording(sim.recording, scratch)
    return scratch.stat().st_size <= sample.max_bytes


def choose_seed(sample: Sample, tries: int = 300) -> int:
    """The first seed from ``sample.first_seed`` that fits the sample (see :class:`Sample`).

    Parameters
    ----------
    sample : Sample
        The sample to make.
    tries : int
        How many seeds to try.

    Returns
    -------
    int
        The seed.

    Raises
    ------
    RuntimeError
        No seed of the range fits.
    """
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "candidate.parquet"
        for seed in range(sample.first_seed, sample.first_seed + tries):
            if _fits(sample, seed, scratch):
                return seed
    raise RuntimeError(f"no seed in {sample.first_seed}..{sample.first_seed + tries - 1} "
                       f"gives {sample.name} what it needs; relax Sample.needs")


def make_sample(sample: Sample, seed: int, folder: Path) -> Path:
    """Run the sample's ``stepdown simulate`` command into ``folder``; returns the recording path.

    Parameters
    ----------
    sample : Sample
        The sample to make.
    seed : int
        Its seed (:func:`choose_seed`).
    folder : pathlib.Path
        Where the recording and its truth are written (replacing earlier ones).

    Returns
    -------
    pathlib.Path
        The recording written.

    Raises
    ------
    RuntimeError
        The command failed.
    """
    from stepdown.cli import main

    argv = shlex.split(sample.command(seed, str(folder)))[1:] + ["--force"]
    rc = main(argv)
    if rc != 0:
        raise RuntimeError(f"{sample.command(seed)} failed with exit code {rc}")
    return folder / sample.name


def describe_sample(sample: Sample, seed: int, folder: Path) -> str:
    """The README section of one sample (markdown).

    Parameters
    ----------
    sample : Sample
        The sample.
    seed : int
        The seed its file was made with.
    folder : pathlib.Path
        Where its recording and truth file are.

    Returns
    -------
    str
        The section: command, sensors with rates (Hz), duration (s), size (MB), step (cm),
        athlete height (m), the truth's checklist.
    """
    path = folder / sample.name
    rec = read_recording(path)
    truth = read_truth(path)
    sensors = ", ".join(f"{n} {rec.streams[n].rate_hz:.0f} Hz" for n in rec.placements)
    test = truth["test"]
    items = " ".join(f"{k} {v}" for k, v in test["items"].items())
    reps = "; ".join(" ".join(k if v == 1 else f"{k}={v}" for k, v in r["items"].items() if v)
                     or "none" for r in truth["reps"])
    return "\n".join([
        f"### `{sample.name}` ({sample.profile} profile, {sample.leg} test leg)",
        "",
        f"Shows {sample.shows}.",
        "",
        "```sh", sample.command(seed), "```", "",
        f"- sensors: {sensors}; {rec.duration_s:.1f} s; "
        f"{path.stat().st_size / 1e6:.2f} MB; step {truth['step_height_m'] * 100:.1f} cm, "
        f"athlete {truth['body']['height_m']:.2f} m",
        f"- truth (`{Path(sample.name).stem}.truth.json`): {len(truth['reps'])} reps, "
        f"test **{test['category']}**, total {test['total']} (Piva 0-6: {test['piva_total']}); "
        f"test items: {items}",
        f"- faults per rep: {reps}",
        "",
    ])


HEADER = """# Sample data

Everything here except `rules_default.toml` is **simulated** by stepdown's own
step-down simulator (`simulator/single_test.py`): no file was measured on a person.
Each recording `<name>.parquet` follows the recording contract (DESIGN.md) and has
its ground truth beside it in `<name>.truth.json`: rep times (s), the true peak
measures per rep (deg / cm, relative to standing), the sensors' simulated
mounting, rates, clock offsets and gaps, and the checklist items the default
(heuristic) rules give on the true measures, per rep and for the test (majority).
Arm and descent come from the simulated events themselves (hand off the waist,
uncontrolled descent). The `options` entry of each truth file is the simulator
configuration.

Remake them all with `python -m stepdown.sample_data` (the same commands as
below, plus `--force`); `tests/test_stepdown/test_sample_data.py` reruns every command below
and checks that the result still matches the files, so this page cannot rot.
`rules_default.toml` holds the default rule thresholds (see its comments).

"""


def write_readme(folder: Path, seeds: dict[str, int], samples: tuple[Sample, ...] = SAMPLES) -> Path:
    """Write (or refresh the generated section of) ``folder/README.md``.

    Parameters
    ----------
    folder : pathlib.Path
        The samples' folder.
    seeds : dict of str to int
        Sample name -> the seed its file was made with.
    samples : tuple of Sample
        The samples described.

    Returns
    -------
    pathlib.Path
        The README written; text outside the markers is kept.
    """
    readme = folder / "README.md"
    section = "\n".join([BEGIN, "", *(describe_sample(s, seeds[s.name], folder)
                                      for s in samples), END])
    text = readme.read_text(encoding="utf-8") if readme.exists() else HEADER + BEGIN + END + "\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + END + "\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + section + tail, encoding="utf-8")
    return readme


def main(argv: list[str] | None = None) -> int:
    """Make every sample in FOLDER (default: the repository's data/) and its README.

    Parameters
    ----------
    argv : list of str or None
        ``[FOLDER]``; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code, 0 (a failure raises).
    """
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    seeds = {s.name: choose_seed(s) for s in SAMPLES}
    for sample in SAMPLES:
        make_sample(sample, seeds[sample.name], folder)
    readme = write_readme(folder, seeds)
    print(json.dumps({"seeds": seeds, "readme": str(readme)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
