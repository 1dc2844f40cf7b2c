"""Connection profiles in QSettings. Secrets are never written here (see ``secrets.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from s3z_core.config import AddressingStyle
from s3z_core.errors import ConfigError

_GROUP = "profiles"
_STYLES: tuple[AddressingStyle, ...] = ("auto", "path", "virtual")


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything about a connection except the secret access key."""

    name: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    addressing_style: AddressingStyle = "auto"
    access_key: str = ""

    def validate(self) -> None:
        if not self.name.strip():
            raise ConfigError("the connection needs a name")
        if "/" in self.name or "\\" in self.name:
            raise ConfigError("a connection name cannot contain / or \\")
        if self.endpoint_url and not self.endpoint_url.startswith(("http://", "https://")):
            raise ConfigError("the endpoint must start with http:// or https://")
        if not self.region.strip():
            raise ConfigError("the region must not be empty")
        if not self.access_key.strip():
            raise ConfigError("the access key ID must not be empty")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.endpoint_url or 'AWS ' + self.region})"


class ProfileStore:
    """Profiles under ``profiles/<name>/…`` plus the last one used."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def names(self) -> list[str]:
        self._settings.beginGroup(_GROUP)
        try:
            return sorted(self._settings.childGroups())
        finally:
            self._settings.endGroup()

    def load(self, name: str) -> Profile | None:
        if name not in self.names():
            return None
        s = self._settings
        s.beginGroup(f"{_GROUP}/{name}")
        try:
            style = str(s.value("addressing_style", "auto"))
            return Profile(
                name=name,
                endpoint_url=str(s.value("endpoint_url", "")),
                region=str(s.value("region", "us-east-1")) or "us-east-1",
                addressing_style=_style(style),
                access_key=str(s.value("access_key", "")),
            )
        finally:
            s.endGroup()

    def save(self, profile: Profile) -> None:
        profile.validate()
        s = self._settings
        s.beginGroup(f"{_GROUP}/{profile.name}")
        try:
            s.setValue("endpoint_url", profile.endpoint_url)
            s.setValue("region", profile.region)
            s.setValue("addressing_style", profile.addressing_style)
            s.setValue("access_key", profile.access_key)
        finally:
            s.endGroup()
        s.sync()

    def delete(self, name: str) -> None:
        self._settings.remove(f"{_GROUP}/{name}")
        if self.last_used() == name:
            self._settings.remove("last_profile")
        self._settings.sync()

    def last_used(self) -> str | None:
        value = self._settings.value("last_profile", "")
        return str(value) if value else None

    def set_last_used(self, name: str | None) -> None:
        if name:
            self._settings.setValue("last_profile", name)
        else:
            self._settings.remove("last_profile")
        self._settings.sync()


def _style(value: str) -> AddressingStyle:
    for style in _STYLES:
        if style == value:
            return style
    return "auto"
