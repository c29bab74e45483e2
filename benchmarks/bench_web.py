"""Load benchmark of `planner serve`: drivers syncing a day of tallies at once.

A synthetic region (``planner synth random``, seeded; not real places) is planned
for a month; its plan folder is copied once per driver with the truck renamed
(``B01`` … ``B30``), so that every driver has a truck and runs of their own. The
server is the real command (``planner serve``) in a subprocess on 127.0.0.1 with a
fresh SQLite ledger. All drivers sign in, wait at a barrier, then each syncs their
longest run stop by stop (one POST per stop, as the phone does when it gets signal
after each stop) and sends a quarter of the batches a second time (a reply lost on
the way back). Afterwards the ledger must hold exactly one active row per entry
sent: none lost, none doubled.

Then one folder gets a month of simulated actuals (``planner.ledger.simulate``,
imported through the office's upload form) and the office overview page is timed.

Run::

    python benchmarks/bench_web.py [--drivers 30] [--seed 1] [--out benchmarks/results/web.json]

Everything is bounded: each request has a timeout, the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIMEOUT_S = 60.0


def _request(
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
    data: bytes | None = None,
) -> tuple[int, bytes, float]:
    hdrs = dict(headers or {})
    payload = data
    if body is not None:
        payload = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=payload, headers=hdrs)
    t0 = time.perf_counter()
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=TIMEOUT_S) as r:
            out = r.read()
            status = r.status
    except urllib.error.HTTPError as exc:
        out, status = exc.read(), exc.code
    return status, out, time.perf_counter() - t0


def make_plans(work: Path, drivers: int, seed: int) -> tuple[Path, str]:
    from planner.app.pipeline import plan_month
    from planner.scenario.load import load_scenario
    from planner.synth import generate_region, synthetic_params

    params = synthetic_params(
        points=60, households=3000, townships=3, area_km2=4000.0, trucks=3, seed=seed
    )
    scenario = work / "region.toml"
    generate_region(params, work / "region", scenario)
    base = work / "base"
    plan_month(load_scenario(scenario), base, time_limit=8, seed=seed)
    plan = json.loads((base / "plan.json").read_text(encoding="utf-8"))
    month = plan["period"]["start"][:7]
    plans = work / "plans"
    for k in range(1, drivers + 1):
        vid = f"B{k:02d}"
        doc = json.loads(json.dumps(plan))
        first = doc["vehicles"][0]
        doc["vehicles"] = [dict(first, id=vid)]
        doc["runs"] = [
            dict(r, id=f"{vid}-{r['date']}", vehicle=vid)
            for r in doc["runs"]
            if r["vehicle"] == first["id"]
        ]
        folder = plans / f"truck-{vid}"
        folder.mkdir(parents=True)
        for name in ("run.json", "summary.json"):
            shutil.copy(base / name, folder / name)
        for name in ("tallies.csv", "goods.csv"):
            lines = (base / name).read_text(encoding="utf-8").splitlines()
            mine = [
                ln.replace(f"{first['id']}-", f"{vid}-", 1)
                for ln in lines[1:]
                if ln.startswith(f"{first['id']}-")
            ]
            (folder / name).write_text("\n".join([lines[0], *mine]) + "\n", encoding="utf-8")
        (folder / "plan.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return plans, month


def start_server(plans: Path, db: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [
        sys.executable,
        "-c",
        "from planner.cli import app; app()",
        "serve",
        "--plans",
        str(plans),
        "--db",
        db,
        "--port",
        str(port),
    ]
    with log.open("wb") as fh:  # the child keeps its own handle
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=fh)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(log.read_text(errors="replace")[-3000:]) from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def entries_for(view: dict[str, Any], rng: random.Random) -> list[list[dict[str, Any]]]:
    """One batch per stop: every household's sell, exchange and compost lines."""
    cats = view["categories"]
    batches = []
    for st in view["steps"]:
        if st["type"] != "collect":
            continue
        batch = []
        for h in st["households"]:
            base = {"run_id": view["id"], "point": st["place"], "household": h["id"]}
            for c in cats:
                key = f"{view['id']}|{st['place']}|{h['id']}|{c['stream']}|{c['id']}|"
                exp = h["expected"].get(c["id"], 0.5)
                kg = round(max(exp * rng.uniform(0.5, 1.5), 0.0), 2)
                if c["stream"] == "sell":
                    cash = round(kg * c["price_cny_kg"], 2)
                    batch.append(
                        dict(
                            base,
                            stream="sell",
                            category=c["id"],
                            kg=kg,
                            price_cny_kg=c["price_cny_kg"],
                            cash_cny=cash,
                            key=key,
                        )
                    )
                elif c["stream"] == "exchange":
                    batch.append(dict(base, stream="exchange", category=c["id"], kg=kg, key=key))
                else:
                    batch.append(
                        dict(
                            base, stream="compost", category=c["id"], compost_declared=True, key=key
                        )
                    )
        batches.append(batch)
    return batches


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drivers", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/web.json")
    args = ap.parse_args()

    from planner.web.auth import Accounts

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    proc = None
    try:
        t0 = time.perf_counter()
        plans, month = make_plans(work, args.drivers, args.seed)
        print(f"plans: {args.drivers} trucks, month {month} ({time.perf_counter() - t0:.0f} s)")
        accounts = Accounts(plans / ".web-accounts.json")
        accounts.set_office_user("office", "bench-office-pw")
        vids = [f"B{k:02d}" for k in range(1, args.drivers + 1)]
        codes = {v: accounts.issue_driver_code(v, month) for v in vids}
        db = f"sqlite:///{work / 'ledger.sqlite'}"
        port = args.port or _free_port()
        proc = start_server(plans, db, port, work / "server.log")
        base = f"http://127.0.0.1:{port}"

        prepared = _sign_in_drivers(base, vids, codes)
        sync = _sync_all(base, prepared, args.seed)
        lost, dup, rows = _ledger_check(db, sync.sent_keys)
        lat = sorted(sync.latencies)
        print(
            f"sync: {args.drivers} drivers, {len(lat)} POSTs, {rows} entries in {sync.wall:.1f} s; "
            f"p50 {_ms_at(lat, 0.5):.0f} ms, p95 {_ms_at(lat, 0.95):.0f} ms, "
            f"max {lat[-1] * 1000:.0f} ms; lost/doubled runs: {lost or 'none'}, "
            f"duplicate keys: {dup}, failed requests: {len(sync.failures)}"
        )
        office_ms, month_rows = _office_page(base, plans, work, db, args.seed)

        result = {
            "drivers": args.drivers,
            "posts": len(lat),
            "entries": rows,
            "wall_s": round(sync.wall, 2),
            "p50_ms": round(_ms_at(lat, 0.5), 1),
            "p95_ms": round(_ms_at(lat, 0.95), 1),
            "max_ms": round(lat[-1] * 1000, 1),
            "lost_or_doubled": lost,
            "duplicate_keys": dup,
            "failed_requests": sync.failures[:5],
            "office_page_ms": round(office_ms, 1),
            "office_page_rows": month_rows,
            "machine_cpus": os.cpu_count(),
            "synthetic": True,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        if lost or dup or sync.failures:
            raise SystemExit("rows were lost or doubled, or requests failed")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _ms_at(sorted_latencies: list[float], q: float) -> float:
    """The ``q`` quantile of the latencies (seconds), in milliseconds."""
    lat = sorted_latencies
    return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000


def _sign_in_drivers(
    base: str, vids: list[str], codes: dict[str, str]
) -> dict[str, tuple[dict[str, str], dict[str, Any]]]:
    """Sign in and fetch each driver's longest run (the phone does this at the depot, on
    wifi): the auth header and the run view per vehicle."""
    prepared: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
    t_first = time.perf_counter()
    for v in vids:
        st, out, _ = _request(f"{base}/api/driver/session", {"vehicle": v, "code": codes[v]})
        assert st == 200, out
        hdr = {"Authorization": "Bearer " + json.loads(out)["token"]}
        runs = json.loads(_request(f"{base}/api/driver/runs", headers=hdr)[1])["runs"]
        longest = max(runs, key=lambda r: r["stops"])
        st, out, _ = _request(f"{base}/api/driver/runs/{longest['id']}", headers=hdr)
        assert st == 200, out
        prepared[v] = (hdr, json.loads(out))
    print(
        f"sign-in and run views (first use registers each plan): "
        f"{time.perf_counter() - t_first:.1f} s"
    )
    return prepared


@dataclass
class _Sync:
    latencies: list[float] = field(default_factory=list)
    sent_keys: dict[str, set[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0


def _sync_all(
    base: str, prepared: dict[str, tuple[dict[str, str], dict[str, Any]]], seed: int
) -> _Sync:
    """Every driver posts its run's entries at once (a quarter of the batches twice)."""
    sync = _Sync()
    lock = threading.Lock()
    barrier = threading.Barrier(len(prepared))

    def drive(v: str) -> None:
        rng = random.Random(f"{seed}-{v}")
        hdr, view = prepared[v]
        batches = entries_for(view, rng)
        keys = {e["key"] for b in batches for e in b}
        url = f"{base}/api/driver/runs/{view['id']}/entries"
        barrier.wait(timeout=TIMEOUT_S)
        mine = []
        for batch in batches:
            for _ in range(2 if rng.random() < 0.25 else 1):
                st, out, dt = _request(url, {"entries": batch}, hdr)
                mine.append(dt)
                if st != 200:
                    with lock:
                        sync.failures.append(f"{v}: {st} {out[:200]!r}")
        with lock:
            sync.latencies.extend(mine)
            sync.sent_keys[view["id"]] = keys

    threads = [threading.Thread(target=drive, args=(v,)) for v in prepared]
    t_sync = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S * 10)
    sync.wall = time.perf_counter() - t_sync
    return sync


def _ledger_check(db: str, sent_keys: dict[str, set[str]]) -> tuple[dict[str, int], int, int]:
    """Runs whose active rows differ from what was sent, duplicate keys, rows sent."""
    from sqlalchemy import func, select, true

    from planner.ledger.db import open_ledger
    from planner.ledger.schema import Entry

    with open_ledger(db) as ledger, ledger.sessions() as s:
        active = dict(
            s.execute(
                select(Entry.run_id, func.count())
                .where(Entry.active == true())
                .group_by(Entry.run_id)
            ).all()
        )
        # an entry's key is its own or (stored empty) its natural key
        natural = (Entry.run_id, Entry.point_id, Entry.household_id, Entry.stream)
        same = (*natural, Entry.category, Entry.goods_item, Entry.key)
        dup = s.execute(
            select(*same).where(Entry.active == true()).group_by(*same).having(func.count() > 1)
        ).all()
    expected = {r: len(k) for r, k in sent_keys.items()}
    lost = {r: n - active.get(r, 0) for r, n in expected.items() if active.get(r, 0) != n}
    return lost, len(dup), sum(expected.values())


def _office_page(base: str, plans: Path, work: Path, db: str, seed: int) -> tuple[float, int]:
    """Import a simulated month into one folder through the upload form, then time the
    office overview: median ms of five loads and the ledger's active rows."""
    from sqlalchemy import func, select

    from planner.ledger.db import open_ledger
    from planner.ledger.schema import Entry
    from planner.ledger.simulate import Truth, simulate_month, write_simulation
    from planner.web._ledger_bridge import plan_source

    folder = plans / "truck-B01"
    sim = simulate_month(plan_source(folder), Truth(faults=False), seed=seed)
    sim_files = write_simulation(sim, work / "sim")
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = _request(f"{base}/", opener=opener)[1].decode()
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    form = f"user=office&password=bench-office-pw&csrf={csrf}".encode()
    _request(
        f"{base}/login",
        data=form,
        opener=opener,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    html = _request(f"{base}/plans/truck-B01", opener=opener)[1].decode()
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    imported = sum(_upload(base, opener, csrf, f) for f in sim_files if f.name.endswith(".csv"))
    with open_ledger(db) as ledger, ledger.sessions() as s:
        month_rows = s.scalar(select(func.count()).select_from(Entry).where(Entry.active))
    times = []
    for _ in range(5):
        st, out, dt = _request(f"{base}/plans/truck-B01", opener=opener)
        assert st == 200
        times.append(dt)
    office_ms = statistics.median(times) * 1000
    print(
        f"office overview with a month of data ({imported} files imported, "
        f"{month_rows} active rows in the ledger): median {office_ms:.0f} ms "
        f"({len(out) // 1024} KiB)"
    )
    return office_ms, int(month_rows or 0)


def _upload(base: str, opener: Any, csrf: str, f: Path) -> bool:
    """Post one tally file through the office's upload form; whether it was taken."""
    boundary = "----bench"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{f.name}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + f.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    st, _, _ = _request(
        f"{base}/plans/truck-B01/upload",
        data=body,
        opener=opener,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return st == 200


if __name__ == "__main__":
    main()
