"""Detecting an import file's encoding: UTF-8 (with or without BOM), a certain Windows-1252,
or a refusal with a message saying how to re-save the file.

The file is streamed in blocks of ``ENCODING_BLOCK_BYTES``; pure (no Flask, no SQLAlchemy).
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from cxactions.foundations.translation import N_, _
from cxactions.imports.results import ParseError

ENCODING_BLOCK_BYTES = 1 << 20
# The advice ending each refusal (translated where a message is built: ``_(RE_SAVE_HINT)``).
RE_SAVE_HINT = N_(
    "re-save it as 'CSV UTF-8 (Comma delimited)' in Excel (or choose UTF-8 in your editor's "
    "Save As)"
)


def _plausible_cp1252_bytes() -> frozenset[int]:
    """Windows-1252 bytes that decode to letters or punctuation of English or French text."""
    punctuation = set("€‚„…‘’“”•–—™‹›«»°£§©®·¡¿ªº±×÷²³¼½¾µ¢¥´\u00a0")
    allowed = set()
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined
            continue
        latin_letter = "\u00c0" <= char <= "\u00ff" and char.isalpha()
        if latin_letter or char in punctuation or char in "ŒœŸ":
            allowed.add(byte)
    return frozenset(allowed)


PLAUSIBLE_CP1252 = _plausible_cp1252_bytes()
ASCII_BYTES = bytes(range(0x80))
# A well-formed UTF-8 multi-byte sequence: Windows-1252 French text practically never holds one.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass(frozen=True)
class EncodingVerdict:
    """How to decode a file: ``encoding`` (None when refused), a notice, or the refusal."""

    encoding: str | None
    notice: str | None = None
    error: ParseError | None = None


def _blocks(handle) -> Iterator[bytes]:
    """Blocks of about 1 MB that end at a line end, so no character or line is split."""
    while True:
        block = handle.read(ENCODING_BLOCK_BYTES)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += handle.readline()
        yield block


def detect_encoding(path: str | os.PathLike) -> EncodingVerdict:
    """Stream the file once: UTF-8 (with or without BOM), certain Windows-1252, or a refusal."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return EncodingVerdict(None, error=ParseError(1, "", _utf16_message()))
        if head.startswith(b"PK\x03\x04"):
            return EncodingVerdict(
                None,
                error=ParseError(
                    1,
                    "",
                    _(
                        "this is an Excel workbook (.xlsx), not a CSV file: open it in Excel and "
                        "save it as 'CSV UTF-8 (Comma delimited)'"
                    ),
                ),
            )
        handle.seek(0)
        lines_before = 0
        saw_utf8_text = False
        for block in _blocks(handle):
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines_before + block.count(b"\n", 0, nul) + 1
                if block.count(b"\x00") * 4 > len(block):
                    return EncodingVerdict(None, error=ParseError(line, "", _utf16_message()))
                message = _("binary data (a NUL byte): this is not a text CSV file")
                return EncodingVerdict(None, error=ParseError(line, "", message))
            if not block.isascii():
                try:
                    block.decode("utf-8")
                except UnicodeDecodeError as error:
                    line = lines_before + block.count(b"\n", 0, error.start) + 1
                    bad_byte = block[error.start]
                    mixed = saw_utf8_text or not block[: error.start].isascii()
                    return _not_utf8(handle, line, bad_byte, mixed)
                saw_utf8_text = True
            lines_before += block.count(b"\n")
    return EncodingVerdict("utf-8-sig")


def _utf16_message() -> str:
    return _(
        "the file is UTF-16 encoded (Excel's 'Unicode Text'), not UTF-8: %(advice)s",
        advice=_(RE_SAVE_HINT),
    )


def _hex(byte: int) -> str:
    """A byte as written in the messages: 0xE9."""
    return f"0x{byte:02X}"


def _not_utf8(handle, line: int, bad_byte: int, mixed: bool) -> EncodingVerdict:
    """Decide between a certain Windows-1252 reading and a refusal, reading the file again."""
    if mixed:
        message = _(
            "byte %(byte)s is not UTF-8, yet earlier lines are UTF-8: the file mixes two "
            "encodings; %(advice)s",
            byte=_hex(bad_byte),
            advice=_(RE_SAVE_HINT),
        )
        return EncodingVerdict(None, error=ParseError(line, "", message))
    handle.seek(0)
    lines_before = 0
    for block in _blocks(handle):
        high = set(block.translate(None, ASCII_BYTES))
        doubtful = high - PLAUSIBLE_CP1252
        if doubtful:
            first = min(block.find(bytes([byte])) for byte in doubtful)
            at = lines_before + block.count(b"\n", 0, first) + 1
            byte = block[first]
            try:
                meaning = f"'{bytes([byte]).decode('cp1252')}'"
            except UnicodeDecodeError:
                meaning = _("undefined")
            message = _(
                "the file is not UTF-8 (first at line %(line)d, byte %(bad_byte)s) and its "
                "encoding is uncertain: byte %(byte)s would be %(meaning)s in Windows-1252, "
                "which is unlikely in English or French text; %(advice)s",
                line=line,
                bad_byte=_hex(bad_byte),
                byte=_hex(byte),
                meaning=meaning,
                advice=_(RE_SAVE_HINT),
            )
            return EncodingVerdict(None, error=ParseError(at, "", message))
        sequence = UTF8_SEQUENCE.search(block)
        if sequence:
            at = lines_before + block.count(b"\n", 0, sequence.start()) + 1
            message = _(
                "the file is not UTF-8 (line %(line)d) but line %(at)d holds UTF-8 text: it "
                "mixes two encodings; %(advice)s",
                line=line,
                at=at,
                advice=_(RE_SAVE_HINT),
            )
            return EncodingVerdict(None, error=ParseError(at, "", message))
        lines_before += block.count(b"\n")
    notice = _(
        "the file is not UTF-8 (byte %(byte)s on line %(line)d); it was read as Windows-1252 "
        "(Excel's 'CSV (Comma delimited)'). Next time save it as 'CSV UTF-8'.",
        byte=_hex(bad_byte),
        line=line,
    )
    return EncodingVerdict("cp1252", notice=notice)
