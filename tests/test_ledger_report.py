"""Report, reconciliation and green accounts, from a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import ledger_support
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, true

from planner.ledger.accounts import balances, household_account
from planner.ledger.db import open_ledger
from planner.ledger.importer import import_entries, import_file
from planner.ledger.plans import load_plan, register_plan
from planner.ledger.reconcile import reconcile
from planner.ledger.records import TallyEntry
from planner.ledger.report import month_report
from planner.ledger.schema import Entry

db_url = ledger_support.db_url
pg_server = ledger_support.pg_server
tiny_sim = ledger_support.tiny_sim


def _loaded(url: str, plan: Path, sim: Path) -> None:
    with open_ledger(url) as ledger:
        register_plan(ledger, load_plan(plan))
        for p in sorted(sim.glob("*.csv")):
            import_file(ledger, p)


def test_report_totals_are_the_sums_of_the_entries(
    db_url: str, planned_tiny: Path, tiny_sim: Path
) -> None:
    _loaded(db_url, planned_tiny, tiny_sim)
    with open_ledger(db_url) as ledger:
        doc = month_report(ledger, "2026-12").to_json()
        with ledger.sessions() as s:
            entries = s.scalars(select(Entry).where(Entry.active == true())).all()
    actual = doc["total"]["actual"]
    sold = sum(e.grams or 0 for e in entries if e.stream == "sell") / 1000
    cash = sum(e.cash_fen for e in entries) / 100
    earned = sum(e.milli_points_earned for e in entries) / 1000
    assert actual["sold_kg"] == round(sold, 3)
    assert actual["cash_paid_cny"] == round(cash, 2)
    assert actual["points_earned"] == round(earned, 3)
    # lines add up to the total
    for key in ("sold_kg", "cash_paid_cny", "goods_value_cny", "points_redeemed"):
        assert round(sum(r["actual"][key] for r in doc["runs"]), 2) == round(actual[key], 2)
        assert round(sum(t["actual"][key] for t in doc["townships"]), 2) == round(actual[key], 2)
    planned = json.loads((planned_tiny / "summary.json").read_text(encoding="utf-8"))["totals"]
    assert doc["total"]["planned"]["sold_kg"] == round(planned["sold_kg"], 3)
    assert doc["total"]["planned"]["cash_paid_cny"] == round(planned["cash_paid_cny"], 2)


def test_sqlite_and_postgresql_give_the_same_json(
    request: pytest.FixtureRequest, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    urls = [f"sqlite:///{tmp_path / 'a.sqlite'}", ledger_support.pg_database_for(request)]
    docs = []
    for url in urls:
        _loaded(url, planned_tiny, tiny_sim)
        with open_ledger(url) as ledger:
            rep = json.dumps(month_report(ledger, "2026-12").to_json(), sort_keys=False)
            flags = [f.to_json() for f in reconcile(ledger, "2026-12")]
            docs.append((rep, json.dumps(flags)))
    assert docs[0] == docs[1]


def test_every_simulated_fault_is_flagged(db_url: str, planned_tiny: Path, tiny_sim: Path) -> None:
    _loaded(db_url, planned_tiny, tiny_sim)
    faults = json.loads((tiny_sim / "faults.json").read_text(encoding="utf-8"))["faults"]
    with open_ledger(db_url) as ledger:
        flags = reconcile(ledger, "2026-12")
    kinds = {
        "skipped_stop": "stop_unrecorded",
        "mistyped_household": "off_stop",
        "price_typo": "price",
        "cash_mismatch": "cash",
        "goods_mismatch": "goods",
        "weigh_ticket_low": "weigh",
        "hazardous_undelivered": "hazardous",
    }
    for f in faults:
        assert any(x.kind == kinds[f["fault"]] and x.run_id == f["run_id"] for x in flags), f
    assert len(flags) == len(faults)  # and nothing else


def _close(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["run_id", "field", "ref", "value", "ticket"])
        w.writerows(rows)
    return path


def test_close_checks_and_their_tolerances(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    _loaded(db_url, planned_tiny, tiny_sim)
    with open_ledger(db_url) as ledger:
        doc = month_report(ledger, "2026-12").to_json()
        run = max(doc["runs"], key=lambda r: r["actual"]["sold_kg"])
        rid, paid = run["run_id"], run["actual"]["cash_paid_cny"]
        kg = run["actual"]["sold_kg"] + run["actual"]["exchanged_kg"]
        station = json.loads((planned_tiny / "plan.json").read_text(encoding="utf-8"))
        sid = next(p["id"] for p in station["places"] if p["kind"] == "station")
        rows = [
            [rid, "cash_float_out_cny", "", "500"],
            [rid, "cash_returned_cny", "", f"{500 - paid - 0.5:.2f}"],  # within 1 CNY
            [rid, "weigh_ticket_kg", sid, f"{kg + 3:.1f}", "W1"],  # within 10 kg
        ]
        import_file(ledger, _close(tmp_path / "ok.close.csv", rows))
        checked = {"cash", "weigh"}
        assert not [
            f for f in reconcile(ledger, "2026-12") if f.run_id == rid and f.kind in checked
        ]
        rows[1][3] = f"{500 - paid - 20:.2f}"
        rows[2][3] = f"{kg + 50:.1f}"
        import_file(ledger, _close(tmp_path / "off.close.csv", rows))
        got = {
            f.kind for f in reconcile(ledger, "2026-12") if f.run_id == rid and f.kind in checked
        }
        assert got == {"cash", "weigh"}


def test_balances_carry_and_overdraws_are_flagged(db_url: str, planned_tiny: Path) -> None:
    with open_ledger(db_url) as ledger:
        register_plan(ledger, load_plan(planned_tiny))
        plan = json.loads((planned_tiny / "plan.json").read_text(encoding="utf-8"))
        runs = [r for r in plan["runs"] if any(s["type"] == "collect" for s in r["steps"])]
        first, last = runs[0], runs[-1]
        p1 = next(s["place"] for s in first["steps"] if s["type"] == "collect")
        hid = {"P1": "H1", "P2": "H4", "P3": "H6", "P4": "H8"}[p1]
        e = TallyEntry(
            run_id=first["id"],
            point=p1,
            household=hid,
            stream="exchange",
            category="batteries",
            kg=0.4,
        )  # 20 points
        import_entries(ledger, [e])
        acc = household_account(ledger, hid)
        assert acc.balance == 20 and acc.months[0].earned == 20
        assert balances(ledger)[hid] == 20
        p2 = next(s["place"] for s in last["steps"] if s["type"] == "collect")
        g = TallyEntry(
            run_id=last["id"],
            point=p2,
            household=hid,
            stream="exchange",
            goods_item="soap",
            goods_qty=3,
        )  # 30 points
        import_entries(ledger, [g])
        acc = household_account(ledger, hid)
        assert acc.balance == -10
        assert [t.points_redeemed for t in acc.transactions] == [0, 30]
        assert any(
            f.kind == "negative_balance" and f.household == hid
            for f in reconcile(ledger, "2026-12")
        )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_subset_imported_twice_is_imported_once(
    planned_tiny: Path, tiny_sim: Path, tmp_path_factory: object, data: st.DataObject
) -> None:
    files = sorted(tiny_sim.glob("*.csv"))
    chosen = data.draw(st.lists(st.sampled_from(files), min_size=1, max_size=6))
    folder = tmp_path_factory.mktemp("prop")  # type: ignore[attr-defined]
    docs = []
    for rounds in (1, 2):
        url = f"sqlite:///{folder / f'r{rounds}.sqlite'}"
        with open_ledger(url) as ledger:
            register_plan(ledger, load_plan(planned_tiny))
            for _ in range(rounds):
                for p in chosen:
                    import_file(ledger, p)
            docs.append(month_report(ledger, "2026-12").to_json())
    assert docs[0] == docs[1]
