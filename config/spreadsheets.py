"""Cells of CSV files people open in a spreadsheet (Excel, LibreOffice).

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which
some spreadsheets skip before reading one of those) is read as a formula: a
value an agency recorded (an alias, a description, an account) could then run
`=HYPERLINK(...)` or worse on an analyst's machine (OWASP, "CSV injection").
Such a cell is written with a leading apostrophe, which spreadsheets show as
text and do not evaluate.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """`value` as the text of one CSV cell, never read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
