"""Public functions say what they take and give: numpydoc sections (Parameters, Returns) in
every module of analysis/, calibration/, sensor_io/, simulator/ and stepdown/ (the
application), checked by numpydoc's own validator, and a docstring on every public function
and class of those packages."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

from analysis.result import field_docs

numpydoc_validate = pytest.importorskip("numpydoc.validate", reason="numpydoc (dev dependency)")

ROOT = Path(__file__).resolve().parents[1]
NUMPYDOC_PACKAGES = ("analysis", "calibration", "sensor_io", "simulator", "stepdown")
NEVER_IMPORTED = ("stepdown.__main__",)
"""Modules the check must not import: ``stepdown.__main__`` runs the CLI on import."""


def modules_of(packages: tuple[str, ...]) -> tuple[str, ...]:
    """Every module of the packages, the packages included (not :data:`NEVER_IMPORTED`)."""
    names = []
    for pkg in packages:
        names.append(pkg)
        path = importlib.import_module(pkg).__path__
        names += [m.name for m in pkgutil.walk_packages(path, f"{pkg}.")
                  if m.name not in NEVER_IMPORTED]
    return tuple(names)


CONVERTED_MODULES = modules_of(NUMPYDOC_PACKAGES)
"""Every module of the five packages: their public docstrings follow numpydoc."""
CHECKS = {"GL08", "PR01", "PR02", "PR07", "RT01"}
"""numpydoc codes enforced: a docstring, every parameter documented (with a description),
no documented parameter that does not exist, a Returns section where one is returned."""
DOCUMENTED_PACKAGES = ("simulator", "calibration", "analysis", "sensor_io", "stepdown")


def public_objects(module_name: str) -> list[str]:
    """Dotted names of the module's own public functions, classes and their public methods."""
    module = importlib.import_module(module_name)
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if inspect.isfunction(obj):
            names.append(f"{module_name}.{name}")
        elif inspect.isclass(obj):
            names.append(f"{module_name}.{name}")
            names += [f"{module_name}.{name}.{m}" for m, f in vars(obj).items()
                      if not m.startswith("_") and (inspect.isfunction(f) or isinstance(
                          f, classmethod | staticmethod | property))]
    return names


def fields_documented(name: str) -> bool:
    """A dataclass whose every field has a docstring under it (units stay beside the field,
    as analysis.result.field_docs reads them), in place of a Parameters section."""
    module_name, _, attr = name.rpartition(".")
    if module_name not in CONVERTED_MODULES:  # a method: Class.method
        return False
    cls = getattr(importlib.import_module(module_name), attr, None)
    if not (inspect.isclass(cls) and dataclasses.is_dataclass(cls)):
        return False
    return set(field_docs(cls)) >= {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("module_name", CONVERTED_MODULES)
def test_numpydoc_sections_in_the_converted_modules(module_name):
    problems = []
    for name in public_objects(module_name):
        result = numpydoc_validate.validate(name)
        codes = CHECKS - ({"PR01"} if fields_documented(name) else set())
        problems += [f"{name}: {code} {msg}" for code, msg in result["errors"] if code in codes]
    assert not problems, "\n".join(problems)


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for pkg in DOCUMENTED_PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                        and not node.name.startswith("_") and not ast.get_docstring(node):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not missing, missing


def test_the_validator_sees_an_undocumented_parameter():
    def scale(x: float, factor: float) -> float:
        """Scale a value.

        Parameters
        ----------
        x : float
            The value.

        Returns
        -------
        float
            ``x * factor``.
        """
        return x * factor

    scale.__module__ = __name__
    globals()["_scale_example"] = scale
    codes = {code for code, _ in numpydoc_validate.validate(f"{__name__}._scale_example")["errors"]}
    assert "PR01" in codes
