"""V4 signed URLs from GcsBlobStore: signed with a key here, or through IAM signBlob.

Each signature is checked against a string-to-sign that the test rebuilds from the URL by
Google's V4 rules, with the signing account's public key. The IAM path runs against a loopback
stub of ``iamcredentials.googleapis.com``: google-cloud-storage hard-codes that https host, so
the test reaches the stub the way any client behind a proxy would, through ``HTTPS_PROXY``, with
a test certificate authority named in ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import ssl
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from google.auth import compute_engine
from google.auth.credentials import AnonymousCredentials
from google.oauth2 import credentials as oauth2_credentials
from google.oauth2 import service_account

from tests.gcs_emulator import running_gcs_emulator, storage_client
from vividly_ray.domain.errors import ConfigurationError
from vividly_ray.storage.gcs_blobs import GcsBlobStore
from vividly_ray.storage.gcs_signing import attachment_disposition, signing_arguments

pytestmark = pytest.mark.integration

ACCOUNT = "signer@test-project.iam.gserviceaccount.com"
WORKLOAD_ACCOUNT = "vividly-ray@test-project.iam.gserviceaccount.com"
KEY = "videos/req-1/video.mp4"


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def service_account_credentials(key: rsa.RSAPrivateKey) -> service_account.Credentials:
    """Credentials from a service-account key file's fields, with a key made for the test."""
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "key-1",
        "private_key": pem(key).decode(),
        "client_email": ACCOUNT,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return service_account.Credentials.from_service_account_info(info)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def string_to_sign(url: str) -> tuple[str, str]:
    """The V4 string-to-sign for a GET of ``url``, rebuilt by the spec; and its signature."""
    parts = urlsplit(url)
    fields = query_fields(url)
    signature = fields.pop("X-Goog-Signature")
    query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
        for name, value in sorted(fields.items())
    )
    signed = fields["X-Goog-SignedHeaders"]
    assert signed == "host"
    canonical = "\n".join(
        ["GET", parts.path, query, f"host:{parts.netloc}\n", signed, "UNSIGNED-PAYLOAD"]
    )
    scope = fields["X-Goog-Credential"].split("/", 1)[1]
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return "\n".join(["GOOG4-RSA-SHA256", fields["X-Goog-Date"], scope, digest]), signature


def signature_holds(url: str, public_key: rsa.RSAPublicKey) -> bool:
    message, signature = string_to_sign(url)
    try:
        public_key.verify(
            bytes.fromhex(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


def query_fields(url: str) -> dict[str, str]:
    return {
        unquote(name): unquote(value)
        for name, value in (pair.split("=", 1) for pair in urlsplit(url).query.split("&"))
    }


@pytest.fixture(scope="module")
def gcs_host() -> Iterator[str]:
    with running_gcs_emulator() as host:
        yield host


@pytest.fixture
def bucket(gcs_host: str) -> str:
    name = f"signed-{uuid.uuid4().hex[:10]}"
    storage_client(gcs_host).create_bucket(name)
    return name


def test_a_key_signs_locally_and_the_url_downloads_from_the_emulator(
    gcs_host: str, bucket: str
) -> None:
    key = new_key()
    client = storage_client(gcs_host, credentials=service_account_credentials(key))
    store = GcsBlobStore(client, bucket, prefix="delivered")
    store.put_bytes(KEY, b"the video bytes", "video/mp4")

    url = store.signed_url(KEY, download_name="water-cycle.mp4")

    fields = query_fields(url)
    assert url.startswith(f"{gcs_host}/{bucket}/delivered/{KEY}?")
    assert fields["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert fields["X-Goog-Expires"] == "900"
    assert fields["X-Goog-Credential"].startswith(f"{ACCOUNT}/")
    assert fields["X-Goog-Credential"].endswith("/auto/storage/goog4_request")
    assert fields["X-Goog-SignedHeaders"] == "host"
    assert fields["response-content-disposition"] == attachment_disposition("water-cycle.mp4")
    assert signature_holds(url, key.public_key())
    tampered = url.replace("X-Goog-Expires=900", "X-Goog-Expires=901")
    assert not signature_holds(tampered, key.public_key())
    assert not signature_holds(url, new_key().public_key())
    with urllib.request.urlopen(url, timeout=10) as answer:  # the emulator checks no signature
        assert answer.read() == b"the video bytes"
        assert answer.headers["Content-Disposition"].startswith('attachment; filename="water')


def test_lifetime_is_bounded_by_v4(gcs_host: str, bucket: str) -> None:
    client = storage_client(gcs_host, credentials=service_account_credentials(new_key()))
    store = GcsBlobStore(client, bucket)

    assert query_fields(store.signed_url(KEY, expires_s=60))["X-Goog-Expires"] == "60"
    for bad in (0, -1, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError, match="expires_s"):
            store.signed_url(KEY, expires_s=bad)


def test_anonymous_credentials_cannot_sign(gcs_host: str, bucket: str) -> None:
    store = GcsBlobStore(storage_client(gcs_host), bucket)
    with pytest.raises(ConfigurationError, match="signed URLs need"):
        store.signed_url(KEY)


def test_download_names_are_quoted_safely() -> None:
    assert attachment_disposition("video.mp4") == (
        "attachment; filename=\"video.mp4\"; filename*=UTF-8''video.mp4"
    )
    tricky = attachment_disposition('le "cycle" de l\\eau é.mp4')
    assert tricky.startswith('attachment; filename="le _cycle_ de l_eau _.mp4"; ')
    assert tricky.endswith("filename*=UTF-8''le%20%22cycle%22%20de%20l%5Ceau%20%C3%A9.mp4")
    for bad in ("", "a/b.mp4", "a\r\nSet-Cookie: x"):
        with pytest.raises(ValueError):
            attachment_disposition(bad)


def workload_identity_credentials(token: str) -> compute_engine.Credentials:
    """Compute Engine credentials as a GKE pod holds them once the metadata server answered."""
    credentials = compute_engine.Credentials(
        service_account_email=WORKLOAD_ACCOUNT,
        scopes=["https://www.googleapis.com/auth/cloud-platform"],  # the client keeps them as is
        universe_domain="googleapis.com",
    )
    credentials.token = token
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)  # google-auth's form
    credentials.expiry = now + datetime.timedelta(hours=1)
    return credentials


def test_which_credentials_take_which_path() -> None:
    local = service_account_credentials(new_key())
    assert signing_arguments(local) == {"credentials": local}
    assert signing_arguments(workload_identity_credentials("ya29.pod")) == {
        "service_account_email": WORKLOAD_ACCOUNT,
        "access_token": "ya29.pod",
    }
    user = oauth2_credentials.Credentials(token="ya29.user")
    with pytest.raises(ConfigurationError):
        signing_arguments(user)
    assert signing_arguments(user, WORKLOAD_ACCOUNT)["access_token"] == "ya29.user"
    with pytest.raises(ConfigurationError):
        signing_arguments(AnonymousCredentials())


IAM_HOST = "iamcredentials.googleapis.com"


@dataclass(frozen=True)
class SignBlobCall:
    path: str
    authorization: str
    payload: str


@dataclass
class FakeIamCredentials:
    """What the stub knows: the account's key, the calls it answered, the token it hands out."""

    key: rsa.RSAPrivateKey
    ca_file: Path
    proxy_url: str = ""
    calls: list[SignBlobCall] = field(default_factory=list)
    issued_token: str = "ya29.refreshed"

    @property
    def token_url(self) -> str:
        return f"{self.proxy_url}/token"


class _IamHandler(BaseHTTPRequestHandler):
    """``POST /token`` (plain) and, inside a CONNECT tunnel, ``POST ...:signBlob`` over TLS."""

    fake: FakeIamCredentials
    tls: ssl.SSLContext

    def do_CONNECT(self) -> None:
        assert self.path == f"{IAM_HOST}:443", self.path
        self.send_response(200, "Connection established")
        self.end_headers()
        with self.tls.wrap_socket(self.connection, server_side=True) as tunnel:
            type(self)(tunnel, self.client_address, self.server)
        self.close_connection = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/token":
            self._json({"access_token": self.fake.issued_token, "expires_in": 3600})
            return
        payload = json.loads(body)["payload"]
        self.fake.calls.append(
            SignBlobCall(self.path.split("?")[0], self.headers["Authorization"], payload)
        )
        signature = self.fake.key.sign(
            base64.b64decode(payload), padding.PKCS1v15(), hashes.SHA256()
        )
        self._json({"keyId": "managed-1", "signedBlob": base64.b64encode(signature).decode()})

    def _json(self, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _certificate_authority(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the IAM host, trusted as its own authority."""
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, IAM_HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(IAM_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "iam-ca.pem", folder / "iam-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(pem(key))
    return cert_file, key_file


@contextmanager
def running_iam_stub(folder: Path, account_key: rsa.RSAPrivateKey) -> Iterator[FakeIamCredentials]:
    cert_file, key_file = _certificate_authority(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    fake = FakeIamCredentials(account_key, cert_file)
    handler = type("Handler", (_IamHandler,), {"fake": fake, "tls": tls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.proxy_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def iam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIamCredentials]:
    with running_iam_stub(tmp_path, new_key()) as stub:
        for name in ("HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, stub.proxy_url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_file))
        yield stub


def test_workload_identity_signs_through_iam_sign_blob(
    gcs_host: str, bucket: str, iam: FakeIamCredentials
) -> None:
    client = storage_client(gcs_host, credentials=workload_identity_credentials("ya29.pod"))
    store = GcsBlobStore(client, bucket)
    store.put_bytes(KEY, b"bytes for the pod", "video/mp4")

    url = store.signed_url(KEY)

    (call,) = iam.calls
    assert call.path == f"/v1/projects/-/serviceAccounts/{WORKLOAD_ACCOUNT}:signBlob"
    assert call.authorization == "Bearer ya29.pod"
    assert base64.b64decode(call.payload).decode() == string_to_sign(url)[0]
    assert query_fields(url)["X-Goog-Credential"].startswith(f"{WORKLOAD_ACCOUNT}/")
    assert signature_holds(url, iam.key.public_key())
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == b"bytes for the pod"


def test_an_expired_token_is_refreshed_before_iam_signs(
    gcs_host: str, bucket: str, iam: FakeIamCredentials
) -> None:
    credentials = oauth2_credentials.Credentials(
        token=None,
        refresh_token="refresh-me",
        token_uri=iam.token_url,
        client_id="client",
        client_secret="secret",
    )
    client = storage_client(gcs_host, credentials=credentials)
    store = GcsBlobStore(client, bucket, signer_email=WORKLOAD_ACCOUNT)

    url = store.signed_url(KEY)

    assert [call.authorization for call in iam.calls] == [f"Bearer {iam.issued_token}"]
    assert signature_holds(url, iam.key.public_key())
