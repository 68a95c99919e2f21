"""V4 signed URLs for GCS objects: who signs, and the download file name.

Two kinds of credentials reach a ``GcsBlobStore``:

- a service-account key (``google.oauth2.service_account.Credentials``) holds a private key, so
  the URL is signed here, with no network call;
- GKE Workload Identity gives Compute Engine credentials: an access token from the metadata
  server and no private key. Those sign through the IAM Credentials ``signBlob`` call, which
  google-cloud-storage makes itself when ``generate_signed_url`` is given
  ``service_account_email=`` and ``access_token=``. The service account needs
  ``roles/iam.serviceAccountTokenCreator`` on itself for that call to succeed.

Anything else (anonymous or user credentials without a known service account) cannot sign, and
asking for a URL raises ``ConfigurationError`` instead of handing out a link that will not work.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

import google.auth.credentials
import google.auth.transport.requests
from google.auth import exceptions as auth_errors
from google.auth.credentials import AnonymousCredentials, TokenState

from vividly_ray.domain.errors import ConfigurationError, StageFailed

DEFAULT_EXPIRY_S = 15 * 60
MAX_EXPIRY_S = 7 * 24 * 60 * 60  # the V4 limit; GCS refuses longer-lived URLs
_UNSAFE_IN_QUOTES = {'"', "\\"}
_CANNOT_SIGN = (
    "signed URLs need a service-account key or a service account to sign as through IAM; "
    "{kind} name neither (give GcsBlobStore signer_email= under Workload Identity)"
)


def signing_arguments(
    credentials: google.auth.credentials.Credentials, service_account_email: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``Blob.generate_signed_url`` that make ``credentials`` sign.

    Credentials with a private key sign locally. Token-only credentials go through IAM
    ``signBlob``: their token is refreshed when it is missing or near expiry, and the signer is
    ``service_account_email`` or, failing that, the account the credentials name.
    """
    if isinstance(credentials, google.auth.credentials.Signing):
        return {"credentials": credentials}
    if isinstance(credentials, AnonymousCredentials):
        raise ConfigurationError([_CANNOT_SIGN.format(kind="anonymous credentials")])
    if credentials.token_state is not TokenState.FRESH:
        # Also how Compute Engine credentials learn which account "default" is.
        try:
            credentials.refresh(  # type: ignore[no-untyped-call]
                google.auth.transport.requests.Request()
            )
        except auth_errors.RefreshError as exc:
            raise StageFailed("storage", f"cannot refresh credentials to sign: {exc}") from exc
        except auth_errors.TransportError as exc:
            raise StageFailed(
                "storage", f"cannot reach the token service to sign a URL: {exc}", retryable=True
            ) from exc
    email = service_account_email or _account_of(credentials)
    if not email or not credentials.token:
        raise ConfigurationError([_CANNOT_SIGN.format(kind=type(credentials).__name__)])
    return {"service_account_email": email, "access_token": credentials.token}


def _account_of(credentials: google.auth.credentials.Credentials) -> str | None:
    # Compute Engine credentials say "default" until a refresh has asked the metadata server
    # which account that is; IAM needs the real address.
    email = getattr(credentials, "service_account_email", None)
    if not isinstance(email, str) or "@" not in email:
        return None
    return email


def expiry(expires_s: int) -> datetime.timedelta:
    """The lifetime of a URL, checked against what V4 signing allows."""
    if not 1 <= expires_s <= MAX_EXPIRY_S:
        raise ValueError(f"expires_s must be 1..{MAX_EXPIRY_S} seconds, got {expires_s}")
    return datetime.timedelta(seconds=expires_s)


def attachment_disposition(download_name: str) -> str:
    """A ``Content-Disposition`` that saves the file as ``download_name`` (RFC 6266).

    The quoted ``filename`` is an ASCII fallback without quotes, backslashes or control
    characters; ``filename*`` carries the exact name for browsers that read it.
    """
    name = download_name.strip()
    if not name or any(ord(ch) < 32 or ord(ch) == 127 for ch in name) or "/" in name:
        raise ValueError(f"download_name must be a plain file name, got {download_name!r}")
    fallback = "".join(
        ch if 32 <= ord(ch) < 127 and ch not in _UNSAFE_IN_QUOTES else "_" for ch in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
