"""apps.core.exports: formula injection neutralised in every format, values as cells, CSV with a BOM, XLSX readable."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.utils import translation

from apps.core import exports
from apps.core.exports import Column, cell_value, neutralise


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_trigger_is_neutralised(trigger):
    assert neutralise(f"{trigger}1+2") == f"'{trigger}1+2"
    assert cell_value(f"{trigger}cmd|' /C calc'!A0") == f"'{trigger}cmd|' /C calc'!A0"


@pytest.mark.parametrize("text", ["plain", "爱丽丝", "1=1", "a-b", "", "'quoted"])
def test_ordinary_text_is_left_alone(text):
    assert neutralise(text) == text


def test_values_become_cells():
    assert cell_value(None) == ""
    assert cell_value(-5) == -5 and cell_value(Decimal("1.50")) == Decimal("1.50")  # numbers stay numbers
    assert cell_value(dt.date(2026, 4, 1)) == "2026-04-01"
    assert cell_value(["=a", "b"]) == "'=a; b"
    with translation.override("zh-hans"):
        assert cell_value(True) == "是"
    with translation.override("en"):
        assert cell_value(False) == "No"


def test_columns_read_paths_methods_and_callables():
    row = SimpleNamespace(pk=3, enterprise=SimpleNamespace(name="X"), label=lambda: "called", missing=None)
    assert Column("a", "enterprise.name").read(row) == "X"
    assert Column("a", "label").read(row) == "called"
    assert Column("a", "missing.name").read(row) is None
    assert Column("a", lambda r: r.pk * 2).read(row) == 6


ROWS = [SimpleNamespace(name="=SUM(A1:A9)", n=1), SimpleNamespace(name="@evil", n=-2),
        SimpleNamespace(name="电池", n=3)]
COLUMNS = [Column("名称", "name"), Column("数量", "n")]


def test_csv_has_a_bom_headers_and_neutralised_cells():
    response = exports.csv_response(ROWS, COLUMNS, filename="test")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [["名称", "数量"], ["'=SUM(A1:A9)", "1"], ["'@evil", "-2"], ["电池", "3"]]
    assert response["Content-Disposition"].startswith('attachment; filename="test-')


def test_xlsx_is_readable_with_strings_never_formulas():
    from python_calamine import CalamineWorkbook

    response = exports.xlsx_response(ROWS, COLUMNS, filename="test")
    content = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert rows == [["名称", "数量"], ["'=SUM(A1:A9)", 1.0], ["'@evil", -2.0], ["电池", 3.0]]
    import zipfile

    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell anywhere


def test_only_the_export_parameter_asks_for_an_export():
    factory = RequestFactory()
    assert exports.export_response(factory.get("/x/"), ROWS, COLUMNS, filename="t") is None
    assert exports.export_response(factory.get("/x/?export=pdf"), ROWS, COLUMNS, filename="t") is None
    assert exports.export_response(factory.get("/x/?export=csv"), ROWS, COLUMNS, filename="t") is not None
