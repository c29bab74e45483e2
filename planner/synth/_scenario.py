"""The scenario TOML of a generated region: month, visit rules, fleet, categories, goods.

Every rate, price and truck figure here is an assumption (marked so in the TOML
and in the README); the budget figures are the 2018 report's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from planner.synth._geo import apportion
from planner.synth._layout import Layout
from planner.synth._params import RegionParams

DEFAULT_VISITS = 2


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    name_en: str
    stream: str  # sell | exchange | compost
    density_kg_m3: float
    kg_per_person_day: float
    buy_price_cny_kg: float = 0.0
    resale_price_cny_kg: float = 0.0
    exchange_points_per_kg: float = 0.0
    kg_per_item: float = 0.0
    hazardous: bool = False
    seasonal: tuple[float, ...] = (1.0,) * 12


# Assumptions for rural Inner Mongolia: recyclables ~0.17 kg per person a day in
# all; kitchen waste small (most goes to animals); stove ash high in winter.
CATEGORIES = (
    Category("pet_bottles", "塑料瓶", "PET bottles", "sell", 35.0, 0.03, 1.0, 1.8,
             seasonal=(0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.4, 1.4, 1.2, 1.0, 0.8, 0.7)),
    Category("other_plastics", "其他塑料", "other plastics", "sell", 30.0, 0.03, 0.3, 0.7,
             seasonal=(0.9, 1.0, 1.1, 1.2, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8)),
    Category("paper", "纸板纸箱", "paper and cardboard", "sell", 60.0, 0.04, 0.6, 1.1,
             seasonal=(1.2, 1.3, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1)),
    Category("glass", "玻璃瓶", "glass and liquor bottles", "sell", 250.0, 0.04, 0.1, 0.25,
             seasonal=(1.3, 1.4, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.1)),
    Category("scrap_metal", "废铁", "scrap metal", "sell", 300.0, 0.02, 1.2, 2.0,
             seasonal=(0.8, 0.8, 1.1, 1.2, 1.2, 1.0, 1.0, 1.0, 1.1, 1.1, 0.9, 0.8)),
    Category("textiles", "旧衣物", "old clothes", "sell", 120.0, 0.01, 0.3, 0.8,
             seasonal=(1.0, 1.2, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.1)),
    Category("batteries", "废电池", "used batteries", "exchange", 1200.0, 0.002,
             exchange_points_per_kg=40.0, kg_per_item=0.025, hazardous=True),
    Category("paint_cans", "废油漆桶", "paint cans", "exchange", 100.0, 0.001,
             exchange_points_per_kg=10.0, kg_per_item=0.5, hazardous=True,
             seasonal=(0.7, 0.7, 0.9, 1.2, 1.3, 1.3, 1.2, 1.1, 1.0, 0.9, 0.9, 0.8)),
    Category("small_electronics", "小型电子垃圾", "small electronics", "exchange", 200.0, 0.002,
             exchange_points_per_kg=15.0, kg_per_item=0.4, hazardous=True,
             seasonal=(1.1, 1.2, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0)),
    Category("kitchen", "厨余垃圾", "kitchen waste", "compost", 500.0, 0.05,
             seasonal=(1.1, 1.3, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0)),
    Category("ash", "炉灰", "stove ash", "compost", 700.0, 0.4,
             seasonal=(2.1, 1.9, 1.4, 0.8, 0.3, 0.1, 0.1, 0.1, 0.3, 0.9, 1.8, 2.2)),
    Category("manure", "粪污及畜禽尸体", "manure and carcasses", "compost", 800.0, 0.5,
             seasonal=(0.9, 1.0, 1.3, 1.2, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 0.9, 1.0)),
)  # fmt: skip

# (id, name, name_en, unit, points, value_cny, volume_m3) — assumptions, 1 point ~ 0.3 yuan.
GOODS = (
    ("soap", "肥皂", "soap", "块", 10.0, 3.0, 0.0005),
    ("salt", "食盐", "salt (500 g)", "袋", 8.0, 2.5, 0.0006),
    ("detergent", "洗衣粉", "washing powder (1 kg)", "袋", 30.0, 9.0, 0.003),
    ("toilet_paper", "卫生纸", "toilet paper (10 rolls)", "提", 60.0, 18.0, 0.012),
    ("dish_soap", "洗洁精", "dish soap", "瓶", 20.0, 6.0, 0.0012),
    ("towel", "毛巾", "towel", "条", 25.0, 8.0, 0.001),
)

# One truck type for every depot (assumption): a 16 m³ closed box, 2.5 t payload.
TRUCK = {
    "payload_kg": 2500.0,
    "box_m3": 16.0,
    "hazard_kg": 150.0,
    "shift_start": "07:30",
    "shift_end": "18:30",
    "max_work_min": 600,
    "lunch_start": "11:30",
    "lunch_end": "13:30",
    "lunch_min": 40,
    "speed_factor": 1.0,
    "cost_per_km": 2.2,
    "cost_per_hour": 45.0,
}


def fleet_sizes(params: RegionParams, layout: Layout) -> list[int]:
    """Trucks per depot: monthly visits plus an allowance for the area to cross."""
    weights = []
    for t in params.townships:
        visits = sum(
            int(p.visits) if p.visits else (t.visits or DEFAULT_VISITS)
            for p in layout.points
            if p.township is t
        )
        area_km2 = layout.township_zones[t.code].area / 1e6
        weights.append(visits + area_km2 / 100.0)
    return apportion(params.trucks, weights, minimum=1)


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a valid TOML basic string


def _f(x: float) -> str:
    return repr(float(x))


def scenario_toml(params: RegionParams, layout: Layout, paths: dict[str, str]) -> str:
    """The scenario file text; ``paths`` maps region keys to paths relative to it."""
    lines = [f"name = {_s(params.name)}", f"description = {_s(params.description)}", ""]
    lines.append("[region]")
    for key in ("points", "households", "depots", "stations", "facilities", "roads", "boundary"):
        lines.append(f"{key} = {_s(paths[key])}")
    lines += [
        "offroad_speed_kmh = 15.0",
        "snap_warn_km = 2.0",
        "",
        "[region.road_speeds_kmh]   # assumption",
        "highway = 80.0",
        "paved = 60.0",
        "gravel = 40.0",
        "dirt = 20.0",
        "",
        "[month]",
        f"month = {_s(params.month)}",
        'timezone = "Asia/Shanghai"',
        'service_weekdays = ["mon", "tue", "wed", "thu", "fri"]',
        "holidays = []               # ISO dates",
        "closures = []               # ISO dates (blizzard days etc.)",
        "previous_visit_days = 12    # accumulation before the month's first visit",
        "",
        "[visits]",
        f"default = {DEFAULT_VISITS}",
        'min_gap_days = { "2" = 12, "3" = 8 }',
        "service_min_base = 5.0",
        "service_min_per_household = 1.0",
    ]
    for t in params.townships:
        if t.visits is not None:
            lines += [
                "",
                "[[visits.rules]]            # denser farming villages get 3 visits",
                f"township = {_s(t.name)}",
                f"visits = {t.visits}",
            ]
    lines += [
        "",
        "[windows]",
        "width_min = 60",
        'earliest = "08:30"',
        'latest = "17:00"',
        "",
        "[stations_settings]",
        "unload_min = 20.0",
    ]
    lines += _fleet(params, layout)
    lines += _categories()
    lines += _goods()
    lines += [
        "",
        "[budget]",
        "fee_per_gacha_year_cny = 50000.0   # report: 20,000 banner + 30,000 city",
        "reward_fund_cny = 2000000.0        # report",
        "",
        "[carry]                              # assumption",
        "cash_margin = 0.2                  # float = purchases + 20 %",
        "cash_round_cny = 50.0",
        "goods_margin = 0.2",
        "",
    ]
    return "\n".join(lines)


def _fleet(params: RegionParams, layout: Layout) -> list[str]:
    out: list[str] = ["", "# Fleet: assumption (one truck type; numbers per depot by workload)."]
    k = 0
    for d, (t, n) in enumerate(zip(params.townships, fleet_sizes(params, layout), strict=True)):
        for j in range(n):
            k += 1
            name = f"{t.short}{j + 1}号车" if params.chinese_names else f"{t.short} truck {j + 1}"
            out += ["", "[[fleet]]", f'id = "T{k:02d}"', f"name = {_s(name)}"]
            out.append(f'depot = "D{d + 1:02d}"')
            for key, value in TRUCK.items():
                text = (
                    _s(value)
                    if isinstance(value, str)
                    else (_f(value) if isinstance(value, float) else str(value))
                )
                out.append(f"{key} = {text}")
    return out


def _categories() -> list[str]:
    out: list[str] = ["", "# Categories: rates, densities and prices are assumptions."]
    for c in CATEGORIES:
        seasonal = ", ".join(_f(x) for x in c.seasonal)
        out += [
            "",
            "[[categories]]",
            f"id = {_s(c.id)}",
            f"name = {_s(c.name)}",
            f"name_en = {_s(c.name_en)}",
            f"stream = {_s(c.stream)}",
            f"density_kg_m3 = {_f(c.density_kg_m3)}",
            f"kg_per_person_day = {_f(c.kg_per_person_day)}",
            f"buy_price_cny_kg = {_f(c.buy_price_cny_kg)}",
            f"resale_price_cny_kg = {_f(c.resale_price_cny_kg)}",
            f"exchange_points_per_kg = {_f(c.exchange_points_per_kg)}",
            f"kg_per_item = {_f(c.kg_per_item)}",
            f"hazardous = {'true' if c.hazardous else 'false'}",
            f"seasonal = [{seasonal}]",
        ]
    return out


def _goods() -> list[str]:
    out: list[str] = ["", "# Exchange goods: points and values are assumptions."]
    for gid, name, name_en, unit, points, value, volume in GOODS:
        out += [
            "",
            "[[goods]]",
            f"id = {_s(gid)}",
            f"name = {_s(name)}",
            f"name_en = {_s(name_en)}",
            f"unit = {_s(unit)}",
            f"points = {_f(points)}",
            f"value_cny = {_f(value)}",
            f"volume_m3 = {_f(volume)}",
        ]
    return out
