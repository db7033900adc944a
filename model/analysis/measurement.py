"""What the statistics office's measure does with the model's volumes, read from a run.

Three tables for ``report.md`` and ``measurement.csv`` (issue 25):

- the lithium chain's measured real value-added growth (same firms, comparable prices) beside
  the growth of its physical volumes (carbonate tonnes, materials tonnes, cell GWh; the
  applications stage by its measured growth, having no unit), weighted by each stage's value
  added of the year before, as the bureau weights industries;
- each scope's value-added ratio (增加值率) per year: the weights of the next year's measure;
- above-scale and live firms, 2021-2026.

Medians over replications with 5-95% bands; the gap between measured and physical growth is
taken replication by replication.
"""

from __future__ import annotations

import io

import numpy as np

from model.runner import YEARLY_STATS
from model.statistics import YEARS
from model.structure import SCOPES

#: the lithium chain's stages: (scope, physical statistic or None for the measured growth)
STAGES = (("li_upstream", "carbonate_tonnes"), ("li_materials", "materials_tonnes"),
          ("li_cells", "battery_gwh"), ("li_applications", None))
RATIO_SCOPES = ("total", "lithium", "li_upstream", "li_materials", "li_cells", "li_applications",
                "circular", "building", "biomed", "electronics", "food", "equipment", "textile",
                "etdz")


def _stat(yearly: np.ndarray, scope: str, statistic: str) -> np.ndarray:
    """(replications, years) of one statistic in one scope."""
    return yearly[:, :, SCOPES.index(scope), YEARLY_STATS.index(statistic)]


def physical_growth(yearly: np.ndarray, same_firms: bool = False) -> np.ndarray:
    """The lithium chain's volume growth, %, per replication and year (NaN in 2021): each
    stage's physical growth weighted by its value added of the year before (zero if negative,
    as the bureau's weights are). All firms' tonnes and GWh; or, with `same_firms`, the
    volumes of the firms in the statistics against their own a year before (the bureau's
    sample: firms that close or leave drop out of both years)."""
    growth, weight = [], []
    for scope, unit in STAGES:
        if same_firms:
            now, before = (_stat(yearly, scope, k) for k in ("volume_same_firms",
                                                             "volume_base_same_firms"))
            g = np.divide(now, before, out=np.full(now.shape, np.nan), where=before > 0) - 1.0
        elif unit is None:
            g = _stat(yearly, scope, "value_added_real_growth_pct") / 100.0
        else:
            volume = _stat(yearly, scope, unit)
            g = np.full(volume.shape, np.nan)
            g[:, 1:] = np.divide(volume[:, 1:], volume[:, :-1], out=np.full(g[:, 1:].shape, np.nan),
                                 where=volume[:, :-1] > 0) - 1.0
        w = np.zeros(g.shape)
        w[:, 1:] = np.maximum(_stat(yearly, scope, "value_added")[:, :-1], 0.0)
        growth.append(np.where(np.isfinite(g), g, 0.0))
        weight.append(np.where(np.isfinite(g), w, 0.0))
    growth, weight = np.stack(growth), np.stack(weight)
    total = weight.sum(axis=0)
    out = 100.0 * np.divide((growth * weight).sum(axis=0), total,
                            out=np.full(total.shape, np.nan), where=total > 0)
    out[:, 0] = np.nan
    return out


def _band(values: np.ndarray) -> tuple[float, float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (np.nan, np.nan, np.nan)
    low, mid, high = np.quantile(finite, [0.05, 0.5, 0.95])
    return float(mid), float(low), float(high)


def measurement_rows(yearly: np.ndarray) -> list[dict]:
    """Long rows ``table, year, scope, quantity, median, p05, p95`` of the three tables."""
    rows = []
    measured = _stat(yearly, "lithium", "value_added_real_growth_pct")
    physical, same = physical_growth(yearly), physical_growth(yearly, same_firms=True)
    for y, year in enumerate(YEARS):
        if y == 0:
            continue
        for name, values in (("measured_real_growth_pct", measured[:, y]),
                             ("physical_volume_growth_pct", physical[:, y]),
                             ("physical_same_firms_growth_pct", same[:, y]),
                             ("measured_minus_physical_pp", measured[:, y] - physical[:, y]),
                             ("measured_minus_same_firms_pp", measured[:, y] - same[:, y])):
            rows.append({"table": "lithium_growth", "year": year, "scope": "lithium",
                         "quantity": name, **dict(zip(("median", "p05", "p95"), _band(values),
                                                      strict=True))})
    for scope in RATIO_SCOPES:
        revenue, value_added = _stat(yearly, scope, "revenue"), _stat(yearly, scope, "value_added")
        ratio = np.divide(value_added, revenue, out=np.full(revenue.shape, np.nan),
                          where=revenue > 0)
        for y, year in enumerate(YEARS):
            rows.append({"table": "value_added_ratio", "year": year, "scope": scope,
                         "quantity": "value_added_ratio",
                         **dict(zip(("median", "p05", "p95"), _band(ratio[:, y]), strict=True))})
    for statistic in ("above_scale_firms", "firms_alive"):
        values = _stat(yearly, "total", statistic)
        for y, year in enumerate(YEARS):
            rows.append({"table": "firms", "year": year, "scope": "total", "quantity": statistic,
                         **dict(zip(("median", "p05", "p95"), _band(values[:, y]), strict=True))})
    return rows


def rows_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    """Rows of dicts as CSV with the given columns (numbers to six significant digits)."""
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    for r in rows:
        out.write(",".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c])
                           for c in columns) + "\n")
    return out.getvalue()


def measurement_csv(rows: list[dict]) -> str:
    return rows_csv(rows, ("table", "year", "scope", "quantity", "median", "p05", "p95"))


def _pick(rows: list[dict], table: str, quantity: str, scope: str, year: int) -> dict:
    return next(r for r in rows if (r["table"], r["quantity"], r["scope"], r["year"])
                == (table, quantity, scope, year))


def _cell(r: dict, digits: int = 1) -> str:
    if not np.isfinite(r["median"]):
        return "–"
    return f"{r['median']:.{digits}f} [{r['p05']:.{digits}f}, {r['p95']:.{digits}f}]"


def measurement_markdown(rows: list[dict]) -> str:
    """The three tables as Markdown (median [5%, 95%] over replications)."""
    years = YEARS[1:]
    head = "| | " + " | ".join(str(y) for y in years) + " |\n|---|" + "---:|" * len(years)
    lines = ["### The lithium chain: measured real growth beside its physical volumes", "",
             "Measured: same-firm value added at comparable prices (the bureau's method). "
             "Physical: carbonate tonnes, materials tonnes and cell GWh of all firms, each stage "
             "weighted by its value added of the year before (applications, having no unit, by "
             "their measured growth); and the same volumes of the firms in the statistics "
             "against their own a year before (the bureau's sample: firms that close or leave "
             "drop out of both years). Percent; median [5%, 95%] over replications.", "", head]
    for quantity, label in (("measured_real_growth_pct", "measured real growth"),
                            ("physical_volume_growth_pct", "physical volume growth, all firms"),
                            ("physical_same_firms_growth_pct", "physical volume growth, same firms"),
                            ("measured_minus_physical_pp", "measured − physical, all firms (pp)"),
                            ("measured_minus_same_firms_pp", "measured − physical, same firms (pp)")):
        lines.append(f"| {label} | " + " | ".join(
            _cell(_pick(rows, "lithium_growth", quantity, "lithium", y)) for y in years) + " |")
    all_years = YEARS
    head = "| scope | " + " | ".join(str(y) for y in all_years) + " |\n|---|" + "---:|" * len(all_years)
    lines += ["", "### Value-added ratios (增加值率) by scope", "",
              "Value added over revenue of above-scale firms; each year's ratio weighs the next "
              "year's real growth.", "", head]
    for scope in RATIO_SCOPES:
        lines.append(f"| {scope} | " + " | ".join(
            _cell(_pick(rows, "value_added_ratio", "value_added_ratio", scope, y), 3)
            for y in all_years) + " |")
    lines += ["", "### Firms", "", head.replace("scope", "count")]
    for quantity in ("above_scale_firms", "firms_alive"):
        lines.append(f"| {quantity} | " + " | ".join(
            _cell(_pick(rows, "firms", quantity, "total", y), 0) for y in all_years) + " |")
    return "\n".join(lines) + "\n"
