"""The transport: the one package that knows aiohttp (an import-linter contract says so).

aiohttp builds two default TLS contexts when it is imported, each reading the system CA
store (~20 ms apiece on this machine), even when every endpoint is plain http. s3z never
uses them: each TLS session it opens gets a context s3z builds itself, when it is needed
(``connection.tls_setting``: verified against the system roots or the configured CA bundle;
unverified only when the user switched verification off). So aiohttp is imported with that
CA-store reading skipped, which leaves its two module contexts trusting nothing: whatever
might still use them fails verification (closed), it never skips it.
"""

from __future__ import annotations

import sys


def _import_aiohttp_without_tls_setup() -> None:
    if "aiohttp" in sys.modules:  # someone imported it first: nothing to save, nothing to do
        return
    import ssl

    def no_store(self: ssl.SSLContext) -> None:
        """Load no roots (during aiohttp's import only)."""

    ssl.SSLContext.set_default_verify_paths = no_store  # type: ignore[method-assign]
    try:
        import aiohttp.connector  # noqa: F401
    finally:
        del ssl.SSLContext.set_default_verify_paths  # the inherited C method again


_import_aiohttp_without_tls_setup()
