"""Compile locale/*.po to .mo without GNU gettext (fallback for machines without msgfmt)."""
import ast
import struct
import sys
from pathlib import Path


def parse_po(path: Path) -> dict[str, str]:
    messages, msgid, msgstr, section, fuzzy = {}, None, None, None, False

    def flush():
        if msgid is not None and msgstr and not fuzzy:
            messages[msgid] = msgstr

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            flush()
            msgid, msgstr, section = ast.literal_eval(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, section = ast.literal_eval(line[7:]), "str"
        elif line.startswith('"'):
            if section == "id":
                msgid += ast.literal_eval(line)
            elif section == "str":
                msgstr += ast.literal_eval(line)
        elif not line:
            flush()
            msgid, msgstr, section, fuzzy = None, None, None, False
    flush()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    keys = sorted(messages)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(messages[k].encode() + b"\0" for k in keys)
    start = 7 * 4 + 16 * len(keys)
    offsets, o = [], 0
    for k in keys:
        offsets.append((len(k.encode()), start + o)); o += len(k.encode()) + 1
    toffsets, o = [], 0
    for k in keys:
        v = messages[k].encode()
        toffsets.append((len(v), start + len(ids) + o)); o += len(v) + 1
    out = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    out += b"".join(struct.pack("ii", *x) for x in offsets) + b"".join(struct.pack("ii", *x) for x in toffsets)
    path.write_bytes(out + ids + strs)


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    for po in root.glob("locale/*/LC_MESSAGES/*.po"):
        write_mo(parse_po(po), po.with_suffix(".mo"))
    sys.exit(0)
