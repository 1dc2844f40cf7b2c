"""STS's query protocol and the credential documents every provider reads (pure, no I/O).

STS takes a form-encoded POST (``Action=AssumeRole&Version=2011-06-15&…``) and answers XML;
IMDS, the container endpoint and ``credential_process`` answer JSON with ``AccessKeyId`` /
``SecretAccessKey`` / ``Token`` (``SessionToken`` for a process) / ``Expiration``; the SSO
portal answers ``roleCredentials`` with an expiration in epoch milliseconds. Every parser
raises ``CredentialProviderError`` naming the provider, never echoing a document (they hold
secrets).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from s3z_core.credentials import Credentials
from s3z_core.errors import CredentialProviderError
from s3z_core.records import record

STS_VERSION = "2011-06-15"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@record
class CallerIdentity:
    account: str
    arn: str
    user_id: str


def sts_form(action: str, params: Mapping[str, str]) -> bytes:
    """The request body botocore sends for ``action`` (parameters in the order given)."""
    return urlencode({"Action": action, "Version": STS_VERSION, **params}).encode()


def parse_timestamp(text: str, provider: str) -> datetime:
    """ISO 8601 (``2024-05-01T12:00:00Z``, fractions, offsets) as an aware UTC datetime."""
    try:
        when = datetime.fromisoformat(text.strip())
    except (AttributeError, ValueError):
        raise CredentialProviderError(
            provider, f"expiration {text!r} is not an ISO 8601 time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _find(root: etree._Element, name: str) -> etree._Element | None:
    return next((e for e in root.iter() if _local(e.tag) == name), None)


def _text(root: etree._Element | None, name: str) -> str:
    found = None if root is None else _find(root, name)
    return (found.text or "").strip() if found is not None else ""


def _xml(body: bytes, provider: str, what: str) -> etree._Element:
    try:
        return etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        raise CredentialProviderError(provider, f"{what} answer is not XML") from None


def parse_sts_error(body: bytes) -> tuple[str, str]:
    """``(code, message)`` of an STS ``ErrorResponse`` (empty strings when unreadable)."""
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        return "", ""
    error = _find(root, "Error")
    return _text(error, "Code"), _text(error, "Message")


def parse_role_credentials(body: bytes, provider: str, action: str) -> tuple[Credentials, str]:
    """The credentials and assumed-role ARN of an AssumeRole(WithWebIdentity) answer."""
    root = _xml(body, provider, action)
    creds = _find(root, "Credentials")
    if creds is None:
        raise CredentialProviderError(provider, f"{action} answer has no Credentials")
    values = {n: _text(creds, n) for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    missing = [n for n, v in values.items() if not v]
    expiration = _text(creds, "Expiration")
    if missing or not expiration:
        raise CredentialProviderError(
            provider, f"{action} answer lacks {', '.join(missing or ['Expiration'])}"
        )
    return (
        Credentials(
            values["AccessKeyId"],
            values["SecretAccessKey"],
            values["SessionToken"],
            parse_timestamp(expiration, provider),
        ),
        _text(_find(root, "AssumedRoleUser"), "Arn"),
    )


def parse_caller_identity(body: bytes) -> CallerIdentity:
    root = _xml(body, "sts", "GetCallerIdentity")
    return CallerIdentity(_text(root, "Account"), _text(root, "Arn"), _text(root, "UserId"))


def parse_json(body: bytes | str, provider: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CredentialProviderError(provider, f"{what} is not JSON") from None
    if not isinstance(doc, dict):
        raise CredentialProviderError(provider, f"{what} is not a JSON object")
    return doc


def credentials_from_document(
    doc: Mapping[str, Any], provider: str, *, session_field: str = "Token"
) -> Credentials:
    """IMDS / container / ``credential_process`` JSON → credentials (expiry when given)."""
    access, secret = doc.get("AccessKeyId"), doc.get("SecretAccessKey")
    missing = [n for n, v in (("AccessKeyId", access), ("SecretAccessKey", secret)) if not v]
    if missing:
        raise CredentialProviderError(provider, f"the answer lacks {', '.join(missing)}")
    token, expiration = doc.get(session_field), doc.get("Expiration")
    return Credentials(
        str(access),
        str(secret),
        str(token) if token else None,
        parse_timestamp(str(expiration), provider) if expiration else None,
    )


def parse_sso_role_credentials(body: bytes, provider: str) -> Credentials:
    doc = parse_json(body, provider, "the SSO GetRoleCredentials answer")
    role = doc.get("roleCredentials")
    if not isinstance(role, dict):
        raise CredentialProviderError(provider, "the SSO answer has no roleCredentials")
    try:
        expiry = datetime.fromtimestamp(int(role["expiration"]) / 1000, tz=UTC)
        return Credentials(
            str(role["accessKeyId"]),
            str(role["secretAccessKey"]),
            str(role["sessionToken"]),
            expiry,
        )
    except (KeyError, TypeError, ValueError):
        raise CredentialProviderError(provider, "the SSO roleCredentials are incomplete") from None
