"""One month of the economy, as an economic sequence (README, "How the model works").

Every line is one mechanism acting on all firms' arrays at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model.mechanisms import (
    demography,
    innovation,
    investment,
    market,
    production,
    projects,
    statuses,
)

if TYPE_CHECKING:
    from model.economy import YichunModel


def one_step(model: YichunModel) -> None:
    production.open_month(model)
    if model.t % 12 == 0 and model.t > 0:      # January: close the books of last year
        demography.roll_year(model)
        statuses.recognise_leaders(model)       # 7. statuses and awards
        statuses.milestone_awards(model)
        statuses.gazelle_awards(model)
    # 1. outside conditions are precomputed per month (model.conditions)
    market.allocate_demand(model)               # 2. demand allocation
    production.produce(model)                   # 3. production, revenue, costs, value added
    innovation.research(model)                  # 5. R&D
    investment.invest(model)                    # 4. investment: expectations, capacity
    investment.upgrade_projects(model, "upgrade")
    investment.upgrade_projects(model, "digital")
    production.close_accounts(model)            #    profit, tax, cash, debt
    projects.sign_projects(model)               # 6. entry and exit
    projects.advance_projects(model)            #    finished projects: hosts expand, plants wait
    demography.close_firms(model)
    demography.enter_small_firms(model)
    demography.open_firms(model)                #    new plants and small entrants open together
    demography.count_new_plants(model)
    model.recorder.record_month()               # 8. statistics
