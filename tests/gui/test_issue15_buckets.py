"""Issue 15 bugs 7 and 14 (first half): bucket names checked as typed, with the failed rule;
the delete-bucket question says how many objects would go."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import until
from PySide6.QtTest import QTest
from servers import boto3_client

from s3z_gui.models.bucket_names import bucket_name_problem
from s3z_gui.models.history import Location


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ab", "at least 3"),
        ("a" * 64, "at most 63"),
        ("My_Bucket", "lowercase letters"),
        ("-photos", "begin and end"),
        ("photos.", "begin and end"),
        ("my..photos", "two dots"),
        ("192.168.1.10", "IP address"),
        ("xn--photos", "reserved"),
        ("photos-s3alias", "reserved"),
    ],
)
def test_bucket_name_rules_name_the_rule_that_failed(name: str, rule: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None
    assert rule in problem


@pytest.mark.parametrize("name", ["abc", "my-photos.2026", "a" * 63, "1-2-3"])
def test_valid_bucket_names_pass(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.asyncio
async def test_new_bucket_dialog_checks_as_the_user_types(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    """Bug 7: the rule shows while typing, Create stays off, and nothing typed is lost."""
    actions = session.window.browser.browser_actions
    actions.new_bucket_action.trigger()
    dialog = actions.bucket_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert not dialog.create_button.isEnabled()
    QTest.keyClicks(dialog.name, "My_Photos")
    assert not dialog.create_button.isEnabled()
    assert "lowercase letters" in dialog.rule.text()
    dialog.name.clear()
    QTest.keyClicks(dialog.name, "ab")
    assert "at least 3" in dialog.rule.text()
    name = bucket(seaweed)  # exists already, made by the fixture (and removed by it)
    boto3_client(seaweed).delete_bucket(Bucket=name)
    dialog.name.setText(name)
    assert dialog.create_button.isEnabled()
    assert dialog.rule.text() == ""
    dialog.create_button.click()
    await until(lambda: name in session.window.browser.buckets.bucket_names(), what="created")


@pytest.mark.asyncio
async def test_delete_bucket_confirmation_says_how_many_objects(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    """Bug 14: "Delete the bucket … and every object in it?" says nothing about how many."""
    name = bucket(seaweed)
    for i in range(7):
        await session.bridge.engine.put_bytes(name, f"d/{i}.txt", b"x" * 100)
    await session.bridge.refresh_buckets()
    browser = session.window.browser
    await browser.navigate(Location(name, ""))
    actions = browser.browser_actions
    actions.delete_bucket_action.trigger()
    await until(lambda: actions.delete_bucket_box is not None, what="the question")
    box = actions.delete_bucket_box
    assert box is not None
    assert f"Delete the bucket {name} and its 7 object(s) (700 bytes)?" in box.text()
    box.reject()
