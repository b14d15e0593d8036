"""Compile locale/*.po to .mo without GNU gettext (fallback for machines without msgfmt).

Handles what `makemessages` writes: multi-line strings, `#, fuzzy` entries (skipped, except the header, which
carries Plural-Forms and the charset), `msgctxt` (key is context + "\\x04" + msgid) and plural entries (key is
msgid + "\\0" + msgid_plural, value is the msgstr[n] joined by "\\0"). Obsolete `#~` entries are ignored.
"""
import ast
import struct
import sys
from pathlib import Path


def _unquote(s: str) -> str:
    s = s.strip()
    if not (len(s) >= 2 and s[0] == '"' and s[-1] == '"'):
        raise ValueError(f"not a PO string: {s!r}")
    return ast.literal_eval(s)


def parse_po(path: Path) -> dict[str, str]:
    """Return {mo key: mo value} for every translated, non-fuzzy entry (and the header)."""
    messages: dict[str, str] = {}
    entry: dict = {}
    section = None  # the keyword the following continuation lines belong to
    fuzzy = False

    def flush():
        nonlocal entry, section, fuzzy
        if "msgid" in entry:
            msgid = entry["msgid"]
            is_header = msgid == "" and "msgctxt" not in entry
            if "msgid_plural" in entry:
                forms = [entry[k] for k in sorted(k for k in entry if isinstance(k, int))]
                key, value = msgid + "\0" + entry["msgid_plural"], "\0".join(forms)
                translated = bool(forms) and all(forms)
            else:
                key, value = msgid, entry.get("msgstr", "")
                translated = bool(value)
            if "msgctxt" in entry:
                key = entry["msgctxt"] + "\x04" + key
            if translated and (is_header or not fuzzy):
                messages[key] = value
        entry, section, fuzzy = {}, None, False

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        try:
            if not line:
                flush()
            elif line.startswith("#"):
                if any(k in entry for k in ("msgstr", 0)):
                    flush()  # a comment after a complete entry starts the next one
                if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                    fuzzy = True
                # other comments (#:, #., #|, #~ obsolete entries) carry no translation
            elif line.startswith('"'):
                if section is None:
                    raise ValueError("continuation line outside an entry")
                entry[section] += _unquote(line)
            else:
                keyword, _, rest = line.partition(" ")
                if keyword.startswith("msgstr[") and keyword.endswith("]"):
                    section = int(keyword[7:-1])
                elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
                    if keyword in ("msgctxt", "msgid") and any(k in entry for k in ("msgstr", 0)):
                        flush()  # a new entry starts without a blank line in between
                    section = keyword
                else:
                    raise ValueError(f"unknown keyword {keyword!r}")
                entry[section] = _unquote(rest)
        except (ValueError, SyntaxError) as exc:
            raise SystemExit(f"{path}:{lineno}: {exc}") from exc
    flush()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    """Write a little-endian GNU .mo file (no hash table), keys sorted bytewise as gettext expects."""
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in messages.items())
    n = len(items)
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + 8 * n
    data_start = strs_table + 8 * n
    ids = b"".join(k + b"\0" for k, _ in items)
    strs = b"".join(v + b"\0" for _, v in items)
    id_entries, str_entries = [], []
    offset = data_start
    for k, _ in items:
        id_entries.append(struct.pack("<II", len(k), offset))
        offset += len(k) + 1
    for _, v in items:
        str_entries.append(struct.pack("<II", len(v), offset))
        offset += len(v) + 1
    header = struct.pack("<7I", 0x950412DE, 0, n, ids_table, strs_table, 0, data_start)
    path.write_bytes(header + b"".join(id_entries) + b"".join(str_entries) + ids + strs)


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    pos = [Path(a) for a in argv] or sorted(root.glob("locale/*/LC_MESSAGES/*.po"))
    for po in pos:
        messages = parse_po(po)
        write_mo(messages, po.with_suffix(".mo"))
        shown = po.relative_to(root) if po.is_relative_to(root) else po
        print(f"{shown}: {len(messages) - ('' in messages)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
