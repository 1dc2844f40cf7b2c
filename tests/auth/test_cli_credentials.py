"""The CLI with every kind of credential trouble: one line naming the provider and the fix,
exit 2, no traceback, no secret. And ``whoami``, in text and JSON, and on a terminal with MFA.
"""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import time
from pathlib import Path

import pytest
from clirun import cli_env, command, run
from credential_servers import StsReplay
from fault_proxy import FaultProxy
from servers import MotoS3Server
from test_chain_oracle import ROLE, sso_token

SECRET = "base-secret-never-shown"


def one_line_error(stderr: str, *fragments: str) -> None:
    assert stderr.startswith("s3z-core: error: "), stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert SECRET not in stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write(home: Path, config: str, credentials: str = "") -> None:
    (home / ".aws").mkdir(exist_ok=True)
    (home / ".aws" / "config").write_text(config)
    (home / ".aws" / "credentials").write_text(credentials)


BASE = f"[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = {SECRET}\n"


def test_failing_credential_process(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "fail.sh"
    script.write_text(f"#!/bin/sh\necho '{SECRET}'\necho 'vault: session expired' >&2\nexit 3\n")
    script.chmod(0o755)
    write(home, f"[default]\ncredential_process = {script} --role x\n")
    proc = run(None, home, "ls", check=2)
    one_line_error(
        proc.stderr,
        "custom-process (profile default)",
        "exited with code 3: vault: session expired",
        "fix credential_process",
    )
    assert "--role" not in proc.stderr  # the program is named, its arguments are not


@pytest.mark.parametrize("state", ["missing", "expired"])
def test_sso_token_missing_or_expired(home: Path, state: str) -> None:
    write(
        home,
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n",
    )
    if state == "expired":
        sso_token(home, "corp", "old-bearer-token", -60)
    proc = run(None, home, "--profile", "sso", "ls", check=2)
    one_line_error(proc.stderr, "sso (profile sso)", "run `aws sso login --sso-session corp`")
    assert ("expired at" in proc.stderr) == (state == "expired")
    assert "old-bearer-token" not in proc.stderr


def test_instance_metadata_unreachable(home: Path) -> None:
    write(home, f"[profile ec2]\nrole_arn = {ROLE}\ncredential_source = Ec2InstanceMetadata\n")
    endpoint = f"http://127.0.0.1:{closed_port()}"
    extra = {"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint}
    proc = run(None, home, "--profile", "ec2", "ls", check=2, **extra)
    one_line_error(
        proc.stderr, "iam-role (EC2 instance metadata at", "unreachable", "instance profile"
    )
    # At the end of the chain, the same failure means "no credentials anywhere".
    write(home, "")
    proc = run(None, home, "ls", check=2, **extra)
    one_line_error(proc.stderr, "no credentials found", endpoint)


def test_role_the_source_cannot_assume(home: Path, moto_s3: MotoS3Server) -> None:
    write(home, f"[profile r]\nrole_arn = {ROLE}\nsource_profile = base\n", BASE)
    with FaultProxy(moto_s3.endpoint_url) as proxy:
        proxy.fail(
            403, "AccessDenied", method="POST", message="not authorized to assume", times=None
        )
        proc = run(None, home, "--profile", "r", "ls", check=2, AWS_ENDPOINT_URL_STS=proxy.url)
    one_line_error(
        proc.stderr,
        "assume-role (profile r)",
        "STS AssumeRole refused (HTTP 403 AccessDenied: not authorized to assume)",
        "trust policy",
    )


def test_mfa_without_a_terminal(home: Path, sts: StsReplay) -> None:
    write(
        home, f"[profile m]\nrole_arn = {ROLE}\nsource_profile = base\nmfa_serial = arn:mfa\n", BASE
    )
    proc = run(None, home, "--profile", "m", "whoami", check=2, AWS_ENDPOINT_URL_STS=sts.url)
    one_line_error(proc.stderr, "assume-role (profile m)", "no terminal")
    assert not sts.forms  # nothing was sent without a code


def test_whoami_text_and_json(home: Path, moto_s3: MotoS3Server) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAWHOAMI", "AWS_SECRET_ACCESS_KEY": SECRET}
    proc = run(None, home, "whoami", AWS_ENDPOINT_URL=moto_s3.endpoint_url, **env)
    assert "Account:     123456789012" in proc.stdout
    assert "Source:      env" in proc.stdout
    assert "AKIAWHOAMI" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr
    proc = run(None, home, "whoami", "--json", AWS_ENDPOINT_URL=moto_s3.endpoint_url, **env)
    record = json.loads(proc.stdout)
    assert record["type"] == "identity"
    assert record["source"] == "env"
    assert record["account"] == "123456789012"
    assert record["arn"].startswith("arn:aws:")
    assert record["expiration"] is None


def test_mfa_code_typed_on_a_terminal(home: Path, sts: StsReplay, moto_s3: MotoS3Server) -> None:
    write(home, f"[profile m]\nrole_arn = {ROLE}\nsource_profile = base\nmfa_serial = arn:mfa\n"
          "role_session_name = typed\n", BASE)  # fmt: skip
    env = cli_env(None, home, AWS_ENDPOINT_URL_STS=sts.url, AWS_ENDPOINT_URL=moto_s3.endpoint_url)
    pid, fd = pty.fork()  # the child's controlling terminal is this pty, as in a real shell
    if pid == 0:  # pragma: no cover - the child execs at once
        os.chdir(home)
        os.execve(command()[0], [*command(), "--profile", "m", "whoami"], env)
    seen = b""
    deadline = time.monotonic() + 60
    typed = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not typed and b"Enter MFA code for arn:mfa:" in seen:
            os.write(fd, b"654321\n")
            typed = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = seen.decode(errors="replace")
    assert typed, text
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "654321" not in text  # no echo
    assert "Source:      assume-role (profile m)" in text
    assumed = [f for f in sts.forms if f["Action"] == "AssumeRole"]
    assert [(f["SerialNumber"], f["TokenCode"]) for f in assumed] == [("arn:mfa", "654321")]
