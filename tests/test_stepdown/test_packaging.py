"""A wheel (non-editable install) carries every non-Python file of our packages.

The catalog loads its SQL migrations and the web app its templates and static
files through importlib.resources; an editable install finds them in the source
tree, a wheel only if pyproject.toml's package-data lists them. The wheel is
built from a copy of the sources, so the checkout is left untouched (~5 s).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sensor_io", "simulator", "calibration", "analysis", "stepdown")
# Reasons a build can fail that say nothing about our configuration.
OFFLINE = ("No matching distribution found", "Could not find a version", "NewConnectionError",
           "Temporary failure in name resolution")


def resource_files() -> set[str]:
    """Every non-Python file inside the packages, as wheel paths ('stepdown/web/static/app.css')."""
    out = set()
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*"):
            if f.is_file() and f.suffix not in (".py", ".pyc") and "__pycache__" not in f.parts:
                out.add(f.relative_to(ROOT).as_posix())
    return out


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = src / "wheelhouse"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q",
                           "-w", str(out)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        if any(s in proc.stderr + proc.stdout for s in OFFLINE):
            pytest.skip("cannot fetch the build backend (offline?): "
                        + proc.stderr.strip().splitlines()[-1])
        pytest.fail(f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (wheel,) = out.glob("stepdown-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def test_the_wheel_carries_migrations_templates_and_static_files(wheel_names):
    names = wheel_names
    assert {"stepdown/catalog/migrations/0001_catalog.sql", "stepdown/web/templates/base.html",
            "stepdown/web/static/app.css"} <= names
    assert any(n.startswith("stepdown/web/templates/") and n.endswith(".html") for n in names)


def test_the_wheel_carries_every_non_python_file_of_the_packages(wheel_names):
    missing = sorted(resource_files() - wheel_names)
    assert not missing, f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"


def test_the_wheel_has_every_package_and_the_console_script(wheel_names):
    for pkg in PACKAGES:
        assert f"{pkg}/__init__.py" in wheel_names
    assert "stepdown/web/app.py" in wheel_names and "stepdown/commands/analyze.py" in wheel_names
    assert any(n.endswith(".dist-info/entry_points.txt") for n in wheel_names)
