"""The comparison table of a sweep or a many-region run: CSV, Excel and a chart.

One row per cell (or region), the same columns in all three. In the workbook every
text cell is stored as text: a value such as ``=1+1`` or ``@x`` from a scenario
stays a string and never becomes a formula.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner._atomic import atomic_writer, write_text_atomic

if TYPE_CHECKING:
    from planner.dist._task import CellResult

# The chart's panels: (column, title). 定时: points whose arrivals all lie within 60 min.
PANELS = (
    ("cost_cny", "cost CNY 成本"),
    ("unserved", "unserved visits 未服务"),
    ("distance_km", "km 里程"),
    ("on_time_pct", "定时 % (arrivals within 60 min)"),
    ("fee_balance_cny", "balance CNY 农维费结余"),
)


def fill_outcome(
    row: dict[str, Any], result: CellResult | None, problems: Sequence[str] | None
) -> None:
    """A cell's or region's outcome into its row: ``problems`` (None if the input was
    valid) make it invalid; else its figures and status, or "not run" without a result."""
    if problems is not None:
        row.update(status="invalid", note=" | ".join(problems))
    elif result is None:
        row.update(status="not run")
    else:
        row.update(result.figures)
        row.update(
            status=result.status,
            seconds=result.seconds,
            skipped="yes" if result.skipped else "",
            note=result.message,
        )


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """The table as CSV text (empty cells where a row has no value)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buf.getvalue()


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    write_text_atomic(path, csv_text(columns, rows))
    return path


def write_xlsx(
    path: Path, title: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> Path:
    """One sheet with a bold, frozen header row and an autofilter; text stays text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for j, col in enumerate(columns, start=1):
        widest = max([len(col), *(len(str(r.get(col, ""))) for r in rows)])
        ws.column_dimensions[get_column_letter(j)].width = min(max(widest + 2, 6), 50)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"

    def cell(value: Any, bold: bool = False) -> Any:
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever the text starts with
        if bold:
            c.font = Font(bold=True)
        return c

    ws.append([cell(c, bold=True) for c in columns])
    for row in rows:
        ws.append([cell(row.get(c)) for c in columns])
    with atomic_writer(path, "wb") as fh:
        wb.save(fh)
    return path


def write_chart(path: Path, title: str, rows: Sequence[dict[str, Any]], label: str) -> Path:
    """A PNG with one bar panel per figure in :data:`PANELS`, one bar per row.

    ``label`` is the column that names each bar (the cell id or the region).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from planner.export.fonts import register_with_matplotlib

    family = register_with_matplotlib()
    names = [str(r.get(label, "")) for r in rows]
    height = max(3.0, 0.32 * len(rows) + 1.6)
    with plt.rc_context({"font.family": [family, "DejaVu Sans"], "font.size": 9}):
        fig, axes = plt.subplots(1, len(PANELS), figsize=(3.1 * len(PANELS), height), sharey=True)
        ys = list(range(len(rows)))
        for ax, (col, head) in zip(axes, PANELS, strict=True):
            vals = [_num(r.get(col)) for r in rows]
            shown = [0.0 if math.isnan(v) else v for v in vals]
            colors = ["#c0392b" if col == "unserved" and v > 0 else "#2e6f9e" for v in shown]
            ax.barh(ys, shown, color=colors)
            for y, v, row in zip(ys, vals, rows, strict=True):
                ax.text(v if not math.isnan(v) else 0, y, f" {_bar_text(v, row)}", va="center",
                        fontsize=7)  # fmt: skip
            ax.set_title(head, fontsize=9)
            lo, hi = min(0.0, *shown), max(0.0, *shown)
            if hi <= lo:
                ax.set_xlim(lo, lo + 1)
            else:
                ax.set_xlim(lo - 0.05 * (hi - lo) * (lo < 0), hi + 0.25 * (hi - lo))
            ax.grid(axis="x", alpha=0.3)
        axes[0].set_yticks(ys, names)
        axes[0].invert_yaxis()
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        with atomic_writer(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=110)
        plt.close(fig)
    return path


def _bar_text(v: float, row: dict[str, Any]) -> str:
    if math.isnan(v):
        return str(row.get("status", "–"))
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
