"""The one-page summary of a run folder, in Chinese with English beside it (summary.md and
summary.html; the scenario report opens with it).

Targets are grouped by chain, each with P(met) and its 95% interval, a traffic light, the
median 2026 value with its unit and the gap to the target; then the scenario's question and
assumptions, the caveats, and the code version and date. The traffic light uses the IPCC's
calibrated likelihood language (Mastrandrea et al. 2010): likely at P >= 0.66, unlikely at
P <= 0.33, about as likely as not between.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.analysis.targets import load_targets, percent
from model.errors import InputError
from model.structure import CHAIN_NAMES_EN, CHAIN_NAMES_ZH, CHAINS
from model.yamlio import read_json, read_text_file, write_text_atomic

LIKELY, UNLIKELY = 0.66, 0.33
LIGHTS = {  # key: (colour, Chinese, English)
    "green": ("#1a9850", "可能达成", "likely"),
    "amber": ("#f5a623", "不确定", "about as likely as not"),
    "red": ("#d73027", "不太可能", "unlikely"),
}
SUB_CHAIN_OF = {"ceramics": "building", "metal_furniture": "building"}
CITY = ("全市", "City")


@dataclass(frozen=True)
class Line:
    """One target as the summary shows it."""

    zh: str
    en: str
    unit_zh: str
    unit_en: str
    target: float
    median: float
    p10: float
    p90: float
    probability: float
    low: float
    high: float
    prior: bool

    @property
    def light(self) -> str:
        return "green" if self.probability >= LIKELY else "red" if self.probability <= UNLIKELY else "amber"


def unit_of(statistic: str) -> tuple[str, str]:
    if statistic.endswith("_pct"):
        return "%", "%"
    if statistic.startswith("revenue"):
        return "亿元", "亿 yuan"
    if statistic.startswith(("projects", "upgrade")):
        return "个", "projects"
    return "家", "firms"


def amount(value: float, unit: str) -> str:
    """Counts as integers, rates with %, money with thousands separators."""
    if value != value:  # nan
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "亿元":
        return f"{value:,.0f} 亿元"
    return f"{value:,.0f} {unit}"


def chain_of(scope: str) -> str:
    return SUB_CHAIN_OF.get(scope, scope if scope in CHAINS else "total")


def group_name(chain: str) -> tuple[str, str]:
    return CITY if chain == "total" else (CHAIN_NAMES_ZH[chain], CHAIN_NAMES_EN[chain])


def read_run(folder: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    manifest, targets = folder / "manifest.json", folder / "targets.csv"
    if not manifest.is_file() or not targets.is_file():
        raise InputError(folder, None, "not a finished run folder (manifest.json and targets.csv "
                         "expected; run `yichun-abm run` first)")
    meta = read_json(manifest, "run manifest")
    rows = list(csv.DictReader(io.StringIO(read_text_file(targets, "target table"), newline="")))
    needed = {"target", "statistic", "probability"}
    if not rows or not needed <= set(rows[0]):
        raise InputError(targets, None, f"damaged target table: expected columns {sorted(needed)}; "
                         "rerun `yichun-abm run`")
    return meta, rows


def grouped_lines(rows: list[dict[str, str]]) -> dict[str, list[Line]]:
    """The run's targets by chain (the city first), in the targets file's order."""
    zh = {t.id: t.description_zh or t.description for t in load_targets().targets}
    groups: dict[str, list[Line]] = {key: [] for key in ("total", *CHAINS)}
    for r in rows:
        unit_zh, unit_en = unit_of(r["statistic"])
        groups[chain_of(r["scope"])].append(Line(
            zh=zh.get(r["target"], r["description"]), en=r["description"], unit_zh=unit_zh,
            unit_en=unit_en, target=float(r["target_value"]), median=_float(r["median_2026"]),
            p10=_float(r["p10_2026"]), p90=_float(r["p90_2026"]),
            probability=float(r["probability"]), low=float(r["probability_low"]),
            high=float(r["probability_high"]), prior=r.get("evidence") == "prior"))
    return {key: lines for key, lines in groups.items() if lines}


def _float(text: str) -> float:
    return float(text) if text not in ("", None) else float("nan")


def policy_attribution(folder: Path, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """The line `yichun-abm attribute` leaves for this scenario (results/attribution_<name>),
    when it was made on the same scenario."""
    path = folder.parent / f"attribution_{manifest['scenario']}" / "attribution.json"
    if not path.is_file():
        return []
    record = read_json(path, "attribution record")
    if record.get("scenario_hash") != manifest.get("scenario_hash", "").split("+")[0]:
        return []
    total = f"{record['revenue_2026']:+.0f} 亿 [{record['low']:+.0f}, {record['high']:+.0f}]"
    share = record.get("top_share")
    most = (f"，其中{record['top_group_zh']}贡献最多（{share:.0%}）" if share else "")
    most_en = (f"; {record['top_group']} gives most of it ({share:.0%})" if share else "")
    return [(f"相对于{record['against']}，本情景的政策使2026年规上工业营收增加 {total}{most}",
             f"Against {record['against']}, the scenario's policies add {total} to 2026 "
             f"revenue{most_en} (results/attribution_{manifest['scenario']}/attribution.md)")]


def monitoring(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """When the run's posterior is a nowcast's (``yichun-abm nowcast``): the figures it added,
    where each fell in the model's band before it was added, and the probabilities it moved
    most. Empty otherwise."""
    folder = (manifest.get("posterior") or {}).get("folder")
    path = Path(folder) / "nowcast.json" if folder else None
    if path is None or not path.is_file():
        return []
    record = read_json(path, "nowcast record")
    out = []
    for fig in record.get("figures", []):
        out.append((f"{fig['id']}（{fig['period']}，{fig['scope']}）公布 {fig['value']:g}，"
                    f"位于模型此前预测的第 {fig['percentile']:.0f} 百分位",
                    f"{fig['id']} ({fig['period']}, {fig['scope']}): published {fig['value']:g}, "
                    f"at percentile {fig['percentile']:.0f} of the model's band before it"))
    for move in record.get("largest_moves", []):
        out.append((f"{move['description_zh']}：达成概率 {percent(move['before'])} → "
                    f"{percent(move['after'])}",
                    f"{move['target']}: P {percent(move['before'])} → {percent(move['after'])}"))
    return out


def assumptions(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """The scenario's main assumptions, (Chinese, English)."""
    spec = manifest.get("scenario_resolved") or {}
    out = []
    price = (spec.get("exogenous") or {}).get("lithium_price") or {}
    points = price.get("points") or []
    if points:
        last, vol = points[-1], float(price.get("monthly_volatility", 0))
        value = f"{float(last['value']):,.0f}"
        published = price.get("use_facts", True)
        out.append((f"碳酸锂价格：至 {last['date']} 为 {value} 元/吨（"
                    f"{'先沿用已公布价格，其后为情景假设' if published else '情景假设'}），月波动 {vol:.0%}",
                    f"Lithium carbonate: {value} 元/t by {last['date']} ("
                    f"{'published prices, then the scenario' if published else 'the scenario'}), "
                    f"monthly volatility {vol:.0%}"))
    attraction = (spec.get("policy") or {}).get("attraction") or {}
    if "projects_per_year" in attraction:
        n = attraction["projects_per_year"]
        if isinstance(n, dict):      # set by year (attraction_push, plan_max)
            by_year = ", ".join(f"{year}: {float(v):g}" for year, v in sorted(n.items()))
            out.append((f"招商引资：每年签约项目数（按年）{by_year}",
                        f"Investment attraction: signed projects a year by year ({by_year})"))
        else:
            out.append((f"招商引资：每年签约 {float(n):g} 个项目",
                        f"Investment attraction: {float(n):g} signed projects a year"))
    if manifest.get("posterior"):
        out.append(("参数：每次模拟抽取校准后验（calibration/posterior）",
                    "Parameters: each replication draws from the calibrated posterior"))
    else:
        out.append(("参数：默认值（未用后验）", "Parameters: the defaults (no posterior)"))
    return out


def caveats(groups: dict[str, list[Line]]) -> list[tuple[str, str]]:
    prior = sum(line.prior for lines in groups.values() for line in lines)
    missing = len(load_targets().not_represented)
    return [
        ("区间偏窄：95% 区间只反映模拟次数带来的误差和参数后验；模型结构本身的不确定性未计入，"
         "参数回收检验中 90% 后验区间的覆盖率约 0.88。",
         "Intervals are optimistic: the 95% interval covers the Monte-Carlo error and the "
         "parameter posterior, not the model's structure; in the recovery test the 90% posterior "
         "intervals covered about 0.88."),
        (f"† 标记的 {prior} 项产业链目标由先验决定：没有公开的基期营收数据。",
         f"The {prior} chain targets marked † are decided by the prior: no publication gives "
         "those chains' base revenue."),
        (f"另有 {missing} 项目标模型无法表示（见报告详情）。",
         f"{missing} further targets cannot be represented by the model (see the detail)."),
        ("模型对年度增长的预测不如简单的趋势外推；请把概率当作情景比较，而非预测。",
         "The model forecasts yearly growth less well than a naive trend: read probabilities "
         "to compare scenarios, not as forecasts."),
    ]


#: the targets whose drivers the summary names: the 9% path and the chains' revenues
DRIVER_TARGETS = ("revenue_cagr_2023_2026", "lithium_revenue", "circular_revenue",
                  "building_revenue", "electronics_revenue", "equipment_revenue")


def verdict_drivers(folder: Path) -> list[tuple[str, str]]:
    """From drivers.csv: for the 9% target and the chains' revenue targets, the three inputs
    that move the 2026 outcome most (partial rank correlation over the replications)."""
    path = folder / "drivers.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("target") in DRIVER_TARGETS]
    targets = {t.id: t for t in load_targets().targets}
    items = []
    for target in DRIVER_TARGETS:
        mine = [r for r in rows if r["target"] == target]
        if not mine or target not in targets:
            continue
        listed = [f"{r['input']} ({float(r['prcc']):+.2f})" for r in mine]
        t = targets[target]
        items.append((f"{t.description_zh or t.description}：最取决于 {'、'.join(listed)}",
                      f"{t.description}: rests most on {', '.join(listed)}"))
    if items:
        items.append(("数字为偏秩相关系数（各次模拟的后验参数与碳酸锂价格路径），正号表示该值越大结果越高。",
                      "Partial rank correlations over the replications' posterior draws and "
                      "carbonate price paths; positive: a higher value raises the outcome."))
    return items


def cells(line: Line) -> list[str]:
    """A target's row after its name: target, median, gap, P(met), interval."""
    return [amount(line.target, line.unit_zh), amount(line.median, line.unit_zh),
            _signed(line.median - line.target, line.unit_zh), percent(line.probability),
            f"{percent(line.low)}–{percent(line.high)}"]


def _signed(value: float, unit: str) -> str:
    if value != value:
        return "—"
    sign = "+" if value >= 0 else "−"
    return sign + (f"{abs(value):.1f} pp" if unit == "%" else amount(abs(value), unit))


HEAD = [("目标", "Target"), ("2026 目标值", "target"), ("中位数", "median 2026"), ("差距", "gap"),
        ("P(达成)", "P(met)"), ("95% 区间", "interval"), ("信号", "signal")]


def summary_markdown(folder: Path, run: tuple[dict[str, Any], list[dict[str, str]]] | None = None,
                     ) -> str:
    """The summary as Markdown; `run` is the folder's (manifest, target rows) if already read."""
    manifest, rows = run or read_run(folder)
    groups = grouped_lines(rows)
    head = page_head(manifest, groups)
    out = [f"# {head['title_zh']}", f"*{head['title_en']}*", ""]
    if head["question_zh"]:
        out += [f"> **情景问题：** {head['question_zh']}", ""]
    if head["question"]:
        out += [f"> **Question:** {head['question']}" if head["question_zh"]
                else f"> **情景问题 Question:** {head['question']}", ""]
    out += [f"**一览 At a glance** ({head['replications']} 次模拟 replications): " + "; ".join(
        f"{LIGHTS[k][1]} {LIGHTS[k][2]}: {n}" for k, n in head["counts"].items()), ""]
    for chain, lines in groups.items():
        zh, en = group_name(chain)
        out += [f"## {zh} ({en})", "", "| " + " | ".join(f"{a} {b}" for a, b in HEAD) + " |",
                "| --- |" + " ---: |" * 5 + " --- |"]
        for line in lines:
            signal = f"{LIGHTS[line.light][1]} {LIGHTS[line.light][2]}"
            name = f"{line.zh}{' †' if line.prior else ''}<br>*{line.en}*"
            out.append("| " + " | ".join([name, *cells(line), signal]) + " |")
        out.append("")
    for title, items in (("最新公布数据 Monitoring: the latest published figures",
                          monitoring(manifest)),
                         ("政策贡献 Policy attribution", policy_attribution(folder, manifest)),
                         ("结论取决于 What the verdicts rest on", verdict_drivers(folder)),
                         ("假设 Assumptions", assumptions(manifest)), ("注意 Caveats", caveats(groups))):
        if not items:
            continue
        out += [f"## {title}", ""] + [f"- {zh}<br>*{en}*" for zh, en in items] + [""]
    out += [f"版本 Code version: `{head['version']}` · 生成 Made: {head['made']}", ""]
    return "\n".join(out)


def page_head(manifest: dict[str, Any], groups: dict[str, list[Line]]) -> dict[str, Any]:
    spec = manifest.get("scenario_resolved") or {}
    name = manifest["scenario"]
    return {
        "title_zh": f"宜春“869”行动计划 2026 年目标 · 情景 {name}",
        "title_en": f"Yichun's 869 plan: the 2026 targets under scenario {name}",
        "question": " ".join(str(spec.get("question") or "").split()),
        "question_zh": "".join(str(spec.get("question_zh") or "").split()),
        "replications": manifest.get("seed", {}).get("replications", "?"),
        "counts": {key: sum(line.light == key for lines in groups.values() for line in lines)
                   for key in LIGHTS},
        "version": manifest.get("code_version", "?"), "made": str(manifest.get("created", "?"))[:10],
    }


CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
       sans-serif; max-width: 70rem; margin: 1.5rem auto; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0; } .en { color: #555; font-style: italic; }
h2 { font-size: 1.15rem; margin: 1.4rem 0 .3rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { text-align: left !important; background: #f6f6f6; }
td { text-align: left !important; } td.num { text-align: right !important; white-space: nowrap; }
td.target { width: 38%; }
.dot { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; margin-right: .3rem;
       vertical-align: middle; }
.question { background: #f3f7fb; padding: .6rem .9rem; border-left: 4px solid #08519c; }
.glance span { margin-right: 1.2rem; } footer { color: #666; font-size: .85rem; margin-top: 1.5rem; }
"""


def summary_html_fragment(folder: Path,
                          run: tuple[dict[str, Any], list[dict[str, str]]] | None = None) -> str:
    """The summary as an HTML block (styles included) for the report notebook and summary.html."""
    manifest, rows = run or read_run(folder)
    groups = grouped_lines(rows)
    head = page_head(manifest, groups)
    esc = html.escape
    parts = [f"<style>{CSS}</style>", f"<h1>{esc(head['title_zh'])}</h1>",
             f"<div class='en'>{esc(head['title_en'])}</div>"]
    if head["question_zh"]:
        parts.append(f"<p class='question'><b>情景问题：</b>{esc(head['question_zh'])}</p>")
    if head["question"]:
        label = "Question:" if head["question_zh"] else "情景问题 Question:"
        parts.append(f"<p class='question'><b>{label}</b> {esc(head['question'])}</p>")
    parts.append(f"<p class='glance'><b>一览 At a glance</b> ({esc(str(head['replications']))} 次模拟 "
                 "replications): " + "".join(
                     f"<span>{_dot(k)}{LIGHTS[k][1]} <i>{LIGHTS[k][2]}</i>: <b>{n}</b></span>"
                     for k, n in head["counts"].items()) + "</p>")
    header = "".join(f"<th>{a}<br><i>{b}</i></th>" for a, b in HEAD)
    for chain, lines in groups.items():
        zh, en = group_name(chain)
        parts.append(f"<h2>{esc(zh)} <span class='en'>({esc(en)})</span></h2><table><tr>{header}</tr>")
        for line in lines:
            name = (f"<td class='target'>{esc(line.zh)}{' †' if line.prior else ''}<br>"
                    f"<span class='en'>{esc(line.en)}</span></td>")
            numbers = "".join(f"<td class='num'>{c}</td>" for c in cells(line))
            signal = (f"<td>{_dot(line.light)}{LIGHTS[line.light][1]}<br>"
                      f"<span class='en'>{LIGHTS[line.light][2]}</span></td>")
            parts.append(f"<tr>{name}{numbers}{signal}</tr>")
        parts.append("</table>")
    for title, items in (("最新公布数据 <i>Monitoring: the latest published figures</i>",
                          monitoring(manifest)),
                         ("政策贡献 <i>Policy attribution</i>", policy_attribution(folder, manifest)),
                         ("结论取决于 <i>What the verdicts rest on</i>", verdict_drivers(folder)),
                         ("假设 <i>Assumptions</i>", assumptions(manifest)),
                         ("注意 <i>Caveats</i>", caveats(groups))):
        if not items:
            continue
        parts.append(f"<h2>{title}</h2><ul>" + "".join(
            f"<li>{esc(zh)}<br><span class='en'>{esc(en)}</span></li>" for zh, en in items) + "</ul>")
    parts.append(f"<footer>版本 Code version: <code>{esc(str(head['version']))}</code> · 生成 Made: "
                 f"{esc(head['made'])} · 信号 signal: P ≥ {LIKELY:.0%} 可能达成 likely, P ≤ {UNLIKELY:.0%} "
                 "不太可能 unlikely (the IPCC likelihood scale)</footer>")
    return "\n".join(parts)


def inert_markdown(text: str) -> str:
    """Markdown read from a folder, with HTML made text: Markdown passes raw HTML through, so a
    crafted page (``<img onerror=...>``) would run in the report; tables, emphasis and images
    written as Markdown still render."""
    return html.escape(text, quote=False)


def _dot(light: str) -> str:
    return f"<span class='dot' style='background:{LIGHTS[light][0]}'></span>"


def write_summary(folder: Path) -> None:
    """summary.md and summary.html in the run folder (the folder read once for both)."""
    run = read_run(folder)
    write_text_atomic(folder / "summary.md", summary_markdown(folder, run))
    page = (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<title>869 plan 2026 targets — {html.escape(run[0]['scenario'])}</title>"
            f"</head><body>{summary_html_fragment(folder, run)}</body></html>")
    write_text_atomic(folder / "summary.html", page)
