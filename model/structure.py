"""The economy's fixed structure: chains (from the facts), segments, counties, thresholds.

These are definitions, not behavioural parameters: which segments exist and which
chain each belongs to. Every size, share or rate lives in ``defaults.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The eight chains of the 869 plan, ids as in the facts file's ``chains``.
CHAINS: tuple[str, ...] = (
    "lithium", "circular", "building", "biomed", "electronics", "food", "equipment", "textile",
)
CHAIN_NAMES_ZH: dict[str, str] = {
    "lithium": "新能源（锂电）", "circular": "节能环保（循环经济）", "building": "建材家具",
    "biomed": "生物医药（大健康）", "electronics": "电子信息", "food": "绿色食品（富硒）",
    "equipment": "先进装备制造", "textile": "纺织鞋服",
}
CHAIN_NAMES_EN: dict[str, str] = {
    "lithium": "Lithium new energy", "circular": "Energy saving & circular economy",
    "building": "Building materials & furniture", "biomed": "Biomedicine & health",
    "electronics": "Electronics", "food": "Green food (selenium-rich)",
    "equipment": "Advanced equipment", "textile": "Textiles & footwear",
}


@dataclass(frozen=True)
class Segment:
    id: str
    chain: str | None          # primary chain; None = manufacturing outside the eight chains
    lithium_stage: str | None  # "up" / "mid" / "down" for lithium segments (the plan's 上中下游)


#: Segments inside chains. Lithium follows the plan's up/mid/downstream split; building
#: follows annex 4's two 500-亿 sub-chains (ceramics, metal furniture).
SEGMENTS: tuple[Segment, ...] = (
    Segment("li_upstream", "lithium", "up"),        # lepidolite mining, lithium carbonate
    Segment("li_materials", "lithium", "mid"),      # cathode, electrolyte, separators
    Segment("li_cells", "lithium", "down"),         # battery cells and packs
    Segment("li_applications", "lithium", "down"),  # EVs, storage systems, e-bikes
    Segment("circular", "circular", None),
    Segment("building_ceramics", "building", None),
    Segment("building_furniture", "building", None),
    Segment("biomed", "biomed", None),
    Segment("electronics", "electronics", None),
    Segment("food", "food", None),
    Segment("equipment", "equipment", None),
    Segment("textile", "textile", None),
    Segment("other", None, None),                   # above-scale industry outside the 8 chains
)
SEGMENT_IDS: tuple[str, ...] = tuple(s.id for s in SEGMENTS)
SEGMENT_INDEX: dict[str, int] = {s: i for i, s in enumerate(SEGMENT_IDS)}
SEGMENT_CHAIN_INDEX: tuple[int, ...] = tuple(
    CHAINS.index(s.chain) if s.chain else -1 for s in SEGMENTS
)
LITHIUM_SEGMENTS: tuple[int, ...] = tuple(i for i, s in enumerate(SEGMENTS) if s.lithium_stage)
#: per segment, whether it is one of the lithium chain's (index an array with it)
IS_LITHIUM: tuple[bool, ...] = tuple(s.lithium_stage is not None for s in SEGMENTS)
LITHIUM_MID_DOWN: tuple[int, ...] = tuple(
    i for i, s in enumerate(SEGMENTS) if s.lithium_stage in ("mid", "down")
)

#: Counties, districts and the development zone (宜春经开区 = "etdz").
COUNTIES: tuple[str, ...] = (
    "etdz", "yuanzhou", "zhangshu", "fengcheng", "gaoan", "jingan", "fengxin",
    "yifeng", "shanggao", "wanzai", "tonggu", "yiyang_mingyue",
)

#: Chinese names of the counties and districts, for planner-facing tables.
COUNTY_NAMES_ZH: dict[str, str] = {
    "etdz": "宜春经开区", "yuanzhou": "袁州区", "zhangshu": "樟树市", "fengcheng": "丰城市",
    "gaoan": "高安市", "jingan": "靖安县", "fengxin": "奉新县", "yifeng": "宜丰县",
    "shanggao": "上高县", "wanzai": "万载县", "tonggu": "铜鼓县", "yiyang_mingyue": "宜阳新区·明月山",
}
#: Chinese names of the segments, for planner-facing tables.
SEGMENT_NAMES_ZH: dict[str, str] = {
    "li_upstream": "锂电上游（锂矿、碳酸锂）", "li_materials": "锂电中游（材料）",
    "li_cells": "锂电下游（电芯、电池包）", "li_applications": "锂电应用（整车、储能）",
    "circular": "节能环保与循环经济", "building_ceramics": "建筑陶瓷", "building_furniture": "金属家具",
    "biomed": "生物医药", "electronics": "电子信息", "food": "绿色食品", "equipment": "先进装备",
    "textile": "纺织鞋服", "other": "其他工业",
}

#: Statistical line for "above-scale" (规模以上): annual revenue >= 20 million CNY = 0.2 亿元.
ABOVE_SCALE_LINE = 0.2
#: Size-class thresholds of the plan's targets, 亿元 of annual revenue.
SIZE_THRESHOLDS: tuple[int, ...] = (5, 10, 50, 100)

#: Scopes by segment: the sub-chains with targets of their own (annex 4: ceramics and metal
#: furniture, 500 亿 each) and the lithium chain's four stages, whose volumes, value-added
#: ratios and measured real growth are what the statistics office's method turns into the
#: chain's real growth (README, "How growth is measured").
SUB_CHAINS: dict[str, str] = {"ceramics": "building_ceramics", "metal_furniture": "building_furniture",
                              "li_upstream": "li_upstream", "li_materials": "li_materials",
                              "li_cells": "li_cells", "li_applications": "li_applications"}
#: Scopes of the statistics: the city total, each chain (membership-based, overlapping),
#: the sub-chains and lithium stages (by primary segment), the development zone, and the
#: zone's lithium-chain firms (its published lithium share of revenue).
SCOPES: tuple[str, ...] = ("total", *CHAINS, *SUB_CHAINS, "etdz", "etdz_lithium")

#: The four emerging industries of the 2022 statistics (fact emerging_share_2022): lithium,
#: electronics, biomedicine and advanced equipment (indices into CHAINS).
EMERGING_CHAINS: tuple[int, ...] = tuple(
    CHAINS.index(c) for c in ("lithium", "electronics", "biomed", "equipment"))
