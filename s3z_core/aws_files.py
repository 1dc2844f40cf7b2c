"""The shared AWS files (``~/.aws/config`` and ``~/.aws/credentials``) as botocore reads them.

One parse gives every section kind the chain needs: profiles (``[default]``, ``[profile X]``
in the config file, ``[X]`` in the credentials file), ``[sso-session X]`` and
``[services X]``. Values that start on the next line (``s3 =\\n  addressing_style = path``)
are nested blocks, read with ``nested``. The credentials file's profiles are kept apart
from the config file's because botocore tries them at different places in its chain
(shared credentials before ``credential_process``, config-file keys after it).

Reading is file I/O: callers on an event loop run ``read_aws_files`` in a thread.
Parse errors name the file and the error type, never a line of it (lines hold secrets).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from s3z_core.errors import ConfigError
from s3z_core.records import record

Section = Mapping[str, str]


@record
class AwsFiles:
    config_path: Path
    credentials_path: Path
    config_profiles: Mapping[str, Section] = field(default_factory=dict)
    credentials_profiles: Mapping[str, Section] = field(default_factory=dict)
    sso_sessions: Mapping[str, Section] = field(default_factory=dict)
    services: Mapping[str, Section] = field(default_factory=dict)

    def has_profile(self, name: str) -> bool:
        return name in self.config_profiles or name in self.credentials_profiles

    def profile(self, name: str) -> dict[str, str]:
        """The profile as botocore's ``full_config`` has it: credentials-file values win."""
        return {**self.config_profiles.get(name, {}), **self.credentials_profiles.get(name, {})}

    def profile_names(self) -> list[str]:
        """Every profile in either file, ``default`` first (what a profile picker lists)."""
        names = set(self.config_profiles) | set(self.credentials_profiles)
        return sorted(names, key=lambda n: (n != "default", n))

    def service_value(self, profile: str, service: str, name: str) -> str | None:
        """``name`` of ``service`` in the ``[services X]`` section the profile points at."""
        section_name = self.profile(profile).get("services")
        if not section_name:
            return None
        section = self.services.get(section_name)
        if section is None:
            raise ConfigError(
                f"profile {profile!r} uses services section {section_name!r}, "
                f"which is not in {self.config_path}"
            )
        return nested(section.get(service)).get(name)


def nested(value: str | None) -> dict[str, str]:
    """The ``key = value`` lines of a nested block (empty for a plain or missing value)."""
    result: dict[str, str] = {}
    for line in (value or "").splitlines():
        key, sep, val = line.partition("=")
        if sep and key.strip():
            result[key.strip().lower()] = val.strip()
    return result


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("AWS_CONFIG_FILE") or _aws_dir(env) / "config").expanduser()


def credentials_path(env: Mapping[str, str]) -> Path:
    return Path(
        env.get("AWS_SHARED_CREDENTIALS_FILE") or _aws_dir(env) / "credentials"
    ).expanduser()


def sso_cache_dir(env: Mapping[str, str]) -> Path:
    """Where ``aws sso login`` leaves its tokens."""
    return _aws_dir(env) / "sso" / "cache"


def _aws_dir(env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".aws"


def read_aws_files(env: Mapping[str, str] | None = None) -> AwsFiles:
    """Parse both files (a missing file is empty, an unreadable one an error)."""
    env = os.environ if env is None else env
    conf_path, cred_path = config_path(env), credentials_path(env)
    profiles: dict[str, Section] = {}
    bare: dict[str, Section] = {}
    sso_sessions: dict[str, Section] = {}
    services: dict[str, Section] = {}
    for name, section in _sections(conf_path).items():
        kind, _, rest = name.partition(" ")
        rest = rest.strip()
        if name == "default" or (kind == "profile" and rest):
            profiles.setdefault(rest or "default", section)
        elif kind == "sso-session" and rest:
            sso_sessions[rest] = section
        elif kind == "services" and rest:
            services[rest] = section
        else:
            bare[name] = section
    # ``[name]`` without the ``profile`` prefix in the config file is not valid for botocore,
    # but s3z has always accepted it: keep it, below a properly named section.
    for name, section in bare.items():
        profiles.setdefault(name, section)
    return AwsFiles(
        config_path=conf_path,
        credentials_path=cred_path,
        config_profiles=profiles,
        credentials_profiles=_sections(cred_path),
        sso_sessions=sso_sessions,
        services=services,
    )


def _sections(path: Path) -> dict[str, Section]:
    if not path.is_file():
        return {}
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot parse {path}: {type(exc).__name__}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    return {name: dict(parser.items(name)) for name in parser.sections()}
