"""The table's layout is written in one place: every key of the single table is built by
quantlink.dal.keys, so no other module of the layer or the functions spells a key prefix."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from quantlink.dal import keys
from quantlink_local.template import REPO_ROOT

# f-strings are one STRING token up to Python 3.11, and FSTRING_MIDDLE parts from 3.12 on.
STRINGS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
PREFIX = re.compile(
    r"(#META|\b(STRATEGY|TERMINAL|OWNER|SUB|SIGNAL|DEDUP|POSITIONS|CONNECTION|FANOUT|UNPULLED|DRIFT|SHARE|GRANT|USER"
    r"|EMAIL|RECIPIENT|INVITATION|USE|AUDIT|AT|BUNDLE|MEMBER|GROUP|GSHARE|WARNED)[#$]|#D#|DRIFTCFG)"
)


def string_literals(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in tokens if t.type in STRINGS]


def test_no_module_but_keys_spells_a_key_prefix() -> None:
    sources = [*(REPO_ROOT / "layers" / "core" / "quantlink").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {text}"
        for path in sources
        if path != Path(keys.__file__)
        for line, text in string_literals(path)
        if PREFIX.search(text)
    ]
    assert offenders == []
    assert PREFIX.search('"SUB#"')  # the pattern finds what it is meant to


def test_keys_keep_the_layout_the_hot_path_relies_on() -> None:
    # A signal's deliveries sort right after it and before the next (newer) signal, and every signal
    # key sorts inside the timeline's range: the timeline stays one Query.
    older, newer = keys.signal_sk("sig_0001"), keys.signal_sk("sig_0002")
    delivery = keys.delivery_sk("sig_0001", "trm_z")
    assert older < delivery < newer < keys.SIGNALS_END
    assert older >= keys.SIGNAL and keys.is_delivery_sk(delivery) and not keys.is_delivery_sk(older)
    assert keys.subscribed_id(keys.subscription_sk("trm_1")) == "trm_1"
