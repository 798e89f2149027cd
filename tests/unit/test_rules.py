"""Pure rules of the hot path: security codes, tokens, ids, body parsing, ack tokens."""

from __future__ import annotations

import hashlib
import json

import pytest

from quantlink import ids
from quantlink.acktokens import AckToken, AckTokenKind
from quantlink.errors import PayloadTooLarge, ValidationFailed
from quantlink.http import bearer_token, check_strict_json, parse_body, query_int
from quantlink.models import JoinQuantSignalBody
from quantlink.relay import check_fingerprint
from quantlink.securities import to_exchange_form
from quantlink.sources import joinquant

BODY = {"v": 1, "seq": 3, "order": {"security": "000001.XSHE", "side": "sell", "amount": 300, "limitPrice": 12.3}}


@pytest.mark.parametrize(
    ("source", "exchange"),
    [("600000.XSHG", "600000.SH"), ("000001.XSHE", "000001.SZ"), ("430047.XBSE", "430047.BJ"),
     ("688981.XSHG", "688981.SH")],
)  # fmt: skip
def test_joinquant_codes_map_to_exchange_form(source: str, exchange: str) -> None:
    assert to_exchange_form(source) == exchange


@pytest.mark.parametrize("bad", ["600000.XHKG", "600000", "60000.XSHG", "600000.xshg", "AAPL.XNAS", ""])
def test_unknown_or_malformed_codes_are_validation_errors(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        to_exchange_form(bad)
    assert caught.value.details == [{"field": "order.security", "message": "unknown exchange suffix or malformed code"}]


def test_tokens_verify_only_against_their_own_hash() -> None:
    token = ids.new_webhook_token()
    stored = ids.hash_secret(token)
    assert ids.secret_matches(token, stored)
    assert not ids.secret_matches(token + "x", stored)
    assert not ids.secret_matches(token, None)  # an unknown record never matches, even the absent-hash secret
    assert not ids.secret_matches("absent", None)


def test_terminal_token_carries_its_terminal_id() -> None:
    terminal_id = ids.new_terminal_id()
    token = ids.new_terminal_token(terminal_id)
    assert ids.terminal_id_from_token(token) == terminal_id
    assert ids.terminal_id_from_token("no-dot-here") is None
    assert ids.terminal_id_from_token("stg_abc.secret") is None


def test_signal_ids_sort_by_time() -> None:
    earlier, later = ids.new_signal_id(1_700_000_000_000), ids.new_signal_id(1_700_000_000_001)
    assert earlier < later
    assert ids.new_signal_id(1_800_000_000_000) > later


def test_dedup_key_is_the_sha256_of_the_exact_bytes() -> None:
    raw = json.dumps(BODY).encode()
    incoming = joinquant.parse_signal({}, raw, max_bytes=65536)
    assert incoming.dedup_key == hashlib.sha256(raw).hexdigest()
    # the same order with different whitespace is different bytes, hence a different key
    assert (
        joinquant.parse_signal({}, json.dumps(BODY, indent=1).encode(), max_bytes=65536).dedup_key != incoming.dedup_key
    )


def test_limit_price_without_style_means_a_limit_order() -> None:
    incoming = joinquant.parse_signal({}, json.dumps(BODY).encode(), max_bytes=65536)
    assert (incoming.order.style, incoming.order.limit_price, incoming.order.security) == ("limit", 12.3, "000001.SZ")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "body"),
        (json.dumps({**BODY, "v": 2}).encode(), "v"),
        (json.dumps({**BODY, "order": {**BODY["order"], "side": "short"}}).encode(), "order.side"),
        (json.dumps({**BODY, "order": {**BODY["order"], "amount": 0}}).encode(), "order.amount"),
        (json.dumps({"v": 1, "order": BODY["order"]}).encode(), "seq"),
    ],
)
def test_invalid_bodies_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_body(JoinQuantSignalBody, raw, max_bytes=65536)
    assert caught.value.code == "VALIDATION_ERROR"
    fields = {d["field"] for d in caught.value.details}
    assert field in fields or (field == "body" and caught.value.message == "The body is not valid JSON.")


def test_bodies_over_the_cap_are_refused_before_parsing() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_body(JoinQuantSignalBody, b" " * 65537, max_bytes=65536)


def test_query_ints_are_bounded() -> None:
    assert query_int({}, "wait", default=20, low=0, high=20) == 20
    assert query_int({"wait": "0"}, "wait", default=20, low=0, high=20) == 0
    for bad in ("21", "-1", "abc", "1.5"):
        with pytest.raises(ValidationFailed):
            query_int({"wait": bad}, "wait", default=20, low=0, high=20)


def test_bearer_token_parsing() -> None:
    assert bearer_token({"authorization": "Bearer abc"}) == "abc"
    assert bearer_token({"authorization": "bearer abc"}) == "abc"
    assert bearer_token({"authorization": "Basic abc"}) is None
    assert bearer_token({}) is None


def test_ack_tokens_carry_their_kind_and_round_trip() -> None:
    token = AckToken.for_queue("stg_abc", "receipt+with/odd:chars==")

    encoded = token.encode()

    assert encoded == "q1:stg_abc:receipt+with/odd:chars=="
    assert AckToken.parse(encoded) == AckToken(AckTokenKind.QUEUE, "stg_abc", "receipt+with/odd:chars==")
    assert token.receipt_hash == ids.hash_secret("receipt+with/odd:chars==")


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "q1:trm_x:receipt", "stg_abc:receipt", "q2:stg_abc:receipt", "q1:stg_abc:", "q1::r", "doctor-probe"],
)
def test_ack_tokens_of_another_shape_or_an_unknown_kind_are_malformed(garbage: str) -> None:
    assert AckToken.parse(garbage) is None


@pytest.mark.parametrize("bad", [None, "short", "x" * 129, "tab\tinside"])
def test_fingerprints_must_be_8_to_128_printable_chars(bad: str | None) -> None:
    with pytest.raises(ValidationFailed):
        check_fingerprint(bad)
    assert check_fingerprint("device-0001") == ids.hash_secret("device-0001")


def test_throttling_becomes_a_retryable_503_and_other_aws_errors_pass_through() -> None:
    from botocore.exceptions import ClientError

    from quantlink.dal import guarded
    from quantlink.errors import Unavailable

    class Client:
        def __init__(self, code: str) -> None:
            self.code = code

        def get_item(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": self.code, "Message": "m"}}, "GetItem")

    with pytest.raises(Unavailable) as caught:
        guarded(Client("ProvisionedThroughputExceededException")).get_item(TableName="t")
    assert (caught.value.status, caught.value.code) == (503, "UNAVAILABLE")
    with pytest.raises(ClientError):
        guarded(Client("ValidationException")).get_item(TableName="t")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b'{"v": 1, "v": 1, "seq": 1, "order": {}}', "appears twice", id="a repeated key"),
        pytest.param(b'{"a": {"b": 1, "b": 2}}', "appears twice", id="repeated in a nested object"),
        pytest.param(b'{"x": NaN}', "not a JSON number", id="NaN in an ignored field"),
        pytest.param(b'{"x": -Infinity}', "not a JSON number", id="-Infinity"),
    ],
)
def test_json_only_a_lenient_parser_takes_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_strict_json(raw)
    assert message in caught.value.details[0]["message"]


def test_json_nested_past_the_parsers_depth_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed):
        check_strict_json(b"[" * 100_000 + b"]" * 100_000)
    check_strict_json(b'{"a": [1, 2.5, "x", null, true], "b": {"c": {}}}')  # strict JSON passes


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({**BODY, "v": True}, id="v true"),
        pytest.param({**BODY, "seq": "3"}, id="seq a string"),
        pytest.param({**BODY, "order": {**BODY["order"], "amount": "300"}}, id="amount a string"),
        pytest.param({**BODY, "order": {**BODY["order"], "amount": True}}, id="amount true"),
        pytest.param({**BODY, "order": {**BODY["order"], "price": "10"}}, id="price a string"),
    ],
)
def test_the_signal_body_coerces_nothing(body: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        parse_body(JoinQuantSignalBody, json.dumps(body).encode(), max_bytes=65536)


@pytest.mark.parametrize("bad", ["٦٠٠٠٠٠.XSHG", "600000.XSHG\n", "６０００００.XSHG", " 600000.XSHG"])
def test_codes_are_exactly_the_ascii_form(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        to_exchange_form(bad)
