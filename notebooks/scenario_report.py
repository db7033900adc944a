# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Scenario report: the 869 plan's 2026 targets. For each run folder (a scenario's ensemble),
# the one-page summary (Chinese with English beside it), then the detail: the probability that
# each 2026 target is met, fan charts of revenue, the consistency of the plan's own targets,
# and the levers that move each probability most. The HTML leaves the code out, so the page
# opens on the summary. Rebuild with `yichun-abm report RUN_DIR [RUN_DIR ...] --out DIR`.
run_dirs = ["../results/baseline"]
figure_dir = "report_figures"
explore_dir = "../results/explore_baseline"          # `yichun-abm explore` output, if any
what_it_takes_dir = "../results/what_it_takes_baseline"  # `yichun-abm what-it-takes` output
attribution_dir = "../results/attribution_baseline"      # `yichun-abm attribute` output

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # mesa imports tqdm.auto
import json
import re
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from model.analysis.compare import comparison_tables, fan_charts, load_run
from model.analysis.consistency import consistency_table
from model.analysis.targets import percent  # the one rounding rule for probabilities
from model.reporting.summary import inert_markdown, summary_html_fragment

runs = [load_run(Path(d)) for d in run_dirs]
names = [r.name for r in runs]
# the one-page summary first (Chinese with English beside it), one per scenario
for r in runs:
    display(HTML(summary_html_fragment(r.folder)))

# %% [markdown]
# # Detail 详细结果
# Scenarios: the run folders above. Probabilities are shares of replications meeting each
# target, with 95% Wilson intervals for the Monte-Carlo error; revenues in 亿元.

# %% [markdown]
# ## Probability that each target is met, by scenario

# %%
table = pd.DataFrame({
    f"P(met) {r.name}": {t["description"]: f"{percent(t['probability'])} "
                                           f"[{percent(t['probability_low'])}–{percent(t['probability_high'])}]"
                         for t in r.targets} for r in runs})
table.insert(0, "2026 target", [f"{float(t['target_value']):g}" for t in runs[0].targets])
table[f"median 2026 ({names[0]})"] = [f"{float(t['median_2026']):,.4g}" for t in runs[0].targets]
display(table)

# %% [markdown]
# ## Revenue fan charts (median, 50% and 90% bands)

# %%
fig_dir = Path(figure_dir)
for name in fan_charts(runs, fig_dir):
    display(Image(filename=str(fig_dir / name)))

# %% [markdown]
# ## Are the plan's own targets consistent?

# %%
_, consistency_md = consistency_table(runs[0].yearly)
display(Markdown(inert_markdown(consistency_md)))

# %% [markdown]
# ## Which levers move each probability most
#
# Each scenario differs from the first in the levers listed; the table gives, for each target,
# the scenario whose probability differs most from the first, when the difference exceeds its
# Monte-Carlo error (* in the comparison table).

# %%
def changed_levers(run_dir: Path, base_dir: Path) -> list[str]:
    a = json.loads((run_dir / "manifest.json").read_text())["scenario_resolved"]
    b = json.loads((base_dir / "manifest.json").read_text())["scenario_resolved"]

    def walk(x, y, prefix=""):
        if isinstance(x, dict) and isinstance(y, dict):
            out = []
            for k in sorted(set(x) | set(y)):
                if k in ("name", "question", "run"):
                    continue
                out += walk(x.get(k), y.get(k), f"{prefix}.{k}" if prefix else k)
            return out
        return [prefix] if x != y else []

    return walk(a, b)


if len(runs) == 1:
    display(Markdown("*One scenario only: give `yichun-abm report` two or more run folders "
                     "(on the same seed) to compare them.*"))
levers = {r.name: changed_levers(r.folder, runs[0].folder) for r in runs[1:]}
for name, keys in levers.items():
    display(Markdown(inert_markdown(f"**{name}** changes: "
                                    + (", ".join(f"`{k}`" for k in keys) or "nothing"))))

rows = []
if len(runs) > 1:
    csv_text, md, common = comparison_tables(runs)
    comp = pd.read_csv(pd.io.common.StringIO(csv_text))
    probs = comp[comp["kind"] == "probability"]
    for _, row in probs.iterrows():
        deltas = {n: row[f"{n}_minus_{names[0]}"] for n in names[1:]}
        best = max(deltas, key=lambda n: abs(deltas[n]))
        significant = str(row[f"{best}_beyond_mc_error"]).lower() == "true"
        rows.append({"target": row["item"], "largest change": best if significant else "none",
                     "Δ probability": f"{deltas[best]:+.0%}" if significant else "—"})
    display(pd.DataFrame(rows))

# %% [markdown]
# ## Full comparison (Δ from the first scenario; * beyond Monte-Carlo error)

# %%
if len(runs) > 1:
    display(Markdown(inert_markdown(md)))
else:
    display(Markdown("*Nothing to compare with one scenario.*"))


# %% [markdown]
# ## Why targets fail: conditions under which each target is met or missed
# From `yichun-abm explore`: PRIM boxes over levers and uncertainties (coverage: share of the
# runs with that outcome inside the box; density: share of runs in the box with that outcome).

# %%
def show_page(folder: str, name: str, missing: str) -> None:
    path = Path(folder) / name
    if not path.is_file():
        display(Markdown(f"*{missing}*"))
        return
    text = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[-1]
    # figures are embedded in the page (a link to this machine's path breaks when it is shared)
    pictures = re.findall(r"!\[[^\]]*\]\(figures/([A-Za-z0-9_.-]+\.png)\)", text)
    display(Markdown(inert_markdown(re.sub(r"!\[[^\]]*\]\(figures/[^)]*\)", "", text))))
    for name in pictures:
        figure = Path(folder) / "figures" / name
        if figure.is_file():
            display(Image(filename=str(figure)))


show_page(explore_dir, "discovery.md", "No exploration yet: run `yichun-abm explore`.")

# %% [markdown]
# ## What it would take
# From `yichun-abm what-it-takes`: the cheapest lever package reaching each target with
# P ≥ 0.5 and P ≥ 0.8, each confirmed by a fresh ensemble.

# %%
show_page(what_it_takes_dir, "what_it_takes.md", "No answer yet: run `yichun-abm what-it-takes`.")

# %% [markdown]
# ## What each policy contributed 政策贡献
# From `yichun-abm attribute`: the difference between the scenario and its counterfactual
# (no_new_policy) split among the plan's policy groups by Shapley values, year by year, with
# the cost-effectiveness of the funds and awards.

# %%
show_page(attribution_dir, "attribution.md", "No attribution yet: run `yichun-abm attribute`.")
