"""The connection dialog's "Use an AWS profile" panel and the MFA code dialog (qasync)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from conftest import until
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from servers import MotoS3Server

from s3z_core.errors import MfaRequiredError
from s3z_gui.views.aws_profiles import AwsProfilePanel
from s3z_gui.views.mfa_dialog import MfaCodeDialog, ask_mfa_code

pytestmark = pytest.mark.asyncio


def gui_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def aws_files(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text(
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = dev\n"
        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n"
    )
    (home / ".aws" / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAGUIDEV\naws_secret_access_key = gui-secret\n"
    )


async def test_lists_profiles_and_shows_who_after_test(
    qtbot: QtBot, tmp_path: Path, moto_s3: MotoS3Server
) -> None:
    aws_files(tmp_path)
    panel = AwsProfilePanel(env=gui_env(tmp_path, AWS_ENDPOINT_URL=moto_s3.endpoint_url))
    qtbot.addWidget(panel)
    assert await panel.load() == 3
    items = [panel.box.itemText(i) for i in range(panel.box.count())]
    assert items == ["admin (role)", "dev (keys)", "sso (SSO)"]
    panel.box.setCurrentIndex(1)
    await panel.run_test()
    assert panel.status.text().startswith("✓ arn:aws:")
    assert "credentials from shared-credentials-file (profile dev)" in panel.status.text()
    assert "gui-secret" not in panel.status.text()
    panel.box.setCurrentIndex(2)  # SSO without a login: the chain's own message
    await panel.run_test()
    assert "aws sso login --sso-session corp" in panel.status.text()


def visible_mfa_dialog() -> MfaCodeDialog | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MfaCodeDialog)]
    return next((w for w in found if w.isVisible()), None)


async def test_mfa_dialog_returns_the_code(qtbot: QtBot) -> None:
    asked = asyncio.get_running_loop().create_task(ask_mfa_code("Enter MFA code for arn:mfa: "))
    await until(lambda: visible_mfa_dialog() is not None, 10, "the MFA dialog")
    shown = visible_mfa_dialog()
    assert shown is not None
    shown.code.setText("123456")
    shown.accept()
    assert await asked == "123456"


async def test_mfa_dialog_cancel_is_a_clear_error(qtbot: QtBot) -> None:
    asked = asyncio.get_running_loop().create_task(ask_mfa_code("Enter MFA code for arn:mfa: "))
    await until(lambda: visible_mfa_dialog() is not None, 10, "the MFA dialog")
    shown = visible_mfa_dialog()
    assert shown is not None
    shown.reject()
    with pytest.raises(MfaRequiredError, match="no MFA code"):
        await asked
