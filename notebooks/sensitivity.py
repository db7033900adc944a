# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Global sensitivity: which levers and conditions matter?
#
# Morris elementary effects (SALib) of policy levers and outside conditions on the probability
# of 9% a year over 2023–2026 and on 2026 above-scale revenue; mu* with its 95% bootstrap
# confidence interval. The levers and their ranges are in `model/sensitivity.py`. The defaults
# below are small so the notebook runs in CI; raise `trajectories` and `replications` for a
# real study (cost: trajectories × (levers + 1) × replications runs).

# %% tags=["parameters"]
scenario = "../scenarios/baseline.yaml"
trajectories = 2
replications = 1
population_scale = 0.3
seed = 7

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # mesa imports tqdm.auto
import matplotlib.pyplot as plt
import pandas as pd

from model import load_scenario
from model.sensitivity import LEVERS, morris

sc = load_scenario(scenario).updated({"run": {"population_scale": population_scale}})
result = morris(sc, trajectories=trajectories, replications=replications, seed=seed)
print(f"{len(result['design'])} design points x {replications} replications")

# %%
tables = {}
for outcome in ("p_9pct", "revenue_2026"):
    res = result[outcome]
    tables[outcome] = pd.DataFrame({"mu_star": res["mu_star"], "mu_star_conf_95": res["mu_star_conf"],
                                    "sigma": res["sigma"]},
                                   index=res["names"]).sort_values("mu_star", ascending=False)
pd.concat(tables, axis=1).round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, (outcome, title) in zip(axes, (("p_9pct", "P(9% a year, 2023-2026)"),
                                       ("revenue_2026", "2026 above-scale revenue, 亿元")),
                                strict=True):
    t = tables[outcome]
    ax.barh(t.index, t["mu_star"], xerr=t["mu_star_conf_95"], color="#6baed6")
    ax.set(title=f"Morris mu* of {title}", xlabel="mean absolute elementary effect")
    ax.invert_yaxis()
plt.tight_layout()
plt.show()
pd.DataFrame({"lever": [lv.name for lv in LEVERS], "range": [f"{lv.low:g}–{lv.high:g}" for lv in LEVERS],
              "meaning": [lv.meaning for lv in LEVERS]})
