"""What every connection shares, direct or through aiohttp: TLS, proxies, the User-Agent.

TLS verification is on unless the config explicitly turns it off; there is no other way to
weaken it. A CA bundle
(``AWS_CA_BUNDLE`` / ``ca_bundle``) replaces the trusted roots, as botocore does; it never
turns checking off.

Proxies come from ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` and are chosen per request
(``proxy_for``), not with aiohttp's ``trust_env``: that would also read ``~/.netrc`` and
add Basic credentials beside our SigV4 ``Authorization``.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from functools import lru_cache
from urllib.parse import urlsplit

from s3z_core import __version__
from s3z_core.config import ClientConfig, ProxySettings
from s3z_core.errors import ConfigError

USER_AGENT = f"s3z/{__version__}"


@lru_cache(maxsize=8)
def _verifying_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Verified TLS: the system's roots, or the CA bundle's instead (botocore's rule)."""
    try:
        context = ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            f"CA bundle {ca_bundle!r} (AWS_CA_BUNDLE / ca_bundle) cannot be used: {reason}; "
            "point it at a readable PEM file"
        ) from None
    context.set_alpn_protocols(("http/1.1",))
    return context


def tls_setting(config: ClientConfig) -> ssl.SSLContext | bool:
    """What aiohttp's ``ssl=`` gets for TLS: always a context of ours (see the package
    docstring); False only when the user switched verification off."""
    if not config.verify_ssl:
        return False
    return _verifying_context(config.ca_bundle or None)


def proxy_settings(config: ClientConfig) -> ProxySettings:
    return config.proxies if config.proxies is not None else ProxySettings.from_env(os.environ)


def proxy_for(url: str, proxies: ProxySettings) -> str | None:
    """The proxy a request to ``url`` goes through, or None (``NO_PROXY`` matched, none set)."""
    parts = urlsplit(url)
    proxy = proxies.https if parts.scheme == "https" else proxies.http
    if not proxy:
        return None
    if proxies.no_proxy and bypasses(parts.hostname or "", parts.port, proxies.no_proxy):
        return None
    return proxy


def bypasses(host: str, port: int | None, no_proxy: str) -> bool:
    """``NO_PROXY`` as curl and requests read it: ``*``, host names and their subdomains
    (``example.com`` and ``.example.com`` both cover ``a.example.com``), ``host:port``,
    IP addresses and CIDR ranges (``10.0.0.0/8``)."""
    host = host.lower().strip("[]")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, want_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if want_port and port is not None and want_port != str(port):
            continue
        name = name.strip("[]").lstrip(".")
        if host == name or host.endswith("." + name):
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                return True
        except ValueError:
            continue
    return False
