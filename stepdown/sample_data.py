"""Make the sample recordings in ``data/``: ``python -m stepdown.sample_data [FOLDER]``.

Each sample is made by running the ``stepdown simulate`` command line listed in
:data:`SAMPLES` (so the command printed in ``data/README.md`` is exactly what
made the file), then the README's generated section is rewritten: per file the
command, the sensors with their rates, the duration, the size and the truth's
checklist. Text outside the markers in the README is kept.

The files are simulated: nothing in ``data/`` was measured on a person.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from sensor_io.recording_io import read_recording
from stepdown.simulation import read_truth

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BEGIN, END = "<!-- samples:begin (written by python -m stepdown.sample_data) -->", "<!-- samples:end -->"


@dataclass(frozen=True)
class Sample:
    """One sample recording: file name, the simulate options, and what it shows."""

    name: str
    seed: int
    leg: str
    sensors: str
    profile: str
    shows: str
    reps: int = 5

    def command(self, folder: str = "data") -> str:
        """The exact ``stepdown simulate`` command line that makes this file."""
        return (f"stepdown simulate {folder}/{self.name} --seed {self.seed} --leg {self.leg} "
                f"--sensors {self.sensors} --profile {self.profile} --reps {self.reps}")


SAMPLES: tuple[Sample, ...] = (
    Sample("good_left_pelvis_thigh.parquet", 9, "left", "pelvis,thigh", "good",
           "the minimum sensor set; one rep drops the pelvis, not enough to count for the test"),
    Sample("medium_right_pelvis_thigh.parquet", 26, "right", "pelvis,thigh", "medium",
           "pelvic drop and a knee inside the entire foot (knee level 2) on a right test leg"),
    Sample("poor_left_pelvis_thigh.parquet", 11, "left", "pelvis,thigh", "poor",
           "arm and trunk faults the minimum set cannot measure directly (no wrist/trunk sensor)"),
    Sample("medium_left_full_set.parquet", 2, "left", "pelvis,thigh,shank,trunk,wrist", "medium",
           "every optional sensor; the hand leaves the waist in 4 of 5 reps (wrist sensor)"),
    Sample("poor_right_full_set.parquet", 16, "right", "pelvis,thigh,shank,trunk,wrist", "poor",
           "uncontrolled descents with a heel impact, reported pain, knee level 2"),
)


def make_sample(sample: Sample, folder: Path) -> Path:
    """Run the sample's ``stepdown simulate`` command into ``folder``; returns the recording path."""
    from stepdown.cli import main

    argv = shlex.split(sample.command(str(folder)))[1:] + ["--force"]
    rc = main(argv)
    if rc != 0:
        raise RuntimeError(f"{sample.command()} failed with exit code {rc}")
    return folder / sample.name


def describe_sample(sample: Sample, folder: Path) -> str:
    """The README section of one sample (markdown)."""
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
        "```sh", sample.command(), "```", "",
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
step-down simulator (`sensor_io/simulator.py`): no file was measured on a person.
Each recording `<name>.parquet` follows the recording contract (DESIGN.md) and has
its ground truth beside it in `<name>.truth.json`: rep times (s), the true peak
measures per rep (deg / cm, relative to standing), the sensors' simulated
mounting, rates, clock offsets and gaps, and the checklist items the default
(heuristic) rules give on the true measures, per rep and for the test (majority).
Arm and descent come from the simulated events themselves (hand off the waist,
uncontrolled descent). The `options` entry of each truth file is the simulator
configuration.

Remake them all with `python -m stepdown.sample_data` (the same commands as
below, plus `--force`); `tests/test_sample_data.py` reruns every command below
and checks that the result still matches the files, so this page cannot rot.
`rules_default.toml` holds the default rule thresholds (see its comments).

"""


def write_readme(folder: Path, samples: tuple[Sample, ...] = SAMPLES) -> Path:
    """Write (or refresh the generated section of) ``folder/README.md``."""
    readme = folder / "README.md"
    section = "\n".join([BEGIN, "", *(describe_sample(s, folder) for s in samples), END])
    text = readme.read_text(encoding="utf-8") if readme.exists() else HEADER + BEGIN + END + "\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + END + "\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + section + tail, encoding="utf-8")
    return readme


def main(argv: list[str] | None = None) -> int:
    """Make every sample in FOLDER (default: the repository's data/) and its README."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        make_sample(sample, folder)
    readme = write_readme(folder)
    print(json.dumps({"wrote": [s.name for s in SAMPLES], "readme": str(readme)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
