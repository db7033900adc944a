"""Agent-based model of Yichun's manufacturing economy (the "869" plan, 2022–2026).

Firm state lives in numpy arrays (:mod:`model.state`); every firm is also a Mesa
agent (:class:`model.agents.Enterprise`) whose attributes read and write those
arrays. The monthly step (:func:`model.step.one_step`) is the economic sequence of
DESIGN section 5 over those arrays.
"""

from model.economy import YichunModel
from model.scenario import load_scenario

__all__ = ["YichunModel", "load_scenario"]
__version__ = "0.1.0"
