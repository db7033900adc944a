"""Where the project's own data live (never ../shared at run time), and where outputs go.

In a clone the data sit in the project's top-level folders (``scenarios/``, ``calibration/``,
``notebooks/``); an installed package carries the same folders as package data under
``model/shipped/`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml). Outputs go to
``results/`` under the working directory.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_SHIPPED = PACKAGE_DIR / "shipped"
#: The folder holding scenarios/, calibration/ and notebooks/: the clone, or the installed package.
PROJECT_ROOT = _SHIPPED if _SHIPPED.is_dir() else PACKAGE_DIR.parent
IS_CLONE = (PROJECT_ROOT / ".git").exists()
FACTS_FILE = PROJECT_ROOT / "calibration" / "data" / "yichun_facts.yaml"
DEFAULTS_FILE = PACKAGE_DIR / "defaults.yaml"
ANCHORS_FILE = PACKAGE_DIR / "anchors.yaml"
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
POSTERIOR_DIR = PROJECT_ROOT / "calibration" / "posterior"
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
BASELINE = SCENARIO_DIR / "baseline.yaml"


def results_dir() -> Path:
    """Where run folders go unless ``--out`` says otherwise: ``results/`` in the working directory."""
    return Path.cwd() / "results"
