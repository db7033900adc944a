"""Are the plan's own targets consistent? Chain targets against each other and the 9% path.

The eight chain targets add to 9300 亿 while 9% a year from 2022's 5094.6 亿 gives about
7192 亿 of above-scale revenue in 2026. The gap has three sources the table separates:
full-chain scopes (biomed and food count farming, trade and services), chain overlaps
(batteries count in lithium and electronics), and industry outside the chains, which the
city total includes and the chains do not. Where a run is given, the model's 2026 medians
measure the last two.
"""

from __future__ import annotations

import io

import numpy as np

from model.facts import load_facts
from model.runner import YEARLY_STATS
from model.statistics import YEARS
from model.structure import CHAIN_NAMES_EN, CHAIN_NAMES_ZH, CHAINS, SCOPES


def plan_figures() -> dict[str, float]:
    facts = load_facts()
    base = float(facts.observation("rev_2022").value)
    rate = facts.targets_2026["above_scale_revenue_cagr_pct"]["value"] / 100.0
    chains = facts.targets_2026["chain_revenue"]
    full = sum(chains[c]["value"] for c in CHAINS)
    core = sum(chains[c].get("core", chains[c]["value"]) for c in CHAINS)
    return {"base_2022": base, "path_2026": base * (1 + rate) ** 4, "chains_full": full,
            "chains_core": core}


def consistency_table(yearly: np.ndarray | None = None) -> tuple[str, str]:
    """(CSV, Markdown) of the consistency check; `yearly` is (replications, years, scopes, stats)."""
    facts = load_facts()
    chains = facts.targets_2026["chain_revenue"]
    fig = plan_figures()
    model_2026: dict[str, float] = {}
    if yearly is not None:
        y = YEARS.index(2026)

        def median(scope: str, stat: str) -> float:
            return float(np.nanmedian(yearly[:, y, SCOPES.index(scope), YEARLY_STATS.index(stat)]))

        def per_run(scope: str, stat: str) -> np.ndarray:
            return yearly[:, y, SCOPES.index(scope), YEARLY_STATS.index(stat)]

        chain_sums = sum(per_run(c, "revenue_all_firms") for c in CHAINS)
        double = per_run("total", "revenue_double_counted")
        outside = per_run("total", "revenue_all_firms") - (chain_sums - double)
        model_2026 = {c: median(c, "revenue_all_firms") for c in CHAINS}
        model_2026.update(sum=float(np.nanmedian(chain_sums)), double_counted=float(np.nanmedian(double)),
                          outside_chains=float(np.nanmedian(outside)),
                          total_all=median("total", "revenue_all_firms"),
                          total_above=median("total", "revenue"))
    rows = []
    for c in CHAINS:
        t = chains[c]
        rows.append((f"{CHAIN_NAMES_EN[c]} ({CHAIN_NAMES_ZH[c]})", t["value"],
                     "full chain" if t.get("scope") == "full_chain" else "chain",
                     t.get("core", t["value"]), model_2026.get(c, np.nan)))
    csv = io.StringIO()
    csv.write("item,target_full_yi,scope,target_core_manufacturing_yi,model_median_2026_yi\n")
    for name, full, scope, core, model in rows:
        csv.write(f'"{name}",{full},{scope},{core},{"" if np.isnan(model) else f"{model:.1f}"}\n')
    csv.write(f"sum of chain targets,{fig['chains_full']},,{fig['chains_core']},"
              f"{model_2026.get('sum', '')}\n")
    csv.write(f"9% a year from 2022 (all above-scale industry),{fig['path_2026']:.1f},,,"
              f"{model_2026.get('total_above', '')}\n")

    md = ["| chain | 2026 target (亿元) | scope | core manufacturing | model median 2026 |",
          "| --- | ---: | --- | ---: | ---: |"]
    for name, full, scope, core, model in rows:
        md.append(f"| {name} | {full:g} | {scope} | {core:g} | "
                  f"{'' if np.isnan(model) else f'{model:.0f}'} |")
    md.append(f"| **sum of the eight chains** | **{fig['chains_full']:g}** | | "
              f"**{fig['chains_core']:g}** | {model_2026.get('sum', float('nan')):.0f} |")
    md.append(f"| **9% a year from 2022's {fig['base_2022']:g} (all above-scale industry)** | "
              f"**{fig['path_2026']:.0f}** | | | {model_2026.get('total_above', float('nan')):.0f} |")
    md += ["", (
        f"The chain targets add to {fig['chains_full']:g} 亿, {fig['chains_full'] / fig['path_2026']:.2f} "
        f"times the {fig['path_2026']:.0f} 亿 that 9% a year gives the whole of above-scale industry "
        "in 2026. Three things separate them. (1) Scope: the biomedicine and green-food targets are "
        "full-chain figures that include farming, trade and services; with their core-manufacturing "
        f"targets instead the chains add to {fig['chains_core']:g} 亿. (2) Overlap: a firm counts in "
        "every chain it belongs to (annex 5 says electronics is today mainly lithium materials and "
        "batteries), so chain revenues double count. (3) Industry outside the eight chains (power, "
        "chemicals and others) is in the city total but in no chain.")]
    if model_2026:
        md.append("")
        md.append(
            f"In this run's median 2026, chain revenues add to {model_2026['sum']:.0f} 亿, of which "
            f"{model_2026['double_counted']:.0f} 亿 is double counting; industry outside the chains "
            f"adds {model_2026['outside_chains']:.0f} 亿; all firms together make "
            f"{model_2026['total_all']:.0f} 亿 and above-scale firms {model_2026['total_above']:.0f} 亿. "
            "Even the core-manufacturing chain targets, net of the modelled double counting and plus "
            f"the modelled non-chain industry, would need about "
            f"{fig['chains_core'] - model_2026['double_counted'] + model_2026['outside_chains']:.0f} "
            f"亿 in 2026 against the 9% path's {fig['path_2026']:.0f} 亿.")
    return csv.getvalue(), "\n".join(md) + "\n"
