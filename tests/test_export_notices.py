"""Gacha notices: every visit, the prices and goods, and what the plan could not do."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from planner._errors import PlanError
from planner.export.bundle import PlanBundle, read_bundle
from planner.export.notices import (
    NO_GACHA_KEY,
    gacha_of,
    gacha_visits,
    gachas,
    notice_text,
    write_notices,
)
from planner.plan.model import Plan
from planner.scenario.model import CollectionPoint

WEEKDAYS = "一二三四五六日"


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


def _with_plan(bundle: PlanBundle, plan: dict) -> PlanBundle:
    return PlanBundle(bundle.out_dir, Plan.from_json_dict(plan), bundle.scenario, [], None)


def _clamped(bundle: PlanBundle, window: list[str]) -> list[str]:
    """The plan's window kept inside the scenario's windows.earliest..latest (HH:MM compare)."""
    bounds = bundle.scenario.settings.windows
    return [max(window[0], bounds.earliest), min(window[1], bounds.latest)]


def _visits(bundle: PlanBundle, members: set[str]) -> list[tuple[dt.date, str, list[str]]]:
    windows = {p["id"]: _clamped(bundle, p["window"]) for p in bundle.plan.to_json_dict()["points"]}
    return [
        (dt.date.fromisoformat(step["arrival"][:10]), step["place"], windows[step["place"]])
        for run in bundle.plan.to_json_dict()["runs"]
        for step in run["steps"]
        if step["type"] == "collect" and step["place"] in members
    ]


def test_one_notice_per_gacha_with_every_visit(bundle: PlanBundle, tmp_path: Path) -> None:
    paths = write_notices(bundle, tmp_path)
    codes = list(dict.fromkeys(p.gacha_code for p in bundle.scenario.points))
    assert [p.name for p in paths] == [f"{c}.txt" for c in codes]
    names = {p["id"]: p["name"] for p in bundle.plan.to_json_dict()["places"]}
    for code, path in zip(codes, paths, strict=True):
        text = path.read_text(encoding="utf-8")
        members = {p.id for p in bundle.scenario.points if p.gacha_code == code}
        gacha = next(p.gacha for p in bundle.scenario.points if p.gacha_code == code)
        assert gacha in text.splitlines()[0]
        assert "2026年12月" in text.splitlines()[0]
        visits = _visits(bundle, members)
        assert visits
        for day, pid, window in visits:
            # The sentence naming the point carries each of its dates and the window.
            line = next(ln for ln in text.splitlines() if f"到达{names[pid]}" in ln)
            assert line.startswith("本月流动回收车将于")
            assert f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）" in line
            assert f"{window[0]}—{window[1]}" in line


def test_notice_names_prices_points_goods_and_sorting(bundle: PlanBundle) -> None:
    settings = bundle.scenario.settings
    for key in gachas(bundle):
        text = notice_text(bundle, key)
        for c in settings.categories:
            assert c.name in text
            if c.stream == "sell":
                assert f"{c.name}{c.buy_price_cny_kg:g}元/公斤" in text
            if c.stream == "exchange":
                assert f"{c.name}每公斤{c.exchange_points_per_kg:g}分" in text
        for g in settings.goods:
            assert f"{g.name}{g.points:g}分/{g.unit}" in text
        assert "分类" in text
        assert "有害垃圾" in text
        assert "堆肥" in text
        assert "电话" not in text  # the scenario names no office contact


def test_unserved_visits_are_said_not_dropped(bundle: PlanBundle) -> None:
    plan = bundle.plan.to_json_dict()
    plan["unserved"] = [
        {"point": "P2", "date": "2026-12-18", "reason": "no truck works on 2026-12-18"},
        {"point": "P2", "date": None, "reason": "the trucks' hours are taken"},
    ]
    key = bundle.points["P2"].gacha_code
    text = notice_text(_with_plan(bundle, plan), key)
    assert "原定12月18日（周五）到二组的收集本月未能安排" in text
    assert "二组本月还有1次收集未能安排" in text
    assert "no truck" not in text  # office wording stays out of the herders' notice
    other = bundle.points["P3"].gacha_code
    assert "未能安排" not in notice_text(_with_plan(bundle, plan), other)


def test_point_without_visits_is_mentioned(bundle: PlanBundle) -> None:
    plan = bundle.plan.to_json_dict()
    for run in plan["runs"]:
        run["steps"] = [s for s in run["steps"] if s["place"] != "P4"]
    text = notice_text(_with_plan(bundle, plan), bundle.points["P4"].gacha_code)
    assert "四组本月没有安排流动回收车" in text


def test_points_without_gacha_go_under_their_township() -> None:
    base = {"id": "X", "name": "某点", "lon": 108.0, "lat": 39.0, "households": 1, "people": 2}
    assert gacha_of(CollectionPoint(**base, gacha_code="150624999201", gacha="甲")) == (
        "150624999201",
        "甲",
    )
    assert gacha_of(CollectionPoint(**base, gacha="甲 嘎查/2")) == ("甲-嘎查-2", "甲 嘎查/2")
    key, name = gacha_of(CollectionPoint(**base, township_code="150624100", township="乌兰镇"))
    assert key == "township-150624100"
    assert "乌兰镇" in name
    assert gacha_of(CollectionPoint(**base))[0] == NO_GACHA_KEY


def test_unknown_gacha_is_a_plan_error(bundle: PlanBundle) -> None:
    with pytest.raises(PlanError, match="nope"):
        notice_text(bundle, "nope")


def test_same_plan_gives_identical_bytes(bundle: PlanBundle, tmp_path: Path) -> None:
    one = write_notices(bundle, tmp_path / "a")
    two = write_notices(bundle, tmp_path / "b")
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]


def _with_settings(bundle: PlanBundle, **changes: object) -> PlanBundle:
    settings = bundle.scenario.settings.model_copy(update=changes)
    scenario = dataclasses.replace(bundle.scenario, settings=settings)
    return PlanBundle(bundle.out_dir, bundle.plan, scenario, bundle.tallies, bundle.summary)


def test_notice_windows_stay_inside_the_scenario_bounds(bundle: PlanBundle) -> None:
    # The plan may carry a window opening before windows.earliest (08:00 where the
    # bound is 08:30): the notice never announces a time outside the bounds unless the
    # truck itself is there then.
    bounds = bundle.scenario.settings.windows
    for key in gachas(bundle):
        for v in gacha_visits(bundle)[key]:
            assert f"{v.start:%H:%M}" >= min(bounds.earliest, f"{v.departure:%H:%M}")
            assert f"{v.end:%H:%M}" <= max(bounds.latest, f"{v.arrival:%H:%M}")
            assert v.start <= v.departure and v.end >= v.arrival


def test_notice_offers_only_stocked_goods_and_says_who_to_call(bundle: PlanBundle) -> None:
    from planner.scenario.settings import GoodsItem, NoticeSettings

    never = GoodsItem(id="towel", name="毛巾", unit="条", points=50.0, value_cny=6.0)
    goods = (*bundle.scenario.settings.goods, never)
    notices = NoticeSettings(
        contact="测试调度室", phone="0477-1234567", bad_weather="", lead_days=5,
        default_landmark="村口",
    )  # fmt: skip
    b = _with_settings(bundle, goods=goods, notices=notices)
    first = min(r.date for r in b.runs)
    issued = first - dt.timedelta(days=5)
    for key in gachas(b):
        text = notice_text(b, key)
        assert "毛巾" not in text  # in the catalogue, never handed out this month
        handed = [g["name"] for g in b.summary["goods"] if g["handed_out"]]  # type: ignore[index]
        assert all(name in text for name in handed)
        assert "测试调度室，0477-1234567" in text
        assert "恶劣天气" in text and "累计" in text  # bad weather; points carry over
        assert f"发布日期：{issued.year}年{issued.month}月{issued.day}日" in text
        assert "停靠地点：村口" in text


def test_bad_phone_is_refused_by_the_scenario() -> None:
    from pydantic import ValidationError

    from planner.scenario.settings import NoticeSettings

    with pytest.raises(ValidationError, match="expected digits"):
        NoticeSettings(phone="call =HYPERLINK()")
