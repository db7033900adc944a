"""Demand allocation: segment demand shared by competitiveness, with persistence.

A firm's pull on its segment is capacity x competitiveness^elasticity; its market share
moves each month toward that pull's share (``share_persistence`` keeps customers sticky).
Large firms buy part of their materials from their linked local suppliers (本地配套), which
adds to those suppliers' demand. Attracted plants also bring captive demand of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.economy import YichunModel


def competitiveness(model: YichunModel) -> np.ndarray:
    f, p = model.f, model.params
    return f.productivity * f.quality ** p.quality_weight * (1.0 + p.digital_weight * f.digital)


def allocate_demand(model: YichunModel) -> None:
    f, p, t = model.f, model.params, model.t
    n_seg = model.n_segments
    usable = f.capacity * model.conditions.capacity_factor[t, f.segment] * f.alive
    pull = usable * competitiveness(model) ** p.competitiveness_elasticity
    pull_total = np.bincount(f.segment, pull, minlength=n_seg)
    target = pull / np.where(pull_total > 0, pull_total, 1.0)[f.segment]
    share = p.share_persistence * f.share + (1.0 - p.share_persistence) * target
    share *= f.alive
    share_total = np.bincount(f.segment, share, minlength=n_seg)
    f.share[:] = share / np.where(share_total > 0, share_total, 1.0)[f.segment]

    segment_demand = model.base_demand * model.conditions.real_demand[t]
    growth = model.conditions.real_demand[t] / model.conditions.real_demand[max(t - 1, 0)]
    f.captive_demand *= growth[f.segment]
    f.demand[:] = f.share * segment_demand[f.segment] + f.captive_demand
    f.demand += local_supplier_pull(model)


def local_supplier_pull(model: YichunModel) -> np.ndarray:
    """Real demand each supplier gets from the large firm it supplies, by supplier capacity."""
    f, p = model.f, model.params
    linked = (f.supplier_of >= 0) & f.alive
    pull = np.zeros(f.n)
    if not linked.any():
        return pull
    buyer = f.supplier_of[linked]
    purchases = p.local_sourcing_share * f.volume[buyer] * p.material_cost_share[f.segment[buyer]]
    weight = f.capacity[linked]
    weight_total = np.bincount(buyer, weight, minlength=f.n)
    pull[linked] = purchases * weight / np.where(weight_total[buyer] > 0, weight_total[buyer], 1.0)
    return pull
