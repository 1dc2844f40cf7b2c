"""``--content-type``, ``--cache-control`` and ``--metadata``: what an upload sets on its
objects, spelled as ``aws s3 cp`` spells them (``--metadata`` takes ``k=v,k2=v2`` or a
JSON object). They apply to uploads only: a copy keeps its source's headers and metadata.
Importing this costs only argparse and json."""

from __future__ import annotations

import argparse
import json


def metadata_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """``owner=ann,team=web`` or ``{"owner": "ann"}`` as pairs (names are checked later,
    with the other options, by ``UploadOptions``)."""
    if text.lstrip().startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"not a JSON object: {exc.msg}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise argparse.ArgumentTypeError('a JSON object of strings, e.g. {"owner": "ann"}')
        return tuple((str(k), v) for k, v in loaded.items())
    pairs: list[tuple[str, str]] = []
    for item in text.split(","):
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise argparse.ArgumentTypeError(f"not NAME=VALUE: {item!r} (e.g. owner=ann,team=web)")
        pairs.append((name.strip(), value))
    return tuple(pairs)


def add_upload_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("uploaded objects")
    g.add_argument(
        "--content-type",
        metavar="TYPE",
        help="Content-Type of every uploaded file (default: guessed from each file's name)",
    )
    g.add_argument(
        "--cache-control",
        metavar="VALUE",
        help="Cache-Control of every uploaded file, e.g. 'max-age=3600'",
    )
    g.add_argument(
        "--metadata",
        type=metadata_pairs,
        metavar="K=V,…",
        help="user metadata (x-amz-meta-*) of every uploaded file: k=v,k2=v2 or JSON",
    )
