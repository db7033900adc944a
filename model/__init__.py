"""Agent-based model of Yichun's manufacturing economy (the "869" plan, 2022–2026).

Firm state lives in numpy arrays (:mod:`model.state`); every firm is also a Mesa
agent (:class:`model.agents.Enterprise`) whose attributes read and write those
arrays. The monthly step (:func:`model.step.one_step`) runs the economy's sequence
(demand, production, investment, accounts, entry and exit, statistics) over those arrays.
"""

import os

# The step's matrix products are small (firms x ~13 scopes): BLAS threads only contend with
# the ensemble's worker processes. One thread each, unless the user set otherwise.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__all__ = ["YichunModel", "load_scenario"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``model.YichunModel`` and ``model.load_scenario`` are imported when first used, so the
    command line checks a file without loading Mesa and the engine (about a second)."""
    if name == "YichunModel":
        from model.economy import YichunModel

        return YichunModel
    if name == "load_scenario":
        from model.scenario import load_scenario

        return load_scenario
    raise AttributeError(f"module 'model' has no attribute {name!r}")
