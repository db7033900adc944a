"""Where the project's own data live (never ../shared at run time)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FACTS_FILE = PROJECT_ROOT / "calibration" / "data" / "yichun_facts.yaml"
DEFAULTS_FILE = PROJECT_ROOT / "model" / "defaults.yaml"
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
RESULTS_DIR = PROJECT_ROOT / "results"
ANCHORS_FILE = PROJECT_ROOT / "model" / "anchors.yaml"
