"""Strategy files as bytes: decode them without losing how they were written, encode them back the
same way (encoding, BOM and newlines; the newlines stay in the text, libcst keeps them)."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

from quantlink.errors import ValidationFailed

# What Chinese Windows editors save when no coding line says otherwise (a superset of GBK).
_LEGACY_CHINESE = "gb18030"


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str  # codec to write back with; "utf-8-sig" puts the BOM back

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def _declared_encoding(data: bytes) -> str | None:
    """The BOM's or the PEP 263 coding line's codec, "utf-8" when there is neither; None when the
    first lines are not UTF-8 and name no codec (tokenize refuses those)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return None
    return encoding


def decode_source(data: bytes) -> SourceText:
    encoding = _declared_encoding(data)
    if encoding is not None:
        try:
            return SourceText(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            if encoding != "utf-8":
                raise ValidationFailed(f"the file is not valid {encoding}, as its coding line says") from None
    try:
        text = data.decode(_LEGACY_CHINESE)
    except UnicodeDecodeError:
        raise ValidationFailed("the file is neither UTF-8 nor GB18030: add a coding line") from None
    # Only when no coding line names another codec (or names one Python does not know).
    if _declared_encoding(text.encode("utf-8")) != "utf-8":
        raise ValidationFailed("cannot read the file: its coding line names a codec its bytes do not match")
    return SourceText(text, _LEGACY_CHINESE)
