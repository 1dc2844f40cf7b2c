"""Pure units: URL parsing, size parsing/formatting, include/exclude ordering."""

from __future__ import annotations

import pytest

from s3z_core.cli.units import format_duration, format_size, parse_size
from s3z_core.cli.urls import Location, parse_location, parse_remote
from s3z_core.errors import ConfigError
from s3z_core.filters import PathFilter


@pytest.mark.parametrize(
    ("text", "bucket", "key"),
    [
        ("s3://b", "b", ""),
        ("s3://b/", "b", ""),
        ("s3://b/k", "b", "k"),
        ("s3://b/dir/", "b", "dir/"),
        ("S3://My_Bucket.x/a//b", "My_Bucket.x", "a//b"),
        ("s3://b/sp ace/é+%", "b", "sp ace/é+%"),
    ],
)
def test_parse_s3_urls(text: str, bucket: str, key: str) -> None:
    location = parse_location(text)
    assert location.is_remote
    assert (location.bucket, location.key) == (bucket, key)


def test_local_paths_stay_as_typed() -> None:
    for text in ("file.txt", "./dir/", "/abs/p", "C:\\x", "s3:/not-a-url"):
        location = parse_location(text)
        assert not location.is_remote
        assert location.path == text
        assert str(location) == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("s3://", "no bucket"),
        ("s3:///key", "no bucket"),
        ("s3://bad bucket/k", "not a valid bucket"),
        ("s3://-x/k", "not a valid bucket"),
        ("gs://b/k", "unsupported URL scheme"),
        ("http://host/b", "unsupported URL scheme"),
        ("", "empty"),
    ],
)
def test_bad_urls_are_config_errors(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_location(text)


def test_parse_remote_constraints() -> None:
    with pytest.raises(ConfigError, match="expected an s3://bucket URL"):
        parse_remote("local/dir")
    with pytest.raises(ConfigError, match="without a key"):
        parse_remote("s3://b/k", allow_key=False)
    with pytest.raises(ConfigError, match="object URL"):
        parse_remote("s3://b", need_key=True)
    assert parse_remote("s3://b/k", need_key=True).key == "k"


def test_location_helpers() -> None:
    assert parse_location("s3://b/dir").dir_prefix == "dir/"
    assert parse_location("s3://b/dir/").dir_prefix == "dir/"
    assert parse_location("s3://b").dir_prefix == ""
    assert parse_location("s3://b/a/b.txt").basename == "b.txt"
    assert parse_location("s3://b/d/").looks_like_dir
    assert not parse_location("s3://b/d").looks_like_dir
    assert parse_location("out/").looks_like_dir
    assert str(Location(bucket="b", key="k")) == "s3://b/k"
    assert str(parse_location("s3://b")) == "s3://b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1048576", 1 << 20),
        ("8MiB", 8 << 20),
        ("64M", 64 << 20),
        ("64m", 64 << 20),
        ("5MB", 5_000_000),
        ("1.5GiB", 3 << 29),
        ("2 KiB", 2048),
        ("0", 0),
        ("-5M", -(5 << 20)),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MiB", "8 parsecs", "1e6", "eight"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"size|unit"):
        parse_size(text)


def test_format_size_and_duration() -> None:
    assert format_size(0) == "0 B"
    assert format_size(1023) == "1023 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(12 << 20) == "12.0 MiB"
    assert format_size(3 << 40) == "3.0 TiB"
    assert format_duration(0) == "0:00"
    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"


def test_filters_last_match_wins() -> None:
    keep_txt = PathFilter((("exclude", "*"), ("include", "*.txt")))
    assert keep_txt.accepts("a/b.txt")
    assert not keep_txt.accepts("a/b.bin")
    drop_logs = PathFilter((("exclude", "logs/*"),))
    assert not drop_logs.accepts("logs/x/y")
    assert drop_logs.accepts("data/logs/x")
    assert PathFilter().accepts("anything")
    assert not PathFilter()
    assert not PathFilter((("exclude", "*.TXT"),)).accepts("A.TXT")
    assert PathFilter((("exclude", "*.TXT"),)).accepts("a.txt")
