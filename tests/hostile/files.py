"""The hostile bulk files, as (id, file name, bytes, expectation). An expectation is ("ok", rows) for a file that
must be read correctly whatever its encoding, or ("fail", row, column, fragments): the refusal names that row
(None: the file as a whole) and column, and its messages contain one of the fragments."""
from __future__ import annotations

import io
import zipfile

from tests.batteries.conftest import make_code
from tests.hostile.corpus import JPEG, PDF, PNG, _patch_sizes, utf16, zip_bomb
from tests.xlsx import xlsx_bytes

ZH = "电池编码,额定容量(kWh),重量(kg),所属上级编码"
EN = "code,capacity_kwh,weight_kg,parent_code"
BAD_CODE = ("GB/T 34014", "24")
LENGTH = ("24",)
ROW_SHAPE = ("fields", "字段", "列")
UNREADABLE = ("cannot be read", "无法", "NUL")
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("http://x.example","点我")',
            "\t=1+1", "=1+1"]


def text(header: str, rows: list[str], *, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


def _xlsx_with_sheet(sheet_xml: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["电池编码"], ["x"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in src.infolist():
            target.writestr(info.filename,
                            sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info.filename))
    return out.getvalue()


def _sheet(cells: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + cells
            + "</sheetData></worksheet>")


def _lying_bomb() -> bytes:
    """A sheet of 20 MB of repeated rows whose headers claim 1 KB."""
    row = '<row><c t="inlineStr"><is><t>0PAPE01ABCDEFGT3F0000001</t></is></c></row>'
    raw = bytearray(_xlsx_with_sheet(_sheet(row * 300_000)))
    _patch_sizes(raw, b"xl/worksheets/sheet1.xml", 1024)
    return bytes(raw)


def registration_cases() -> list[tuple]:
    c = make_code
    good = [c(), c()]
    cases = [
        # --- encodings that must be read ---
        ("gbk-ok", "a.csv", text(ZH, [f"{c()},75.5,420,", f"{c()},,,"]).encode("gbk"), ("ok", 2)),
        ("gb18030-ok", "a.csv", text(ZH, [f"{c()},1,2,"]).encode("gb18030"), ("ok", 1)),
        ("utf8-bom-ok", "a.csv", b"\xef\xbb\xbf" + text(ZH, [f"{c()},1,2,"]).encode(), ("ok", 1)),
        ("utf16le-bom-ok", "a.csv", utf16(text(ZH, [f"{c()},1,2,"]), "le"), ("ok", 1)),
        ("utf16be-bom-ok", "a.csv", utf16(text(ZH, [f"{c()},1,2,"]), "be"), ("ok", 1)),
        ("crlf-ok", "a.csv", text(EN, [f"{c()},1,2,", f"{c()},1,2,"], newline="\r\n").encode(), ("ok", 2)),
        ("cr-only-ok", "a.csv", text(EN, [f"{c()},1,2,"], newline="\r").encode(), ("ok", 1)),
        ("trailing-empty-cells-ok", "a.csv", text(EN, [f"{c()},1,2,,,,"]).encode(), ("ok", 1)),
        # --- encodings with a bad row: the row is still named ---
        ("gbk-bad-row3", "a.csv", text(ZH, [f"{c()},1,2,", "坏编码,1,2,"]).encode("gbk"), ("fail", 3, "code", BAD_CODE)),
        ("utf8-bom-bad-row2", "a.csv", b"\xef\xbb\xbf" + text(ZH, ["X1,1,2,"]).encode(), ("fail", 2, "code", LENGTH)),
        ("utf16le-bad-row2", "a.csv", utf16(text(ZH, ["电池,1,2,"]), "le"), ("fail", 2, "code", LENGTH)),
        ("utf16be-bad-row3", "a.csv", utf16(text(ZH, [f"{c()},1,2,", "Ｘ,1,2,"]), "be"), ("fail", 3, "code", LENGTH)),
        ("big5-header", "a.csv", text("電池編碼,額定容量(kWh)", [f"{c()},1"]).encode("big5"),
         ("fail", 1, None, ("Unknown column", "GB18030", "未知", "无法识别"))),
        ("big5-value", "a.csv", text(EN, [f"{c()},七十,2,"]).encode("big5"),
         ("fail", 2, None, ("number", "数", "GB18030", "UTF-8"))),
        ("utf16le-no-bom", "a.csv", text(EN, [f"{c()},1,2,"]).encode("utf-16-le"), ("fail", 1, None, ("column", "NUL", "列"))),
        ("invalid-byte-ff", "a.csv", text(EN, [f"{c()},1,2,"]).encode() + b"\xff\xfe\xfd,1,2,\n",
         ("fail", 3, None, ("0xFF", "GB18030"))),
        ("latin1-value", "a.csv", text(EN, [f"{c()},1,2,"]).encode() + "Ç\xe9,1,2,\n".encode("latin-1"),
         ("fail", 3, None, ("GB18030", "GBK", "24"))),
        # --- structure ---
        ("bom-only", "a.csv", b"\xef\xbb\xbf", ("fail", None, None, ("empty", "空"))),
        ("whitespace-only", "a.csv", b"   \n  \n", ("fail", 1, None, ("header", "标题", "表头"))),
        ("header-only", "a.csv", (ZH + "\n").encode(), ("fail", None, None, ("no data rows", "没有数据"))),
        ("header-then-blank-lines", "a.csv", (ZH + "\n\n,,,\n\n").encode(), ("fail", None, None, ("no data rows", "没有数据"))),
        ("unknown-column", "a.csv", text("电池编码,颜色", [f"{c()},红"]).encode(), ("fail", 1, None, ("颜色",))),
        ("duplicate-column", "a.csv", text("电池编码,code", [f"{c()},{c()}"]).encode(), ("fail", 1, None, ("twice", "两次", "重复"))),
        ("missing-required-column", "a.csv", text("额定容量(kWh)", ["1"]).encode(), ("fail", 1, None, ("电池编码", "code"))),
        ("empty-header-cell", "a.csv", text("电池编码,,重量(kg)", [f"{c()},,1"]).encode(), ("fail", 1, None, ("2",))),
        ("semicolon-delimited", "a.csv", text("电池编码;重量(kg)", [f"{c()};1"]).encode(), ("fail", 1, None, ("电池编码;",))),
        ("ragged-more", "a.csv", text(EN, [f"{c()},1,2,,extra"]).encode(), ("fail", 2, None, ROW_SHAPE)),
        ("ragged-fewer", "a.csv", text(EN, [f"{c()},1"]).encode(), ("fail", 2, None, ROW_SHAPE)),
        ("ragged-third-row", "a.csv", text(EN, [f"{c()},1,2,", f"{c()},1,2,", f"{c()}"]).encode(), ("fail", 4, None, ROW_SHAPE)),
        ("nul-in-row", "a.csv", text(EN, [f"{c()}\x00,1,2,"]).encode(), ("fail", 2, "code", LENGTH + UNREADABLE)),
        ("nul-in-header", "a.csv", text("co\x00de,capacity_kwh", [f"{c()},1"]).encode(), ("fail", 1, None, UNREADABLE + ("code",))),
        ("nul-file", "a.csv", b"\x00" * 64, ("fail", 1, None, UNREADABLE + ("Unknown column",))),
        ("unterminated-quote", "a.csv", text(EN, [f'"{c()},1,2,']).encode(), ("fail", 2, None, ("CSV",) + ROW_SHAPE)),
        ("quoted-newline-in-code", "a.csv", text(EN, [f'"{c()[:10]}\n{c()[10:]}",1,2,']).encode(), ("fail", 2, "code", LENGTH)),
        # --- long fields ---
        ("code-10000-chars", "a.csv", text(EN, ["A" * 10_000 + ",1,2,"]).encode(), ("fail", 2, "code", LENGTH)),
        ("capacity-10000-digits", "a.csv", text(EN, [f"{c()},{'9' * 10_000},2,"]).encode(), ("fail", 2, "capacity_kwh", ("9999",))),
        ("parent-10000-chars", "a.csv", text(EN, [f"{c()},1,2,{'Z' * 10_000}"]).encode(), ("fail", 2, "parent_code", LENGTH)),
        ("field-50000-chars", "a.csv", text(EN, ["B" * 50_000 + ",1,2,"]).encode(), ("fail", 2, None, UNREADABLE + LENGTH)),
        ("header-10000-chars", "a.csv", text("H" * 10_000, [c()]).encode(), ("fail", 1, None, ("HHHH",))),
        # --- numbers ---
        ("capacity-negative", "a.csv", text(EN, [f"{c()},-75,2,"]).encode(), ("fail", 2, "capacity_kwh", ("-75",))),
        ("capacity-nan", "a.csv", text(EN, [f"{c()},NaN,2,"]).encode(), ("fail", 2, "capacity_kwh", ("NaN",))),
        ("weight-infinity", "a.csv", text(EN, [f"{c()},1,Infinity,"]).encode(), ("fail", 2, "weight_kg", ("Infinity",))),
        ("capacity-1e400", "a.csv", text(EN, [f"{c()},1e400,2,"]).encode(), ("fail", 2, "capacity_kwh", ("1e400",))),
        ("capacity-fullwidth-digits-read", "a.csv", text(EN, [f"{c()},７５,2,"]).encode(), ("ok", 1)),
        # --- identifiers inside files ---
        ("code-zero-width", "a.csv", text(EN, [c()[:5] + "\u200b" + c()[6:] + ",1,2,"]).encode(), ("fail", 2, "code", ("6",))),
        ("code-cyrillic", "a.csv", text(EN, [c()[:3] + "\u0420" + c()[4:] + ",1,2,"]).encode(), ("fail", 2, "code", ("4",))),
        ("code-fullwidth", "a.csv", text(EN, ["".join(chr(ord(ch) + 0xFEE0) for ch in c()) + ",1,2,"]).encode(), ("fail", 2, "code", ("1",))),
        ("code-dotless-i", "a.csv", text(EN, [c()[:7] + "\u0131" + c()[8:] + ",1,2,"]).encode(), ("fail", 2, "code", ("8",))),
        ("code-html", "a.csv", text(EN, ["<script>alert(1)</script>,1,2,"]).encode(), ("fail", 2, "code", ("GB/T 34014",))),
        ("code-img-onerror", "a.csv", text(EN, ['"""><img src=x onerror=alert(1)>",1,2,']).encode(), ("fail", 2, "code", ("GB/T 34014",))),
        ("code-other-maker", "a.csv", text(EN, [c("1KC") + ",1,2,"]).encode(), ("fail", 2, "code", ("1KC",))),
        ("code-twice", "a.csv", text(EN, [f"{good[0]},1,2,", f"{good[0]},1,2,"]).encode(), ("fail", 3, "code", ("2",))),
        ("parent-unknown", "a.csv", text(EN, [f"{c(product='M')},1,2,{c()}"]).encode(), ("fail", 2, "parent_code", ("",))),
    ]
    for n, formula in enumerate(FORMULAS):
        cases.append((f"formula-code-{n}", "a.csv", text(EN, [f'"{formula}",1,2,']).encode(), ("fail", 2, "code", ("GB/T 34014",))))
    cases += [
        ("formula-capacity", "a.csv", text(EN, [f"{c()},=1+1,2,"]).encode(), ("fail", 2, "capacity_kwh", ("=1+1",))),
        ("formula-weight", "a.csv", text(EN, [f"{c()},1,+2-1,"]).encode(), ("fail", 2, "weight_kg", ("+2-1",))),
        ("formula-parent", "a.csv", text(EN, [f"{c()},1,2,@A1"]).encode(), ("fail", 2, "parent_code", ("@A1",))),
    ]
    cases += xlsx_cases()
    return cases


def xlsx_cases() -> list[tuple]:
    c = make_code
    good = xlsx_bytes([["电池编码", "重量(kg)"], [c(), 1], [c(), 2]])
    zipped_text = io.BytesIO()
    with zipfile.ZipFile(zipped_text, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    DAMAGED = ("damaged", "truncated", "损坏", "cannot be read", "无法读取")
    NOT_SHEET = ("not a CSV", "不是")
    return [
        ("xlsx-ok", "a.xlsx", good, ("ok", 2)),
        ("xlsx-bad-row3", "a.xlsx", xlsx_bytes([["电池编码"], [c()], ["坏"]]), ("fail", 3, "code", LENGTH)),
        ("xlsx-html-cell", "a.xlsx", xlsx_bytes([["电池编码"], ["<script>alert(1)</script>"]]), ("fail", 2, "code", ("GB/T 34014",))),
        ("xlsx-formula-text", "a.xlsx", xlsx_bytes([["电池编码"], ["=cmd|' /C calc'!A0"]]), ("fail", 2, "code", ("GB/T 34014",))),
        ("xlsx-number-as-code", "a.xlsx", xlsx_bytes([["电池编码"], [12345]]), ("fail", 2, "code", LENGTH)),
        ("xlsx-values-beyond-header", "a.xlsx", xlsx_bytes([["电池编码"], [c(), "extra"]]), ("fail", 2, None, ("header", "列", "表头"))),
        ("xlsx-empty-sheet", "a.xlsx", _xlsx_with_sheet(_sheet("")), ("fail", 1, None, ("empty", "空"))),
        ("xlsx-header-only", "a.xlsx", xlsx_bytes([["电池编码"]]), ("fail", None, None, ("no data rows", "没有数据"))),
        ("xlsx-zip-bomb-declared-2gb", "a.xlsx", zip_bomb(), ("fail", None, None, ("1 GB", "inflates", "1 GB", "膨胀", "forged"))),
        ("xlsx-zip-bomb-declared-600mb", "a.xlsx", zip_bomb(600 * 1024 ** 2), ("fail", None, None, ("inflates", "膨胀", "forged", "伪造"))),
        ("xlsx-zip-bomb-lying-header", "a.xlsx", _lying_bomb(), ("fail", None, None, ("forged", "伪造", "declares"))),
        ("xlsx-zeros-sheet", "a.xlsx", zip_bomb(declared_only=False), ("fail", None, None, DAMAGED)),
        ("xlsx-sparse-XFD1048576", "a.xlsx", _xlsx_with_sheet(_sheet(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>电池编码</t></is></c></row>'
            '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')),
         ("fail", 1048576, "XFD", ("XFD1048576",))),
        ("xlsx-sparse-A1048576-Z", "a.xlsx", _xlsx_with_sheet(_sheet(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>电池编码</t></is></c></row>'
            '<row r="1048576"><c r="CZ1048576"><v>1</v></c></row>')), ("fail", 1048576, "CZ", ("CZ1048576",))),
        ("xlsx-200-columns", "a.xlsx", xlsx_bytes([["电池编码"] + [None] * 198 + ["x"], [c()]]), ("fail", 1, "GR", ("GR1",))),
        ("xlsx-truncated-half", "a.xlsx", good[: len(good) // 2], ("fail", None, None, DAMAGED)),
        ("xlsx-truncated-100", "a.xlsx", good[:100], ("fail", None, None, DAMAGED)),
        ("xlsx-garbage-after-magic", "a.xlsx", b"PK\x03\x04" + b"\x00" * 200, ("fail", None, None, DAMAGED)),
        ("xlsx-zip-not-workbook", "a.xlsx", zipped_text.getvalue(), ("fail", None, None, ("not an Excel workbook", "不是"))),
        ("xlsx-empty-zip", "a.xlsx", b"PK\x05\x06" + b"\x00" * 18, ("fail", 1, None, NOT_SHEET)),
        ("pdf-named-xlsx", "a.xlsx", PDF, ("fail", 1, None, ("PDF",))),
        ("png-named-xlsx", "a.xlsx", PNG, ("fail", 1, None, ("PNG",))),
        ("jpeg-named-xlsx", "a.xlsx", JPEG, ("fail", 1, None, ("JPEG",))),
        ("xls-named-xlsx", "a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, ("fail", 1, None, (".xls",))),
        ("gzip-named-csv", "a.csv", b"\x1f\x8b\x08\x00" + b"\x00" * 40, ("fail", 1, None, ("gzip",))),
        ("exe-named-csv", "a.csv", b"MZ\x90\x00" + b"\x00" * 60, ("fail", 1, None, ("executable",))),
        ("pdf-named-csv", "a.csv", PDF, ("fail", 1, None, ("PDF",))),
    ]
