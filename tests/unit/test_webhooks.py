"""Webhook signing, verification, callback URL policy, backoff and the httpx sender."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import httpx
import pytest

from vividly_ray.domain.errors import InvalidRequest, VividlyError
from vividly_ray.notify.webhooks import (
    MAX_ATTEMPTS,
    DeliveryOutcome,
    HttpWebhookSender,
    Resolver,
    UnresolvableCallbackHost,
    WebhookMessage,
    WebhookVerificationError,
    backoff_seconds,
    check_callback_url,
    new_secret,
    new_webhook_id,
    pinned_target,
    sign,
    verify,
)

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
NOW = 1_700_000_000
PUBLIC_IP = "93.184.215.14"
PUBLIC_URL = f"https://{PUBLIC_IP}/hooks/vividly"


def _message(url: str = PUBLIC_URL) -> WebhookMessage:
    return WebhookMessage(
        webhook_id="msg_abc123",
        url=url,
        event_type="video.completed",
        payload={"request_id": "r-1", "video_url": "https://cdn.example/v.mp4"},
    )


def _resolver(*addresses: str) -> Resolver:
    def resolve(host: str) -> list[str]:
        return list(addresses)

    return resolve


# --- sign / verify -------------------------------------------------------------------------


def test_sign_matches_a_signature_computed_by_hand() -> None:
    key = bytes(range(32))
    body = b'{"hello":"world"}'
    digest = hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    assert sign(SECRET, "msg_1", 1_700_000_000, body) == expected


def test_sign_matches_the_published_standard_webhooks_vector() -> None:
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_secret_without_prefix_is_used_as_utf8_bytes() -> None:
    digest = hmac.new(b"plain-secret", b"m.5.x", hashlib.sha256).digest()
    assert sign("plain-secret", "m", 5, b"x") == "v1," + base64.b64encode(digest).decode()


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not*base64!"])
def test_unusable_secrets_are_invalid(secret: str) -> None:
    with pytest.raises(InvalidRequest):
        sign(secret, "m", 1, b"")


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32


def test_new_webhook_ids_are_unique_and_usable() -> None:
    ids = {new_webhook_id() for _ in range(50)}
    assert len(ids) == 50
    WebhookMessage(webhook_id=ids.pop(), url=PUBLIC_URL, event_type="video.failed")


def test_round_trip_verifies() -> None:
    message = _message()
    verify(SECRET, message.headers(SECRET, NOW), message.body(), now=NOW)


def test_header_names_are_case_insensitive() -> None:
    message = _message()
    headers = {k.title(): v for k, v in message.headers(SECRET, NOW).items()}
    verify(SECRET, headers, message.body(), now=NOW + 10)


def test_tampered_body_fails() -> None:
    message = _message()
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(SECRET, message.headers(SECRET, NOW), message.body() + b" ", now=NOW)


def test_tampered_timestamp_fails() -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    headers["webhook-timestamp"] = str(NOW + 1)
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(SECRET, headers, message.body(), now=NOW)


def test_tampered_id_fails() -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    headers["webhook-id"] = "msg_other"
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers, message.body(), now=NOW)


def test_wrong_secret_fails() -> None:
    message = _message()
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), message.headers(SECRET, NOW), message.body(), now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 10_000])
def test_timestamps_outside_tolerance_fail(offset: int) -> None:
    message = _message()
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SECRET, message.headers(SECRET, NOW), message.body(), now=NOW + offset)


def test_timestamp_at_the_edge_of_tolerance_passes() -> None:
    message = _message()
    verify(SECRET, message.headers(SECRET, NOW), message.body(), now=NOW + 300)
    verify(SECRET, message.headers(SECRET, NOW), message.body(), now=NOW + 30, tolerance_s=30)


def test_any_of_several_signatures_may_match() -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    old = sign(new_secret(), message.webhook_id, NOW, message.body())
    headers["webhook-signature"] = f"v2,abc {old} {headers['webhook-signature']}"
    verify(SECRET, headers, message.body(), now=NOW)


def test_several_signatures_none_matching_fails() -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    others = [sign(new_secret(), message.webhook_id, NOW, message.body()) for _ in range(3)]
    headers["webhook-signature"] = " ".join(others)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers, message.body(), now=NOW)


def test_a_non_v1_signature_with_the_right_digest_is_not_accepted() -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    headers["webhook-signature"] = "v2," + headers["webhook-signature"].removeprefix("v1,")
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers, message.body(), now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_fail(missing: str) -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(SECRET, headers, message.body(), now=NOW)


@pytest.mark.parametrize("raw", ["abc", "-5", "1.5", "١٢٣"])
def test_malformed_timestamps_fail(raw: str) -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    headers["webhook-timestamp"] = raw
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify(SECRET, headers, message.body(), now=NOW)


def test_verification_error_is_a_non_retryable_vividly_error() -> None:
    assert issubclass(WebhookVerificationError, VividlyError)
    assert WebhookVerificationError("x").retryable is False


# --- message -------------------------------------------------------------------------------


def test_body_is_compact_sorted_json_with_type_and_data() -> None:
    message = WebhookMessage("msg_1", PUBLIC_URL, "video.completed", {"b": 1, "a": [1, 2]})
    assert message.body() == b'{"data":{"a":[1,2],"b":1},"type":"video.completed"}'
    assert json.loads(message.body())["data"] == {"a": [1, 2], "b": 1}


def test_headers_carry_id_timestamp_signature_and_user_agent() -> None:
    message = _message()
    headers = message.headers(SECRET, NOW)
    assert headers == {
        "content-type": "application/json",
        "user-agent": "vividly-ray-webhooks",
        "webhook-id": "msg_abc123",
        "webhook-timestamp": str(NOW),
        "webhook-signature": sign(SECRET, "msg_abc123", NOW, message.body()),
    }


@pytest.mark.parametrize(
    ("webhook_id", "event_type", "payload", "field"),
    [
        ("", "video.completed", {}, "webhook_id"),
        ("msg 1", "video.completed", {}, "webhook_id"),
        ("msg_1", "", {}, "event_type"),
        ("msg_1", "video.completed", {"x": float("nan")}, "payload"),
        ("msg_1", "video.completed", {"x": object()}, "payload"),
    ],
)
def test_bad_messages_are_invalid(
    webhook_id: str, event_type: str, payload: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        WebhookMessage(webhook_id, PUBLIC_URL, event_type, payload)
    assert caught.value.field == field


# --- callback URL policy -------------------------------------------------------------------

PUBLIC = _resolver(PUBLIC_IP)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/vividly",
        "http://hooks.example.com:8080/a?b=c",
        "HTTPS://Hooks.Example.com/x",
        f"https://{PUBLIC_IP}/x",
        "https://[2606:4700:4700::1111]/x",
    ],
)
def test_public_http_and_https_urls_pass(url: str) -> None:
    check_callback_url(url, allow_private=False, resolve=PUBLIC)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("hooks.example.com/x", "http or https"),
        ("https:///path-only", "no host"),
        ("https://user:pw@hooks.example.com/x", "user name"),
        ("https://user@hooks.example.com/x", "user name"),
        ("https://hooks.example.com:99999/x", "not a valid URL"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason) as caught:
        check_callback_url(url, allow_private=True, resolve=PUBLIC)
    assert caught.value.field == "callback_url"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.8.9.10",
        "[::1]",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[fc00::1]",
        "0.0.0.0",
        "[::]",
        "224.0.0.1",
        "[ff02::1]",
        "240.0.0.1",
        "100.64.0.1",
        "[2002:7f00:1::1]",
        "[64:ff9b::a9fe:a9fe]",
    ],
)
def test_non_public_ip_literals_are_refused(host: str) -> None:
    with pytest.raises(InvalidRequest, match="resolves to a") as caught:
        check_callback_url(f"https://{host}/x", allow_private=False, resolve=PUBLIC)
    assert caught.value.field == "callback_url"


@pytest.mark.parametrize("address", ["192.168.0.10", "::1", "fe80::1%2", "::ffff:169.254.1.1"])
def test_a_hostname_resolving_to_a_private_address_is_refused(address: str) -> None:
    with pytest.raises(InvalidRequest, match="resolves to a"):
        check_callback_url(
            "https://internal.example.com/x",
            allow_private=False,
            resolve=_resolver(address),
        )


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(InvalidRequest, match="private"):
        check_callback_url(
            "https://mixed.example.com/x",
            allow_private=False,
            resolve=_resolver(PUBLIC_IP, "10.0.0.5"),
        )


def test_an_unresolvable_host_is_refused_as_retryable_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="does not resolve") as caught:
        check_callback_url(
            "https://nowhere.invalid/x",
            allow_private=False,
            resolve=_resolver(),
        )
    assert isinstance(caught.value, UnresolvableCallbackHost)
    assert caught.value.retryable is True


def test_a_resolver_returning_garbage_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="not an IP"):
        check_callback_url(
            "https://odd.example.com/x",
            allow_private=False,
            resolve=_resolver("not-an-ip"),
        )


def test_ip_literals_are_not_sent_to_the_resolver() -> None:
    def fail(host: str) -> list[str]:
        raise AssertionError(f"resolver called for {host}")

    check_callback_url(PUBLIC_URL, allow_private=False, resolve=fail)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://[::1]/x", "http://10.0.0.1/"])
def test_allow_private_lets_private_targets_through(url: str) -> None:
    check_callback_url(url, allow_private=True)


def test_allow_private_still_refuses_bad_schemes() -> None:
    with pytest.raises(InvalidRequest):
        check_callback_url("gopher://127.0.0.1/", allow_private=True)


def test_the_default_resolver_sees_localhost_as_loopback() -> None:
    with pytest.raises(InvalidRequest, match="loopback"):
        check_callback_url("http://localhost:8000/x", allow_private=False)


# --- backoff -------------------------------------------------------------------------------


def test_backoff_doubles_from_base() -> None:
    assert [backoff_seconds(n) for n in range(1, 6)] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert [backoff_seconds(n, base=0.5) for n in range(1, 4)] == [0.5, 1.0, 2.0]


def test_backoff_is_capped_even_for_huge_attempts() -> None:
    assert backoff_seconds(8) == 256.0
    assert backoff_seconds(9) == 300.0
    assert backoff_seconds(10_000) == 300.0
    assert backoff_seconds(5, base=10.0, cap=60.0) == 60.0


def test_backoff_is_deterministic() -> None:
    assert backoff_seconds(4) == backoff_seconds(4)


@pytest.mark.parametrize(
    ("attempt", "base", "cap"), [(0, 2.0, 300.0), (-1, 2.0, 300.0), (1, 0.0, 300.0), (1, 2.0, 0.0)]
)
def test_backoff_refuses_nonsense(attempt: int, base: float, cap: float) -> None:
    with pytest.raises(InvalidRequest):
        backoff_seconds(attempt, base=base, cap=cap)


def test_max_attempts_default() -> None:
    assert MAX_ATTEMPTS == 8


# --- sender --------------------------------------------------------------------------------


Handler = Callable[[httpx.Request], httpx.Response]


def _sender(
    handler: Handler, *, allow_private: bool = False, resolve: Resolver | None = None
) -> tuple[HttpWebhookSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    sender = HttpWebhookSender(
        transport=httpx.MockTransport(record), allow_private=allow_private, resolve=resolve
    )
    return sender, seen


def _status(code: int) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, text="x" * 10)

    return respond


def test_200_is_delivered_and_the_request_is_signed() -> None:
    sender, seen = _sender(_status(200))
    message = _message()
    outcome = sender.send(message, SECRET, now=NOW)
    assert outcome.delivered and outcome.status_code == 200
    assert outcome.error == "" and not outcome.retryable and outcome.elapsed_s >= 0
    (request,) = seen
    assert request.method == "POST" and str(request.url) == PUBLIC_URL
    assert request.content == message.body()
    assert request.headers["webhook-id"] == "msg_abc123"
    assert request.headers["user-agent"] == "vividly-ray-webhooks"
    assert request.headers["content-type"] == "application/json"
    verify(SECRET, request.headers, request.content, now=NOW)


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(500, True), (503, True), (599, True), (429, True), (408, True), (425, True),
     (404, False), (400, False), (401, False), (410, False), (301, False), (302, False)],
)  # fmt: skip
def test_failed_statuses_are_classified(code: int, retryable: bool) -> None:
    sender, seen = _sender(_status(code))
    outcome = sender.send(_message(), SECRET, now=NOW)
    assert outcome == DeliveryOutcome(False, code, f"HTTP {code}", retryable, outcome.elapsed_s)
    assert len(seen) == 1


def test_redirects_are_not_followed() -> None:
    sender, seen = _sender(
        lambda request: httpx.Response(307, headers={"location": "http://127.0.0.1/steal"})
    )
    outcome = sender.send(_message(), SECRET, now=NOW)
    assert not outcome.delivered and outcome.status_code == 307
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("connection refused"), "network error: ConnectError"),
        (httpx.ReadTimeout("slow"), "timeout: ReadTimeout"),
        (httpx.ConnectTimeout("slow"), "timeout: ConnectTimeout"),
        (httpx.RemoteProtocolError("bad"), "network error: RemoteProtocolError"),
    ],
)
def test_network_errors_are_retryable_outcomes(exc: httpx.HTTPError, kind: str) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    sender, _ = _sender(boom)
    outcome = sender.send(_message(), SECRET, now=NOW)
    assert not outcome.delivered and outcome.status_code is None
    assert outcome.retryable and outcome.error == kind


def test_each_attempt_is_signed_at_its_own_time_with_the_same_id() -> None:
    sender, seen = _sender(_status(500))
    message = _message()
    sender.send(message, SECRET, now=NOW)
    sender.send(message, SECRET, now=NOW + 60)
    first, second = seen
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.webhook_id
    assert first.headers["webhook-timestamp"] == str(NOW)
    assert second.headers["webhook-timestamp"] == str(NOW + 60)
    verify(SECRET, second.headers, second.content, now=NOW + 60)


def test_a_url_that_now_resolves_privately_is_refused_without_sending() -> None:
    sender, seen = _sender(_status(200), resolve=_resolver("10.0.0.7"))
    outcome = sender.send(_message("https://hooks.example.com/x"), SECRET, now=NOW)
    assert not outcome.delivered and not outcome.retryable and outcome.status_code is None
    assert "private" in outcome.error
    assert seen == []


def test_a_host_that_stops_resolving_is_a_retryable_outcome() -> None:
    sender, seen = _sender(_status(200), resolve=_resolver())
    outcome = sender.send(_message("https://hooks.example.com/x"), SECRET, now=NOW)
    assert not outcome.delivered and outcome.retryable and seen == []


def test_loopback_is_refused_unless_allowed() -> None:
    url = "http://127.0.0.1:9/hook"
    refused, seen_refused = _sender(_status(200))
    assert not refused.send(_message(url), SECRET, now=NOW).delivered
    assert seen_refused == []
    allowed, seen_allowed = _sender(_status(200), allow_private=True)
    assert allowed.send(_message(url), SECRET, now=NOW).delivered
    assert len(seen_allowed) == 1


def test_errors_never_contain_the_secret_or_url() -> None:
    url = f"https://{PUBLIC_IP}/hook?token=supersecrettoken"

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed to reach {request.url}")

    sender, _ = _sender(boom)
    outcome = sender.send(_message(url), SECRET, now=NOW)
    assert "supersecrettoken" not in outcome.error and SECRET not in outcome.error


def test_sender_is_a_context_manager() -> None:
    with HttpWebhookSender(transport=httpx.MockTransport(_status(204))) as sender:
        assert sender.send(_message(), SECRET, now=NOW).delivered


def test_the_sender_connects_to_the_address_it_checked_keeping_host_and_tls_name() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    lookups: list[str] = []

    def resolve(host: str) -> list[str]:
        # A rebinding DNS server: public the first time, loopback afterwards.
        lookups.append(host)
        return ["93.184.216.34"] if len(lookups) == 1 else ["127.0.0.1"]

    sender = HttpWebhookSender(transport=httpx.MockTransport(answer), resolve=resolve)
    message = WebhookMessage("msg_1", "https://hooks.example.org:8443/in", "video.completed", {})
    outcome = sender.send(message, new_secret())
    assert outcome.delivered
    (request,) = seen
    assert request.url.host == "93.184.216.34" and request.url.port == 8443
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"
    assert lookups == ["hooks.example.org"]  # resolved once: the client never looks it up again


def test_pinned_targets_bracket_ipv6_and_keep_the_path() -> None:
    import ipaddress

    url, host, name = pinned_target(
        "https://h.example.org/a/b?x=1", ipaddress.ip_address("2606:2800:220:1::1")
    )
    assert url == "https://[2606:2800:220:1::1]/a/b?x=1"
    assert host == "h.example.org" and name == "h.example.org"
