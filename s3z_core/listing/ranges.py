"""Where to cut a key range so its pieces can be listed at once: pure functions over keys.

A split point is a string sent as ``start-after``; the parallel lister never needs it to be
a key. ListObjectsV2 lists in UTF-8 byte order (AWS, moto, rclone), which for Python strings
is code-point order, so plain ``str`` comparison is the byte order. SeaweedFS does not: it
lists in the order of a directory walk, comparing keys as tuples of their ``/`` segments
(``a/b`` before ``a+b``, because ``a`` < ``a+b``). The lister does not know in advance which
order a server uses, so `split_points` returns only points that fall between the same keys in
every order still possible (``orders``), and `consistent_orders` narrows that set from what
pages show.

The numbers: a key is read as a fraction whose digits are its characters, ranked in an
alphabet learned from the page just listed (so ``obj-000123.bin`` keys get base 17, not base
1,114,112, and midpoints land where keys are). The page also gives the density (keys per unit
of that number), which is how far to extrapolate past the last key when the range has no end.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import re
from collections.abc import Iterable, Sequence

#: Ends every split point. SeaweedFS answers ``start-after=d`` from after the whole ``d/``
#: subtree when ``d/`` exists (probed on 4.48), which would hide the keys between the point
#: and the next range; it stores ``\\`` as ``/``, so no folder of its ends in ``\\``. On
#: every other server the backslash is an ordinary character.
NOT_A_FOLDER = "\\"

#: How many characters past the common prefix count; longer keys compare as their prefix.
MAX_DIGITS = 256


class KeyOrder(enum.Enum):
    """How a server sorts keys in ListObjectsV2."""

    BYTES = "bytes"  # UTF-8 bytes, as the S3 API documents (AWS, moto, rclone)
    PATHS = "paths"  # tuples of '/'-separated segments: a directory walk (SeaweedFS)


ALL_ORDERS = frozenset(KeyOrder)
_BELOW_SLASH = re.compile("[\x00-.]")  # the characters that sort before "/"


def precedes(a: str, b: str, order: KeyOrder) -> bool:
    """``a`` sorts strictly before ``b`` in ``order``."""
    if order is KeyOrder.BYTES:
        return a < b
    return a.split("/") < b.split("/")


def consistent_orders(
    keys: Sequence[str], orders: frozenset[KeyOrder], after: str | None = None
) -> frozenset[KeyOrder]:
    """The orders in which ``keys`` (one server response, in its order) strictly increase and
    all come after ``after`` (the ``start-after`` sent, or the previous page's last key)."""
    seq: Sequence[str] = keys if after is None else [after, *keys]
    if len(seq) < 2:
        return orders
    in_bytes = all(a < b for a, b in itertools.pairwise(seq))
    kept = {KeyOrder.BYTES} if in_bytes and KeyOrder.BYTES in orders else set()
    if KeyOrder.PATHS in orders:
        if in_bytes and not _BELOW_SLASH.search("".join(seq)):
            # Two keys compare differently in the two orders only where one has "/" and
            # the other a character below it: without any, byte order is path order (and
            # splitting a 1,000-key page was most of this check's cost).
            kept.add(KeyOrder.PATHS)
        elif all(a < b for a, b in itertools.pairwise([k.split("/") for k in seq])):
            kept.add(KeyOrder.PATHS)
    return frozenset(kept)


def before_in_all(a: str, b: str, orders: Iterable[KeyOrder]) -> bool:
    """``a`` < ``b`` in every order of ``orders``."""
    return all(precedes(a, b, order) for order in orders)


def sendable(char: str) -> bool:
    """A character we may put in a ``start-after`` we invent: XML 1.0 can carry it back
    (moto and rclone echo StartAfter unencoded) and it is not a control character."""
    cp = ord(char)
    return not (cp < 0x20 or 0x7F <= cp <= 0x9F or 0xD800 <= cp <= 0xDFFF or cp in (0xFFFE, 0xFFFF))


def _common_prefix(strings: Sequence[str]) -> str:
    low, high = min(strings), max(strings)
    n = 0
    for x, y in zip(low, high, strict=False):
        if x != y:
            break
        n += 1
    return low[:n]


def _odd_path(text: str) -> bool:
    """Shapes SeaweedFS rewrites or refuses in keys (``a//b``, ``.`` and ``..`` segments)."""
    return "//" in text or any(seg in (".", "..") for seg in text.split("/")[1:])


#: Character classes a position is widened to: a counter seen at ``000``..``999`` goes on
#: with ``1`` in its fourth digit, and ids seen with a few letters use the others too. A
#: letter that never changes at a position is a name (``obj-``, ``photos/``), not widened.
_DIGITS = frozenset("0123456789")
_LETTERS = (frozenset("abcdefghijklmnopqrstuvwxyz"), frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
#: At most this many keys of a page are read for the alphabets (plus its least and greatest).
_ALPHABET_SAMPLE = 200


def _alphabet(column: Sequence[str | None]) -> list[str]:
    seen = {c for c in set(column) if c is not None and sendable(c)}
    if not seen.isdisjoint(_DIGITS):
        seen |= _DIGITS
    if len(seen) > 1:
        for letters in _LETTERS:
            if not seen.isdisjoint(letters):
                seen |= letters
    return sorted(seen)


class _Position:
    """One character position: its alphabet, and whether "the string ended here" is a digit
    (only where a string seen did end; otherwise a constant ``/`` or ``obj-`` would halve the
    density estimate at every such position)."""

    __slots__ = ("alphabet", "base", "ends")

    def __init__(self, column: Sequence[str | None]) -> None:
        self.alphabet = _alphabet(column)
        self.ends = None in column
        self.base = len(self.alphabet) + self.ends

    def rank(self, char: str) -> int:
        rank = bisect.bisect_right(self.alphabet, char)
        return rank if self.ends else max(0, rank - 1)


class _Digits:
    """Strings after a common prefix as mixed-radix integers, one alphabet per position.

    The numbers sort as the strings do: a character missing from its position's alphabet
    takes the rank of the nearest one below, so the map never reverses the order; it only
    merges neighbours, which costs precision, never correctness (the caller checks every
    point it makes against the real bounds).
    """

    def __init__(self, prefix: str, strings: Sequence[str]) -> None:
        cut = len(prefix)
        width = min(MAX_DIGITS, max(len(s) for s in strings) - cut)
        self.prefix = prefix
        self.positions: list[_Position] = []
        for column in itertools.zip_longest(*(s[cut : cut + width] for s in strings)):
            position = _Position(column)
            if not position.alphabet:
                break  # nothing sendable here: no point can reach past it
            self.positions.append(position)
        # place[i]: what one unit of digit i is worth (the product of the bases after it).
        self.place = [1] * (len(self.positions) + 1)
        for i in range(len(self.positions) - 1, -1, -1):
            self.place[i] = self.place[i + 1] * self.positions[i].base

    @property
    def top(self) -> int:
        return self.place[0]

    def value(self, key: str) -> int:
        tail = key[len(self.prefix) :]
        number = 0
        for index, position in enumerate(self.positions):
            if index >= len(tail):
                break
            number += position.rank(tail[index]) * self.place[index + 1]
        return number

    def text(self, number: int) -> str:
        """The string whose value is ``number``."""
        chars: list[str] = []
        rest = number
        for index, position in enumerate(self.positions):
            digit, rest = divmod(rest, self.place[index + 1])
            if position.ends:
                if digit == 0:
                    break
                digit -= 1
            chars.append(position.alphabet[digit])
        return self.prefix + "".join(chars)


def _space(
    after: str, before: str | None, sample: Sequence[str], prefix: str
) -> tuple[_Digits, int]:
    """The digits for this range and the sample's spread (its value span per key gap times
    the gaps, so ``spread // (len(sample) - 1)`` is one key's width)."""
    low_key, high_key = min(sample), max(sample)
    # With no end the range may run past everything the sample shares: only the listing
    # prefix is fixed then.
    common = prefix if before is None else _common_prefix([after, before, low_key, high_key])
    step = max(1, len(sample) // _ALPHABET_SAMPLE)
    seen = [*sample[::step], low_key, high_key, after] + ([] if before is None else [before])
    digits = _Digits(common, seen)
    return digits, digits.value(high_key) - digits.value(low_key)


def estimate_keys(
    after: str, before: str, sample: Sequence[str], *, prefix: str = ""
) -> int | None:
    """About how many keys lie between ``after`` and ``before`` at the density of ``sample``
    (``None`` when the sample says nothing): sizes the last request of a range so it does not
    read a whole page of the next range's keys only to drop them."""
    if len(sample) < 2:
        return None
    digits, spread = _space(after, before, sample, prefix)
    width = digits.value(before) - digits.value(after)
    if spread <= 0 or width < 0:
        return None
    return width * (len(sample) - 1) // spread


def split_points(
    after: str,
    before: str | None,
    sample: Sequence[str],
    *,
    prefix: str = "",
    keys_per_piece: int,
    max_points: int,
    orders: frozenset[KeyOrder] = ALL_ORDERS,
) -> list[str]:
    """Up to ``max_points`` increasing split points strictly between ``after`` (the last key
    listed) and ``before`` (where the next range starts; ``None`` = no end), each meant to
    start a piece of about ``keys_per_piece`` keys judged by the density of ``sample`` (the
    keys of the page just listed, all under the listing's ``prefix``). Empty when the range
    looks too small to split or no point fits: the caller then reads on with its token.

    Every point is between the same keys in every order of ``orders``, uses only `sendable`
    characters past the common prefix, and avoids ``//``, ``.`` and ``..`` path segments.
    """
    if max_points < 1 or keys_per_piece < 1 or len(sample) < 2 or not orders:
        return []
    digits, spread = _space(after, before, sample, prefix)
    per_piece = spread * keys_per_piece // (len(sample) - 1)
    if per_piece <= 0:
        return []
    low = digits.value(after)
    if before is None:
        targets = [low + per_piece * j for j in range(1, max_points + 1)]
        targets = [t for t in targets if t < digits.top]
    else:
        high = digits.value(before)
        pieces = min(max_points + 1, -(-(high - low) // per_piece))
        if pieces < 2:
            return []
        targets = [low + (high - low) * j // pieces for j in range(1, pieces)]
    odd_prefix = _odd_path(digits.prefix)
    points: list[str] = []
    floor = after
    for target in targets:
        # Full precision: the backslash then only lands after the key the digits spell,
        # where after a shortened point it would jump a whole digit's worth of keys.
        point = digits.text(target) + NOT_A_FOLDER
        if not before_in_all(floor, point, orders):
            continue
        if before is not None and not before_in_all(point, before, orders):
            break
        if _odd_path(point) and not odd_prefix:
            continue
        points.append(point)
        floor = point
    return points
