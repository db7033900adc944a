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
# # Enterprise explorer: the firms as Mesa agents
#
# One baseline run, then the firms through Mesa's `AgentSet`: the size distribution against a
# Zipf tail, growth rates against the Laplace shape, growth volatility against size, and the
# subsidies firms and chains received.

# %% tags=["parameters"]
scenario = "../scenarios/baseline.yaml"
seed = 1
population_scale = 1.0

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # mesa imports tqdm.auto
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from scipy import stats

from model import YichunModel, load_scenario
from model.agents import Enterprise
from model.reporting.figures import chain_label
from model.structure import CHAINS

sc = load_scenario(scenario).updated({"run": {"population_scale": population_scale}})
model = YichunModel(sc, seed=seed).run()
firms = model.agents_by_type[Enterprise].select(lambda a: a.alive and a.above_scale)
print(f"{len(firms)} above-scale firms alive at the end of 2026 (of {len(model.agents) - 1} agents)")
biggest = max(firms, key=lambda a: a.revenue_ytd)
print("largest firm:", biggest, biggest.chains)

# %% [markdown]
# ## Stylised facts of firm dynamics
# What firm data show (growth-rate interquartile range about 0.25-0.35; volatility falling
# with size, slope about −0.15 to −0.2; a Zipf tail with index near 1) against this run and
# four more seeds: the volatility slope, estimated over ten size deciles of about 200 firms
# each, varies by ±0.05 from run to run, so one run alone says little about it.

# %%
from model.stylised import stylised_facts

facts = stylised_facts(model)
more = [stylised_facts(YichunModel(sc, seed=seed + k).run()) for k in range(1, 5)]
runs = pd.DataFrame([facts, *more])
display(pd.DataFrame({
    f"model, seed {seed}": [round(v, 3) for v in facts.values()],
    "model, mean of 5 seeds": runs.mean().round(3).values,
    "model, range": [f"{lo:.3f} to {hi:.3f}" for lo, hi in zip(runs.min(), runs.max(), strict=True)],
    "firm data": ["≥ 0.25", "−0.2 to −0.1", "0.8 to 1.2"],
}, index=["growth-rate IQR, 2025→2026", "volatility-size slope", "Zipf index of 2026 revenue"]))

# %% [markdown]
# ## Size distribution against a Zipf tail
# Rank against 2026 revenue on log scales; Zipf's law is a slope of −1.

# %%
revenue = np.sort(np.array(firms.get("revenue_ytd")))[::-1]
rank = np.arange(1, revenue.size + 1)
top = revenue >= 1.0
slope, intercept = np.polyfit(np.log(revenue[top]), np.log(rank[top]), 1)
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(revenue, rank, ".", ms=3, label="firms (above-scale, 2026)")
ax.loglog(revenue[top], np.exp(intercept) * revenue[top] ** slope, "r-",
          label=f"fit over 1 亿: slope {slope:.2f} (Zipf: −1)")
ax.set(xlabel="2026 revenue, 亿元", ylabel="rank", title="Rank-size plot 企业规模分布")
ax.legend()
plt.show()

# %% [markdown]
# ## Growth rates against the Laplace shape
# Log growth of revenue 2025→2026 of firms alive both years; firm growth rates are known to
# follow a tent-shaped (Laplace) density rather than a normal one (Stanley et al. 1996).

# %%
last = np.array(firms.get("revenue_last_year"))
now = np.array(firms.get("revenue_ytd"))
ok = (last > 0.2) & (now > 0)
growth = np.log(now[ok] / last[ok])
loc, scale = stats.laplace.fit(growth)
mu, sd = stats.norm.fit(growth)
fig, ax = plt.subplots(figsize=(6, 4))
ax.hist(growth, bins=80, density=True, alpha=0.6, label="model firms")
grid = np.linspace(growth.min(), growth.max(), 400)
ax.semilogy(grid, stats.laplace.pdf(grid, loc, scale), "r-", label=f"Laplace (b={scale:.3f})")
ax.semilogy(grid, stats.norm.pdf(grid, mu, sd), "k--", label="normal")
ax.set(xlabel="log growth of revenue, 2025→2026", ylabel="density (log scale)",
       title="Growth-rate distribution 企业增长率分布")
ax.legend()
plt.show()
print(f"log-likelihood per firm: Laplace {stats.laplace.logpdf(growth, loc, scale).mean():.3f}, "
      f"normal {stats.norm.logpdf(growth, mu, sd).mean():.3f}")

# %% [markdown]
# ## Growth volatility against size
# The standard deviation of growth falls with size as a power law (exponent about −0.2 in
# firm data).

# %%
size = last[ok]
bins = np.quantile(size, np.linspace(0, 1, 11))
which = np.clip(np.digitize(size, bins) - 1, 0, 9)
mid = np.array([np.median(size[which == b]) for b in range(10)])
vol = np.array([growth[which == b].std() for b in range(10)])
beta, alpha = np.polyfit(np.log(mid), np.log(vol), 1)
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(mid, vol, "o-", label=f"size deciles; slope {beta:.2f}")
ax.set(xlabel="2025 revenue, 亿元", ylabel="sd of log growth", title="Volatility against size")
ax.legend()
plt.show()

# %% [markdown]
# ## Subsidies received, by firm and by chain
# Every payment is in the government's ledger; chains overlap (a battery maker counts twice).

# %%
ledger = pd.DataFrame(model.government.ledger())
by_firm = ledger.groupby("firm")["amount"].sum().sort_values(ascending=False)
top_firms = pd.DataFrame({
    "firm": [repr(model.enterprises[i]) for i in by_firm.index[:10]],
    "chains": [", ".join(model.enterprises[i].chains) for i in by_firm.index[:10]],
    "subsidies 万元": (by_firm.values[:10] * 1e4).round(1)})
display(top_firms)
member = model.firms.member[: model.firms.n]
by_chain = {chain_label(c): float(ledger["amount"].values @ member[ledger["firm"].values, j])
            for j, c in enumerate(CHAINS)}
by_instrument = ledger.groupby("instrument")["amount"].sum()
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
axes[0].barh(list(by_chain), np.array(list(by_chain.values())) * 1e4)
axes[0].set(xlabel="万元 over 2022-2026", title="Subsidies by chain 各产业链补贴")
axes[1].barh(by_instrument.index, by_instrument.values * 1e4)
axes[1].set(xlabel="万元 over 2022-2026", title="Subsidies by instrument")
plt.tight_layout()
plt.show()
