"""S3's bucket naming rules, checked as the user types (no Qt, no server).

The server's own refusal comes late, lands in the status bar and loses the typed name
(issue 15, bug 7); this says which rule failed while the dialog is still open. The rules are
AWS's general-purpose bucket rules; S3-compatible stores accept a superset, so passing here
never blocks a name the server would take for AWS, and the server still has the last word.
"""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"[a-z0-9.-]*")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """The first rule ``name`` breaks, as a sentence for the dialog; None when it is valid."""
    if not name:
        return "Enter a name"
    if len(name) < 3:
        return "A bucket name needs at least 3 characters"
    if len(name) > 63:
        return f"A bucket name has at most 63 characters (this one has {len(name)})"
    if not _ALLOWED.fullmatch(name):
        bad = sorted({c for c in name if not _ALLOWED.fullmatch(c)})
        shown = " ".join(repr(c) for c in bad[:5])
        return f"Only lowercase letters, digits, dots and hyphens are allowed (not {shown})"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "A bucket name must begin and end with a letter or digit"
    if ".." in name:
        return "A bucket name must not have two dots in a row"
    if _IP_ADDRESS.fullmatch(name):
        return "A bucket name must not look like an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"Names beginning with {prefix!r} are reserved"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"Names ending with {suffix!r} are reserved"
    return None
