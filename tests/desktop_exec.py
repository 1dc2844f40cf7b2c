"""An independent reading of a desktop entry's ``Exec`` key, by the freedesktop.org spec.

Tests use it to check that what ``s3z --install-desktop-entry`` wrote starts the program a
launcher would start: string escapes first (``\\\\``, ``\\s``…), then the quoting rules, then
``%%``. Field codes other than ``%%`` are refused (our entry uses none).
"""

from __future__ import annotations

from pathlib import Path

_STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def read_entry(path: Path) -> dict[str, str]:
    """The keys of the ``[Desktop Entry]`` group, raw (still escaped)."""
    keys: dict[str, str] = {}
    group = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            group = line.strip()
        elif group == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            keys[name.strip()] = value.strip()
    return keys


def unescape_string(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_STRING_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
    return "".join(out)


def exec_argv(value: str) -> list[str]:
    text = unescape_string(value)
    args: list[str] = []
    current: list[str] = []
    in_quotes = started = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_quotes:
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                current.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_quotes = False
            else:
                current.append(ch)
        elif ch == '"':
            in_quotes = started = True
        elif ch == " ":
            if started or current:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
        i += 1
    assert not in_quotes, f"unterminated quote in Exec={value!r}"
    if started or current:
        args.append("".join(current))
    for arg in args:
        assert "%" not in arg.replace("%%", ""), f"unexpected field code in {arg!r}"
    return [arg.replace("%%", "%") for arg in args]
