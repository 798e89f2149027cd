"""Property tests of the security-code mapping: every source form maps to exactly one exchange form
and back, and any other text is a ValidationFailed (a 400), never another error and never a code a
terminal could misread."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantlink.errors import ValidationFailed
from quantlink.securities import (
    a_share_security,
    infer_exchange,
    normalize_security,
    to_exchange_form,
    to_source_form,
)

EXCHANGE_FORM = re.compile(r"[0-9]{6}\.(SH|SZ|BJ)", re.ASCII)
SIX_DIGITS = st.text(alphabet="0123456789", min_size=6, max_size=6)
JOINQUANT = st.builds(lambda code, suffix: f"{code}.{suffix}", SIX_DIGITS, st.sampled_from(["XSHG", "XSHE", "XBSE"]))
# Near misses: Unicode digits, lower case, whitespace and newlines, other suffixes, wrong lengths.
NEAR = st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩０１.XSHGEBJZQxshg \n\t:", max_size=14)


@given(JOINQUANT)
def test_joinquant_codes_map_to_one_exchange_form_and_back(security: str) -> None:
    mapped = to_exchange_form(security)
    assert EXCHANGE_FORM.fullmatch(mapped)
    assert to_source_form(mapped) == security
    assert normalize_security(security) == normalize_security(mapped) == mapped
    assert a_share_security(security, field="symbol") == mapped
    assert a_share_security(f"  {security.lower()} ", field="symbol") == mapped  # as people type it


@given(st.one_of(st.text(max_size=20), NEAR))
def test_any_other_text_is_a_validation_error_or_a_clean_exchange_form(text: str) -> None:
    for convert in (to_exchange_form, lambda t: a_share_security(t, field="symbol")):
        try:
            mapped = convert(text)
        except ValidationFailed as error:
            assert error.details and error.details[0]["field"] in {"order.security", "symbol"}
        else:
            assert EXCHANGE_FORM.fullmatch(mapped), (text, mapped)
            assert mapped[:6] in text  # the digits the source wrote, never others
    normalized = normalize_security(text)
    assert normalized is None or EXCHANGE_FORM.fullmatch(normalized)


@given(SIX_DIGITS)
def test_a_bare_code_gets_the_exchange_its_block_belongs_to_or_is_refused(code: str) -> None:
    exchange = infer_exchange(code)
    if exchange is None:
        with pytest.raises(ValidationFailed):
            a_share_security(code, field="symbol")
    else:
        assert a_share_security(code, field="symbol") == f"{code}.{exchange}"
        prefixed = {"SH": "SSE", "SZ": "SZSE", "BJ": "BSE"}[exchange]
        assert a_share_security(f"{prefixed}:{code}", field="symbol") == f"{code}.{exchange}"


@given(st.text(alphabet="٠١٢٣٤٥٦٧٨٩０１２３", min_size=6, max_size=6), st.sampled_from(["XSHG", "XSHE"]))
def test_non_ascii_digits_are_refused(digits: str, suffix: str) -> None:
    with pytest.raises(ValidationFailed):
        to_exchange_form(f"{digits}.{suffix}")
    assert normalize_security(f"{digits}.{suffix}") is None
