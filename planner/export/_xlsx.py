"""A small, fast writer of plain Office Open XML workbooks (``.xlsx``).

The office workbook has some 650,000 cells a month (the tallies sheet alone over
half a million); openpyxl serialises each through an element tree, which made the
workbook the second most expensive output. This writer makes the sheet XML as
text: values, one number format per column, a bold filled header row that stays
frozen, an autofilter and column widths, nothing else. Every text cell is an
inline string, so no text ever becomes a formula. The zip entries carry a fixed
date, so the same data gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk absorbed)
# Characters XML 1.0 does not allow (control characters other than tab and newlines).
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its title, header texts, number format per column, widths and rows."""

    title: str
    headers: Sequence[str]
    formats: Sequence[str | None]
    widths: Sequence[float]
    rows: Sequence[Sequence[Any]]


def column_letter(index: int) -> str:
    """``1`` → ``A``, ``27`` → ``AA``."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _text(value: str) -> str:
    return escape(_BAD_XML.sub("", value))


def _cell(ref: str, value: Any, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime):
        day = (value.date() - _EPOCH).days
        secs = value.hour * 3600 + value.minute * 60 + value.second
        return f'<c r="{ref}"{s}><v>{day + secs / 86400!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{s}><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, dt.time):
        secs = value.hour * 3600 + value.minute * 60 + value.second
        return f'<c r="{ref}"{s}><v>{secs / 86400!r}</v></c>'
    space = ' xml:space="preserve"' if str(value).strip() != str(value) else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_text(str(value))}</t></is></c>'


def _sheet_xml(sheet: Sheet, styles: dict[str | None, int]) -> str:
    letters = [column_letter(j) for j in range(1, len(sheet.headers) + 1)]
    col_styles = [styles[f] for f in sheet.formats]
    last = f"{letters[-1]}{len(sheet.rows) + 1}" if letters else "A1"
    out = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}" '
        f'xmlns:r="{_REL}"><dimension ref="A1:{last}"/><sheetViews><sheetView '
        'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><cols>',
        *(
            f'<col min="{j}" max="{j}" width="{w:g}" customWidth="1"/>'
            for j, w in enumerate(sheet.widths, start=1)
        ),
        '</cols><sheetData><row r="1">',
        *(_cell(f"{c}1", h, 1) for c, h in zip(letters, sheet.headers, strict=True)),
        "</row>",
    ]
    for i, row in enumerate(sheet.rows, start=2):
        cells = "".join(
            _cell(f"{c}{i}", v, st) for c, v, st in zip(letters, row, col_styles, strict=True)
        )
        out.append(f'<row r="{i}">{cells}</row>')
    out.append(f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>')
    return "".join(out)


def _styles_xml(formats: list[str]) -> str:
    """Style 0 plain, 1 the header (bold, filled), then one per number format."""
    custom = "".join(
        f'<numFmt numFmtId="{164 + k}" formatCode="{escape(f, {chr(34): "&quot;"})}"/>'
        for k, f in enumerate(formats)
    )
    xfs = "".join(
        f'<xf numFmtId="{164 + k}" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
        for k in range(len(formats))
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_NS}">'
        f'<numFmts count="{len(formats)}">{custom}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill><fill><patternFill '
        'patternType="solid"><fgColor rgb="00DDE7F0"/></patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{2 + len(formats)}">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" applyFont="1" applyFill="1" '
        'applyAlignment="1"><alignment vertical="center"/></xf>'
        f"{xfs}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _workbook_xml(sheets: Sequence[Sheet]) -> str:
    entries = "".join(
        f'<sheet name="{_text(s.title)}" sheetId="{k}" r:id="rId{k}"/>'
        for k, s in enumerate(sheets, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{k}" hidden="1">'
        f"'{_text(s.title)}'!$A$1:${column_letter(len(s.headers))}${len(s.rows) + 1}"
        "</definedName>"
        for k, s in enumerate(sheets)
        if s.headers
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" '
        f'xmlns:r="{_REL}"><bookViews><workbookView/></bookViews><sheets>{entries}</sheets>'
        f"<definedNames>{names}</definedNames></workbook>"
    )


def _core_xml(title: str, creator: str, stamp: dt.datetime) -> str:
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_text(title)}</dc:title><dc:creator>{_text(creator)}</dc:creator>"
        f"<cp:lastModifiedBy>{_text(creator)}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _content_types(n: int) -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{sheet}"/>'
        for k in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types '
        'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        f"{parts}</Types>"
    )


def _rels(targets: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<Relationship Id="rId{k}" Type="{kind}" Target="{target}"/>'
        for k, (kind, target) in enumerate(targets, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG}">{body}</Relationships>'
    )


def xlsx_bytes(sheets: Sequence[Sheet], *, title: str, creator: str, stamp: dt.datetime) -> bytes:
    """The workbook of ``sheets`` (document dates and zip entries dated ``stamp``)."""
    formats = sorted({f for s in sheets for f in s.formats if f})
    styles: dict[str | None, int] = {None: 0} | {f: 2 + k for k, f in enumerate(formats)}
    doc = f"{_REL}/officeDocument"
    parts = [
        ("[Content_Types].xml", _content_types(len(sheets))),
        (
            "_rels/.rels",
            _rels(
                [
                    (f"{doc}", "xl/workbook.xml"),
                    (f"{_PKG}/metadata/core-properties", "docProps/core.xml"),
                ]
            ),
        ),
        ("docProps/core.xml", _core_xml(title, creator, stamp)),
        ("xl/workbook.xml", _workbook_xml(sheets)),
        (
            "xl/_rels/workbook.xml.rels",
            _rels(
                [
                    (f"{_REL}/worksheet", f"worksheets/sheet{k}.xml")
                    for k in range(1, len(sheets) + 1)
                ]
                + [(f"{_REL}/styles", "styles.xml")]
            ),
        ),
        ("xl/styles.xml", _styles_xml(formats)),
        *(
            (f"xl/worksheets/sheet{k}.xml", _sheet_xml(s, styles))
            for k, s in enumerate(sheets, start=1)
        ),
    ]
    buf = io.BytesIO()
    when = (stamp.year, stamp.month, stamp.day, 0, 0, 0)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, text in parts:
            entry = zipfile.ZipInfo(name, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return buf.getvalue()
