"""``credential_process``: a command the user configured prints credentials as JSON.

The command line is split like a shell would (no shell runs it) and started exactly as the
user wrote it: we add nothing to its argv. Its JSON (``Version`` 1, ``AccessKeyId``,
``SecretAccessKey``, optional ``SessionToken`` and ``Expiration``) is parsed as botocore
does; with an ``Expiration`` the provider runs it again before that time. It runs in a
worker thread (``subprocess.run``), so no event loop, qasync's included, ever waits on it.
Errors name the program (not its arguments, which may hold what the user put there) and
quote the last line it wrote to stderr.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from collections.abc import Mapping

from s3z_core.credentials import Credentials
from s3z_core.errors import ConfigError, CredentialProviderError
from s3z_core.protocol.sts import credentials_from_document, parse_json

PROCESS_TIMEOUT_S = 120.0


class CredentialProcess:
    source_name = "custom-process"

    def __init__(self, command: str, profile: str, env: Mapping[str, str]) -> None:
        try:
            self._argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(
                f"profile {profile!r}: credential_process cannot be split: {exc}"
            ) from None
        if not self._argv:
            raise ConfigError(f"profile {profile!r}: credential_process is empty")
        self._env = dict(env)
        self.source = f"{self.source_name} (profile {profile})"

    def __repr__(self) -> str:
        return f"CredentialProcess({self._argv[0]!r})"

    def _fail(self, problem: str) -> CredentialProviderError:
        return CredentialProviderError(
            self.source,
            f"{self._argv[0]} {problem}",
            "fix credential_process in the profile (run the command by hand to see its output)",
        )

    def _run(self) -> bytes:
        try:
            done = subprocess.run(
                self._argv,
                capture_output=True,
                env=self._env,
                timeout=PROCESS_TIMEOUT_S,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise self._fail("was not found") from None
        except PermissionError:
            raise self._fail("is not executable") from None
        except subprocess.TimeoutExpired:
            raise self._fail(f"did not finish within {PROCESS_TIMEOUT_S:.0f} s") from None
        except OSError as exc:
            raise self._fail(f"could not start ({exc.strerror or type(exc).__name__})") from None
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            said = f": {lines[-1][:200]}" if lines else ""
            raise self._fail(f"exited with code {done.returncode}{said}")
        return done.stdout

    async def credentials(self) -> Credentials:
        output = await asyncio.to_thread(self._run)
        doc = parse_json(output, self.source, f"the output of {self._argv[0]}")
        if doc.get("Version") != 1:
            raise self._fail(f"printed Version {doc.get('Version')!r}; only 1 is supported")
        return credentials_from_document(doc, self.source, session_field="SessionToken")
