"""HTTP dates parsed by position equal what the email package's parser makes of them (the
oracle, and the fallback for other forms)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from s3z_core.protocol.dates import parse_http_date


def test_imf_fixdates_equal_the_email_parser() -> None:
    rng = random.Random(3)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    for _ in range(5000):
        moment = start + timedelta(seconds=rng.randrange(0, 130 * 365 * 86400))
        text = format_datetime(moment, usegmt=True)  # what S3 sends: "Wed, 21 Oct 2015 ..."
        assert parse_http_date(text) == parsedate_to_datetime(text) == moment


@pytest.mark.parametrize(
    "text",
    [
        "Wednesday, 21-Oct-15 07:28:00 GMT",  # RFC 850
        "Wed Oct 21 07:28:00 2015",  # asctime
        "Wed, 21 Oct 2015 09:28:00 +0200",  # a numeric zone
    ],
)
def test_other_forms_fall_back_to_the_email_parser(text: str) -> None:
    assert parse_http_date(text) == parsedate_to_datetime(text)


@pytest.mark.parametrize(
    "text", ["", "soon", "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT"]
)
def test_what_is_not_a_date_is_none(text: str) -> None:
    assert parse_http_date(text) is None
