"""The hostile input corpus: malformed identifiers, hostile text and hostile files, as data.

Every entry is (id, value, what the refusal must name). The tests in this folder feed each one to every entry point
that takes it (forms, API, bulk files) and assert a clear refusal that changes nothing, or escaped rendering.
"""
from __future__ import annotations

import codecs
import io
import zipfile

# A valid GB/T 34014 code of the test maker "0PA": pack, battery type E, 2026-03-15, serial 0000001.
from apps.batteries.codes import encode_production_date
import datetime as dt

DATE = encode_production_date(dt.date(2026, 3, 15))
GOOD_CODE = f"0PAPE01ABCDEFG{DATE}0000001"
assert len(GOOD_CODE) == 24


def _at(code: str, position: int, char: str) -> str:
    """`code` with the character at 1-based `position` replaced by `char`."""
    return code[: position - 1] + char + code[position:]


FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
CYRILLIC = {"A": "\u0410", "B": "\u0412", "E": "\u0415", "K": "\u041a", "M": "\u041c", "H": "\u041d",
            "O": "\u041e", "P": "\u0420", "C": "\u0421", "T": "\u0422", "X": "\u0425"}

# --- battery codes (GB/T 34014: 24 characters, 0-9 A-Z, P/M/C at 4, battery type at 5, date 15-17, serial 18-24) --
BATTERY_CODES: list[tuple[str, str, str]] = [
    ("len-23", GOOD_CODE[:-1], "24"),
    ("len-25", GOOD_CODE + "1", "24"),
    ("len-1", "0", "24"),
    ("len-12", GOOD_CODE[:12], "24"),
    ("len-48", GOOD_CODE * 2, "24"),
    ("fullwidth-digit-1", _at(GOOD_CODE, 1, FULLWIDTH["0"]), "1"),
    ("fullwidth-letter-2", _at(GOOD_CODE, 2, FULLWIDTH["P"]), "2"),
    ("fullwidth-serial", GOOD_CODE[:17] + "".join(FULLWIDTH[c] for c in GOOD_CODE[17:]), "18"),
    ("fullwidth-all", "".join(FULLWIDTH[c] for c in GOOD_CODE), "1"),
    ("cyrillic-P-4", _at(GOOD_CODE, 4, CYRILLIC["P"]), "4"),
    ("cyrillic-E-5", _at(GOOD_CODE, 5, CYRILLIC["E"]), "5"),
    ("cyrillic-A-3", _at(GOOD_CODE, 3, CYRILLIC["A"]), "3"),
    ("cyrillic-C-8", _at(GOOD_CODE, 8, CYRILLIC["C"]), "8"),
    ("cyrillic-O-for-zero", _at(GOOD_CODE, 1, CYRILLIC["O"]), "1"),
    ("greek-rho-4", _at(GOOD_CODE, 4, "\u03a1"), "4"),
    ("zwsp-middle", GOOD_CODE[:10] + "\u200b" + GOOD_CODE[10:], "24"),
    ("zwsp-replacing", _at(GOOD_CODE, 10, "\u200b"), "10"),
    ("zwnj-replacing", _at(GOOD_CODE, 12, "\u200c"), "12"),
    ("zwj-replacing", _at(GOOD_CODE, 6, "\u200d"), "6"),
    ("bom-replacing", _at(GOOD_CODE, 1, "\ufeff"), "1"),
    ("word-joiner", GOOD_CODE[:5] + "\u2060" + GOOD_CODE[5:], "24"),
    ("rtl-override", _at(GOOD_CODE, 9, "\u202e"), "9"),
    ("nul-replacing", _at(GOOD_CODE, 7, "\x00"), "7"),
    ("nul-appended", GOOD_CODE + "\x00", "24"),
    ("nul-middle", GOOD_CODE[:12] + "\x00" + GOOD_CODE[12:], "24"),
    ("tab-inside", _at(GOOD_CODE, 11, "\t"), "11"),
    ("space-inside", _at(GOOD_CODE, 11, " "), "11"),
    ("dotless-i", _at(GOOD_CODE, 8, "\u0131"), "8"),  # 'ı'.upper() == 'I': must not be folded
    ("long-s", _at(GOOD_CODE, 8, "\u017f"), "8"),  # 'ſ'.upper() == 'S'
    ("kelvin-sign", _at(GOOD_CODE, 8, "\u212a"), "8"),  # looks like K
    ("combining-acute", _at(GOOD_CODE, 9, "\u0301"), "9"),
    ("emoji", _at(GOOD_CODE, 9, "\U0001f50b"), "9"),
    ("hyphen", _at(GOOD_CODE, 9, "-"), "9"),
    ("lowercase-with-umlaut", _at(GOOD_CODE.lower(), 9, "\u00e4"), "9"),
    ("product-type-X", _at(GOOD_CODE, 4, "X"), "4"),
    ("battery-type-Q", _at(GOOD_CODE, 5, "Q"), "5"),
    ("month-D", _at(GOOD_CODE, 16, "D"), "16"),
    ("month-0", _at(GOOD_CODE, 16, "0"), "16"),
    ("serial-letter", _at(GOOD_CODE, 24, "A"), "24"),
    ("serial-zero", GOOD_CODE[:17] + "0000000", "18"),
    ("sql-quote", "0PAPE01' OR '1'='1'--XYZ", "8"),
    ("html", "<script>alert(1)</script>"[:24], "1"),
    ("percent-encoded", "0PAPE01ABCDEFG%2F0000001", "15"),
]

# --- VINs (ISO 3779 / GB 16735: 17 characters, no I O Q, check digit at 9) ---------------------------------------
GOOD_VIN = "LSVAU218XN2183294"


def _vin_at(position: int, char: str) -> str:
    return _at(GOOD_VIN, position, char)


VINS: list[tuple[str, str, str]] = [
    ("letter-I", _vin_at(4, "I"), "4"),
    ("letter-O", _vin_at(5, "O"), "5"),
    ("letter-Q", _vin_at(12, "Q"), "12"),
    ("lowercase-i", _vin_at(4, "i"), "4"),
    ("lowercase-o", _vin_at(5, "o"), "5"),
    ("check-digit", _vin_at(9, "1"), "9"),
    ("check-digit-0", _vin_at(9, "0"), "9"),
    ("len-16", GOOD_VIN[:-1], "17"),
    ("len-18", GOOD_VIN + "1", "17"),
    ("len-5", GOOD_VIN[:5], "17"),
    ("fullwidth-digit", _vin_at(6, FULLWIDTH["2"]), "6"),
    ("fullwidth-all", "".join(FULLWIDTH[c] for c in GOOD_VIN), "1"),
    ("cyrillic-A", _vin_at(4, CYRILLIC["A"]), "4"),
    ("cyrillic-H", _vin_at(1, CYRILLIC["H"]), "1"),
    ("zwsp", _vin_at(10, "\u200b"), "10"),
    ("zwsp-extra", GOOD_VIN[:8] + "\u200b" + GOOD_VIN[8:], "17"),
    ("nul", _vin_at(3, "\x00"), "3"),
    ("dotless-i", _vin_at(4, "\u0131"), "4"),
    ("hyphen", _vin_at(7, "-"), "7"),
    ("html", '"><img src=x onerror=a>'[:17], "1"),
]

# --- unified social credit codes (GB 32100-2015: 18 characters of 0-9 A-Y without I O S V Z, check at 18) ----------
GOOD_USCC = "91350100M000100Y43"


def _uscc_at(position: int, char: str) -> str:
    return _at(GOOD_USCC, position, char)


USCCS: list[tuple[str, str, str]] = [
    ("check-char", _uscc_at(18, "2"), "18"),
    ("check-char-letter", _uscc_at(18, "A"), "18"),
    ("len-17", GOOD_USCC[:-1], "18"),
    ("len-19", GOOD_USCC + "1", "18"),
    ("len-15", GOOD_USCC[:15], "18"),
    ("letter-I", _uscc_at(9, "I"), "9"),
    ("letter-O", _uscc_at(9, "O"), "9"),
    ("letter-S", _uscc_at(10, "S"), "10"),
    ("letter-V", _uscc_at(10, "V"), "10"),
    ("letter-Z", _uscc_at(10, "Z"), "10"),
    ("fullwidth", _uscc_at(3, FULLWIDTH["3"]), "3"),
    ("cyrillic-M", _uscc_at(9, CYRILLIC["M"]), "9"),
    ("zwsp", _uscc_at(5, "\u200b"), "5"),
    ("nul", _uscc_at(5, "\x00"), "5"),
    ("dotless-i", _uscc_at(9, "\u0131"), "9"),
    ("html", "<b>91350100M0001</b>", "18"),
]

# --- hostile text for every free-text field ------------------------------------------------------------------
XSS = [
    ("script", "<script>alert('bt')</script>"),
    ("img-onerror", '"><img src=x onerror=alert(1)>'),
    ("javascript-url", "javascript:alert(document.cookie)"),
    ("svg-onload", "<svg/onload=alert(1)>"),
    ("attr-break", "' onmouseover='alert(1)"),
    ("closing-textarea", "</textarea><script>alert(1)</script>"),
]
RAW_MARKERS = ("<script>", "<img src=x", "<svg/onload", "</textarea><script")


# --- hostile bulk files ---------------------------------------------------------------------------------------
def utf16(text: str, endian: str) -> bytes:
    bom = codecs.BOM_UTF16_LE if endian == "le" else codecs.BOM_UTF16_BE
    return bom + text.encode("utf-16-le" if endian == "le" else "utf-16-be")


def zip_bomb(member_bytes: int = 2 * 1024 ** 3, *, declared_only: bool = True) -> bytes:
    """A small .xlsx-looking ZIP whose sheet declares `member_bytes` uncompressed. With `declared_only` the local
    and central headers claim the size but the stored deflate stream is tiny (a reader that trusts the stream
    and not the header would still inflate only a little, but a reader that checks the declared size refuses)."""
    from tests.xlsx import xlsx_bytes

    base = xlsx_bytes([["电池编码"], [GOOD_CODE]])
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                continue
            target.writestr(info.filename, data)
        # 8 MiB of zeros compress to ~8 KiB: the sheet itself is a real bomb at a smaller scale...
        target.writestr("xl/worksheets/sheet1.xml", b"\x00" * (8 * 1024 * 1024))
    raw = bytearray(out.getvalue())
    if declared_only:
        # ...and its headers declare `member_bytes` (GBs), as a real bomb's do.
        _patch_sizes(raw, b"xl/worksheets/sheet1.xml", member_bytes)
    return bytes(raw)


def _patch_sizes(raw: bytearray, name: bytes, size: int) -> None:
    import struct

    size = min(size, 0xFFFFFFFE)
    start = 0
    while (pos := raw.find(b"PK\x03\x04", start)) != -1:
        nlen = struct.unpack_from("<H", raw, pos + 26)[0]
        if raw[pos + 30: pos + 30 + nlen] == name:
            struct.pack_into("<I", raw, pos + 22, size)
        start = pos + 4
    start = 0
    while (pos := raw.find(b"PK\x01\x02", start)) != -1:
        nlen = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46: pos + 46 + nlen] == name:
            struct.pack_into("<I", raw, pos + 24, size)
        start = pos + 4


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
