"""Tables as files people open elsewhere: CSV (UTF-8 with a byte-order mark, so Excel reads
accents and units right) and Excel workbooks (one sheet per table, columns sized to fit)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd

__all__ = ["csv_bytes", "excel_bytes", "file_stem"]


def file_stem(text: str) -> str:
    """A file name stem from words: letters, digits, ``-`` and ``_`` only (``run`` if none)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:80] or "table"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV, without the index unless it is named (a table keyed by KPI)."""
    named = any(name is not None for name in frame.index.names)
    return frame.to_csv(index=named).encode("utf-8-sig")


def excel_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one sheet per table (sheet names cut to Excel's 31 characters)."""
    from openpyxl.utils import get_column_letter

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            sheet = re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "Sheet"
            named = any(n is not None for n in frame.index.names)
            frame.to_excel(writer, sheet_name=sheet, index=named)
            worksheet = writer.sheets[sheet]
            columns = ([str(frame.index.name or "")] if named else []) + [str(c) for c in frame.columns]
            for i, title in enumerate(columns, start=1):
                values = frame.index if named and i == 1 else frame.iloc[:, i - 1 - int(named)]
                width = max([len(title), *(len(str(v)) for v in values[:200])]) + 2
                worksheet.column_dimensions[get_column_letter(i)].width = min(width, 60)
    return buffer.getvalue()
