"""The month's money as a printed table (per township, with the banner total)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

COLUMNS = (
    ("households", "households", "{:,.0f}"),
    ("sold_kg", "sold kg", "{:,.0f}"),
    ("exchanged_kg", "exch. kg", "{:,.1f}"),
    ("composted_kg", "compost kg", "{:,.0f}"),
    ("cash_paid_cny", "cash paid", "{:,.0f}"),
    ("goods_value_cny", "goods", "{:,.0f}"),
    ("resale_revenue_cny", "resale", "{:,.0f}"),
    ("fuel_cny", "fuel", "{:,.0f}"),
    ("driver_cny", "driver", "{:,.0f}"),
    ("net_cost_cny", "net cost", "{:,.0f}"),
    ("fee_budget_cny", "农维费 month", "{:,.0f}"),
    ("fee_balance_cny", "balance", "{:,.0f}"),
)


def money_table(summary: dict[str, Any], *, by: str = "townships") -> Table:
    """A rich table of ``summary.json``'s ``townships`` (or ``gachas``) plus the total (CNY)."""
    name_key = "township" if by == "townships" else "gacha"
    # Names come from the scenario: Text, so that no console reads them as markup.
    table = Table(title=Text(f"{summary['scenario']}: the month's money (CNY)"))
    table.add_column(name_key)
    for _, label, _ in COLUMNS:
        table.add_column(label, justify="right")
    for row in summary[by]:
        table.add_row(Text(row[name_key] or "-"), *(fmt.format(row[k]) for k, _, fmt in COLUMNS))
    t = summary["totals"]
    table.add_section()
    table.add_row("total", *(fmt.format(t[k]) for k, _, fmt in COLUMNS), style="bold")
    return table


def money_markdown(summary: dict[str, Any]) -> str:
    """The same table in Markdown (for the README and docs)."""
    head = ["township", *(label for _, label, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary["townships"]:
        lines.append(
            "| " + " | ".join([row["township"], *(f.format(row[k]) for k, _, f in COLUMNS)]) + " |"
        )
    t = summary["totals"]
    lines.append(
        "| **total** | " + " | ".join(f"**{f.format(t[k])}**" for k, _, f in COLUMNS) + " |"
    )
    return "\n".join(lines)
