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
# # Calibration fit
#
# Observations against the posterior predictive, parameter posteriors against their priors,
# and which observations fit badly or pull against each other. The numbers come from the
# posterior folder written by `yichun-abm calibrate`.

# %% tags=["parameters"]
posterior = "../calibration/posterior/default"

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # mesa imports tqdm.auto
import json
from pathlib import Path

import pandas as pd
from IPython.display import Image, Markdown, display

folder = Path(posterior)
manifest = json.loads((folder / "manifest.json").read_text())
fit = pd.read_csv(folder / "fit.csv")
display(Markdown(
    f"Calibration **{manifest['name']}** ({manifest['method']}): "
    f"{manifest['total_simulations']} simulations, {manifest['accepted']} kept nearest the data "
    f"(effective sample size {manifest['effective_sample_size']:.0f}); "
    f"{manifest['posterior_draws']} posterior draws."))

# %% [markdown]
# ## Each observation against the posterior predictive
# z = (simulated median − observed) / sd. |z| > 2 marks a bad fit.

# %%
fit[["observation", "observed", "sd", "sim_median", "sim_p05", "sim_p95", "z", "used"]].round(2)

# %%
display(Image(filename=str(folder / "figures" / "posterior_predictive.png")))
bad = fit[(fit["used"]) & (fit["z"].abs() > 2)]
display(Markdown("**Fitting badly:** " + (", ".join(bad["observation"]) or "none")))

# %% [markdown]
# ## Parameter posteriors

# %%
summary = pd.DataFrame(manifest["posterior_summary"]).T
summary.round(4)

# %%
display(Image(filename=str(folder / "figures" / "parameter_posteriors.png")))

# %% [markdown]
# ## Honesty of the intervals, forecasts, tensions (from the fit report)
# Synthetic recovery (coverage of 90% intervals, rank histograms), rolling-origin forecasts
# against naive ones, and observations that pull against each other.

# %%
text = (folder / "fit.md").read_text()
start = min(i for i in (text.find("## Synthetic recovery"), text.find("## Rolling-origin"),
                        text.find("## Observations that pull against each other")) if i >= 0)
display(Markdown(text[start:text.find("![posterior predictive]")]))
