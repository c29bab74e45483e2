"""What is recorded about a run, as validated pydantic models.

The tally-file importer and the phone/office web views validate through these
same models, so a record means the same whichever way it arrived:

* :class:`TallyEntry` — one household, one visit, one line: kg of a category sold
  (with the price per kg and the cash paid), kg or items of a hazardous category
  exchanged, goods handed over for points, or compost declared or weighed;
* :class:`RunClose` — the end-of-run box: cash float out and back, goods loaded
  and returned, odometer, weigh tickets per station, deliveries to the buyer and
  the hazardous-waste plant.

Quantities are never negative. ``key`` is the idempotency key: a record sent
twice with the same key is recorded once, and a record with a known key but other
values supersedes the earlier one (with an audit trail). Without a key, the
natural key (run, point, household, stream, category or goods item) is used.

:class:`TallyLine` is a valid :class:`TallyEntry` as a plain tuple, the form the
importer checks and stores: a tally file's rows are validated straight into it
(``tallyrows.py``, held equal to this model's validation by the tests), a record
from the web views through :meth:`TallyEntry.line`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner._text import control_character

Stream = Literal["sell", "exchange", "compost"]
STREAMS: tuple[str, ...] = ("sell", "exchange", "compost")

_Id = Field(min_length=1, max_length=64)


def natural_key(
    run_id: str,
    point: str,
    household: str,
    stream: str,
    category: str | None,
    goods_item: str | None,
) -> str:
    """run|point|household|stream|category|goods item: a record's key when it has none."""
    return "|".join((run_id, point, household, stream, category or "", goods_item or ""))


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: object) -> object:
        # Records from the web views come here straight; tally files are checked
        # row by row before (tallyfile._printable), the same rule.
        if isinstance(value, str) and (found := control_character(value)):
            raise ValueError(f"expected printable text, found {found}")
        return value


class TallyEntry(_Record):
    """One line of a household's tally at one visit."""

    run_id: str = _Id
    point: str = _Id
    household: str = Field(
        min_length=1, max_length=64, description="Household id, or the card's code (id-check)."
    )
    stream: Stream
    category: str | None = Field(None, max_length=64, description="Waste category id.")
    kg: float | None = Field(None, ge=0, le=100_000, description="kg handed in (or composted).")
    items: float | None = Field(
        None, ge=0, le=100_000, description="Exchange: items counted (batteries, cans)."
    )
    price_cny_kg: float | None = Field(None, ge=0, le=1_000, description="Sell: price paid.")
    cash_cny: float | None = Field(None, ge=0, le=1_000_000, description="Sell: cash paid.")
    goods_item: str | None = Field(None, max_length=64, description="Exchange: goods item id.")
    goods_qty: int | None = Field(None, ge=0, le=10_000, description="Exchange: goods handed.")
    points_redeemed: float | None = Field(
        None, ge=0, le=10_000_000, description="Points spent on the goods (blank: price list)."
    )
    compost_declared: bool | None = Field(None, description="Compost: the household composts.")
    note: str = Field("", max_length=500)
    key: str | None = Field(None, min_length=1, max_length=200, description="Idempotency key.")

    @model_validator(mode="after")
    def _shape(self) -> TallyEntry:
        goods = self.goods_item is not None or self.goods_qty is not None
        if self.stream == "sell":
            if self.category is None:
                raise ValueError("category: expected the category sold, found nothing")
            if self.kg is None:
                raise ValueError("kg: expected the kg sold, found nothing")
            if goods or self.items is not None or self.compost_declared is not None:
                raise ValueError(
                    "stream: expected only kg, price and cash on a sell line, "
                    "found goods, items or compost"
                )
        elif self.stream == "exchange":
            if (self.goods_item is None) != (self.goods_qty is None):
                raise ValueError(
                    "goods_qty: expected a goods item and its quantity together, found one of them"
                )
            waste = self.category is not None
            if waste and self.kg is None and self.items is None:
                raise ValueError("kg: expected the kg (or items) exchanged, found nothing")
            if not waste and not goods:
                raise ValueError(
                    "category: expected a hazardous category or goods handed out, found neither"
                )
            if not waste and (self.kg is not None or self.items is not None):
                raise ValueError("category: expected the category of the kg, found nothing")
            if self.cash_cny or self.price_cny_kg or self.compost_declared is not None:
                raise ValueError("stream: expected no cash or compost on an exchange line")
        else:
            if self.category is None:
                raise ValueError("category: expected the compost category, found nothing")
            if self.kg is None and self.compost_declared is None:
                raise ValueError("compost_declared: expected yes/no or kg, found nothing")
            if goods or self.cash_cny or self.items is not None:
                raise ValueError("stream: expected no goods or cash on a compost line")
        return self

    @property
    def natural_key(self) -> str:
        """run|point|household|stream|category|goods item (the default idempotency key)."""
        return natural_key(
            self.run_id, self.point, self.household, self.stream, self.category, self.goods_item
        )

    @property
    def entry_key(self) -> str:
        return self.key or self.natural_key

    def line(self) -> TallyLine:
        """This record as the importer's plain tuple."""
        return TallyLine(*(getattr(self, f) for f in TallyLine._fields))


# A line's fields that make its natural key, in natural_key's order.
NATURAL_FIELDS = ("run_id", "point", "household", "stream", "category", "goods_item")


class TallyLine(NamedTuple):
    """A valid :class:`TallyEntry`'s values as a tuple (the same fields, in order)."""

    run_id: str
    point: str
    household: str
    stream: str
    category: str | None
    kg: float | None
    items: float | None
    price_cny_kg: float | None
    cash_cny: float | None
    goods_item: str | None
    goods_qty: int | None
    points_redeemed: float | None
    compost_declared: bool | None
    note: str
    key: str | None

    @property
    def entry_key(self) -> str:
        """The idempotency key as written (:attr:`TallyEntry.entry_key`)."""
        if self.key is not None:
            return self.key
        return natural_key(
            self.run_id, self.point, self.household, self.stream, self.category, self.goods_item
        )


class GoodsCount(_Record):
    """Goods of one item on the truck: loaded at the depot, brought back."""

    item: str = _Id
    loaded: int | None = Field(None, ge=0, le=100_000)
    returned: int | None = Field(None, ge=0, le=100_000)


class WeighTicket(_Record):
    """A transfer station's weigh ticket: kg unloaded there."""

    station: str = _Id
    kg: float = Field(ge=0, le=1_000_000)
    ticket: str = Field("", max_length=64, description="The ticket's number.")


class Delivery(_Record):
    """kg handed to the recycling buyer or the hazardous-waste plant."""

    facility: str = _Id
    kg: float = Field(ge=0, le=1_000_000)
    ticket: str = Field("", max_length=64)


class RunClose(_Record):
    """The end-of-run box of a run sheet."""

    run_id: str = _Id
    cash_float_out_cny: float | None = Field(None, ge=0, le=10_000_000)
    cash_returned_cny: float | None = Field(None, ge=0, le=10_000_000)
    odometer_start_km: float | None = Field(None, ge=0, le=10_000_000)
    odometer_end_km: float | None = Field(None, ge=0, le=10_000_000)
    goods: tuple[GoodsCount, ...] = ()
    weigh_tickets: tuple[WeighTicket, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    note: str = Field("", max_length=500)
    key: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _odometer(self) -> RunClose:
        a, b = self.odometer_start_km, self.odometer_end_km
        if a is not None and b is not None and b < a:
            raise ValueError(f"odometer_end_km: expected at least the start reading {a}, found {b}")
        items = [g.item for g in self.goods]
        if len(set(items)) != len(items):
            raise ValueError("goods: expected each item once, found repeats")
        return self

    @property
    def distance_km(self) -> float | None:
        if self.odometer_start_km is None or self.odometer_end_km is None:
            return None
        return self.odometer_end_km - self.odometer_start_km

    @property
    def close_key(self) -> str:
        return self.key or self.run_id
