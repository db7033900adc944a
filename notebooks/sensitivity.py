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
# Sobol indices (SALib) of the probability of 9% a year over 2023–2026 and of 2026 above-scale
# revenue to the levers and uncertainties of `scenarios/explore/space.yaml`, with posterior
# draws in every point and bootstrap 95% intervals. The notebook reads the output of
# `yichun-abm sobol` (default folder `results/sobol_baseline`); when there is none it runs a
# small design so that it still executes (raise `base_samples` and `replications` for a study:
# cost base_samples × (inputs + 2) × replications runs).

# %% tags=["parameters"]
sobol_dir = "../results/sobol_baseline"
scenario = "../scenarios/baseline.yaml"
base_samples = 4
replications = 1
population_scale = 0.3

# %%
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="IProgress not found")  # mesa imports tqdm.auto
import matplotlib.pyplot as plt
import pandas as pd

from model import load_scenario
from model.analysis.sobol import sobol_indices
from model.analysis.space import load_space

folder = Path(sobol_dir)
if (folder / "sobol.csv").is_file():
    indices = pd.read_csv(folder / "sobol.csv")
    print(f"read {folder / 'sobol.csv'}")
else:
    sc = load_scenario(scenario).updated({"run": {"population_scale": population_scale}})
    folder = Path(tempfile.mkdtemp())
    indices = sobol_indices(sc, load_space(), base_samples, replications, folder,
                            sc.spec.run.seed, None)
    print(f"no {sobol_dir}/sobol.csv: a small design ({base_samples} base samples, "
          f"{replications} replication, population scale {population_scale}) run here")

# %%
indices.pivot(index="input", columns="outcome", values=["S1", "ST"]).round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for ax, (outcome, title) in zip(axes, (("p_9pct", "P(9% a year, 2023-2026)"),
                                       ("revenue_2026", "2026 above-scale revenue")), strict=True):
    t = indices[indices.outcome == outcome].sort_values("ST")
    ax.barh(t["input"], t["ST"], xerr=t["ST_conf"], color="#6baed6", label="total (ST)")
    ax.barh(t["input"], t["S1"].clip(lower=0), color="#08519c", height=0.4, label="first order (S1)")
    ax.set(title=f"Sobol indices of {title}", xlabel="share of variance")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
