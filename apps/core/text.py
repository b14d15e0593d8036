"""Normalising identifiers typed by people (pure; no Django).

Only a–z are upper-cased: str.upper() would turn 'ı' into 'I', 'ſ' into 'S' or 'ß' into 'SS' and so hide a
forbidden character from the identifier checks that follow."""

_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def ascii_upper(raw) -> str:
    """Trimmed, with a–z upper-cased."""
    return str(raw or "").strip().translate(_ASCII_UPPER)


def ascii_upper_compact(raw) -> str:
    """All whitespace removed (codes pasted with spaces), with a–z upper-cased."""
    return "".join(str(raw or "").split()).translate(_ASCII_UPPER)
