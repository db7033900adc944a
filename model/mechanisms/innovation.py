"""R&D: intensity moves toward a target raised by the super-deduction; success is stochastic.

The after-tax subsidy of R&D is ``extra_deduction_rate x tax_rate`` (0.25 under the 2021
rule of a 100% extra deduction), and the target intensity responds to it with elasticity
``rd_response`` relative to that 2021 rule. Each month a firm innovates with probability
1 - exp(-rate x intensity / 12) (``rd_success_rate`` a year per 1% of revenue); a success
raises productivity and the quality stock by an exponential gain.

Productivity is Hicks-neutral total factor productivity: the same plant, workers and
materials make (1 + gain) times the output. So a gain lowers the unit cost of what is made
(``production``) and raises what the plant can make, its capacity, with elasticity
``tfp_output_elasticity`` (1 for neutral TFP; 0 leaves only the cost channel, the rule of
earlier rounds under which more R&D lowered revenue, issue 25).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.jit import jit
from model.state import firm_arrays

if TYPE_CHECKING:
    from model.economy import YichunModel

BASE_RD_SUBSIDY = 1.0 * 0.25  # the 2021 rule: 100% extra deduction at 25% income tax


def research(model: YichunModel) -> None:
    f, p, t, rng = model.f, model.params, model.t, model.stream("innovation")
    deduction = model.policy.instruments.rd_super_deduction.extra_deduction_rate
    subsidy = deduction * p.tax_rate
    policy_factor = (1 + p.rd_response * subsidy) / (1 + p.rd_response * BASE_RD_SUBSIDY)
    trend = (1 + p.rd_trend) ** ((t + 6) / 12)
    draw = rng.random(f.n)
    near, negative_hazard = _adjust_rd(model.arrays(_RD), draw, trend, policy_factor,
                                       p.rd_adjustment, p.rd_success_rate)
    success = near[draw[near] < -np.expm1(negative_hazard)]
    gain = rng.exponential(p.rd_gain_mean, success.size)
    raise_tfp(model, success, gain)
    f.quality[success] *= 1.0 + gain


def raise_tfp(model: YichunModel, firms: np.ndarray, gain: np.ndarray | float) -> None:
    """Firms' TFP rises by `gain`: unit costs fall and capacity (output of the same plant)
    rises, with ``tfp_output_elasticity``."""
    f = model.f
    f.productivity[firms] *= 1.0 + gain
    f.capacity[firms] *= (1.0 + gain) ** model.params.tfp_output_elasticity


_RD = firm_arrays("_RD", (
    "rd_base", "rd_intensity", "alive"), __name__)


@jit
def _adjust_rd(f, draw, trend, policy_factor, adjustment, success_rate):  # noqa: ANN001, ANN202
    """R&D intensity moves toward its target. A live firm innovates when its draw falls below
    1 - exp(-hazard), which is below the hazard itself: returns the live firms whose draw falls
    below their hazard (the only ones that can succeed, a few percent) and minus their hazards,
    so that numpy's expm1 is taken for those alone."""
    near = np.empty(f.n, dtype=np.int64)
    negative_hazard = np.empty(f.n)
    count = 0
    for i in range(f.n):
        target = f.rd_base[i] * trend * policy_factor
        f.rd_intensity[i] += adjustment * (target - f.rd_intensity[i])
        hazard = success_rate * f.rd_intensity[i] * 100.0 / 12.0
        if f.alive[i] and draw[i] < hazard:
            near[count], negative_hazard[count] = i, -hazard
            count += 1
    return near[:count], negative_hazard[:count]
