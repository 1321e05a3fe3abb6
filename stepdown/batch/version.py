"""Which analysis made a result: the version string and the configuration with its id.

A result is redone when either changes. ``analysis_version()`` names the package
version, the analysis JSON format version and the shipped classifier model (its
SHA-256 prefix), so a new release or a retrained model refreshes old results;
``config_id`` is a hash of the batch's rule settings, so new thresholds do too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import lru_cache
from importlib import metadata

from analysis.model_info import shipped_model_path
from analysis.pipeline import ANALYSIS_VERSION
from analysis.rules import RuleConfig


@lru_cache(maxsize=1)
def analysis_version() -> str:
    """'stepdown 0.1.0, analysis 1, model 1a2b3c4d' (model 'none' when none is shipped)."""
    try:
        package = metadata.version("stepdown")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        package = "unknown"
    model = shipped_model_path()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:8] if model.is_file() else "none"
    return f"stepdown {package}, analysis {ANALYSIS_VERSION}, model {digest}"


def config_json(config: RuleConfig) -> str:
    """The rule settings as compact JSON with sorted keys (where each came from left out).

    Parameters
    ----------
    config : RuleConfig
        The rule settings.

    Returns
    -------
    str
        The JSON text.
    """
    settings = {k: v for k, v in asdict(config).items() if k != "origins"}
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))


def config_id(config: RuleConfig) -> str:
    """12 hex digits identifying the rule settings (the same settings, the same id).

    Parameters
    ----------
    config : RuleConfig
        The rule settings.

    Returns
    -------
    str
        The first 12 hex digits of the SHA-256 of :func:`config_json`.
    """
    return hashlib.sha256(config_json(config).encode()).hexdigest()[:12]

