"""Response bodies to text: Content-Encoding decoded with the output capped inside
decompression (so a gzip bomb stops at the cap), and bytes decoded by BOM, charset and <meta>."""

from __future__ import annotations

import codecs
import re
import zlib
from typing import Any

from watcher.errors import FetchError

META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{1,40})""", re.I
)
LATIN_FAMILY = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
# Python codecs a page must not select: not web encodings (UTF-7 hides markup from sniffers), or
# unable to decode with errors="replace" (idna, undefined). Bytes-to-bytes codecs such as base64
# and zlib are refused by the probe in `_codec`.
NOT_WEB_CODECS = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
)


class Decoder:
    """Content-Encoding decoding with the output capped *inside* decompression."""

    def __init__(self, encoding: str, cap: int) -> None:
        codings = [
            c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip() != "identity"
        ]
        if len(codings) > 1:
            raise FetchError("bad_encoding", f"stacked content encodings {encoding!r} are refused")
        self.cap = cap
        self.out = bytearray()
        self.coding = codings[0] if codings else ""
        self._fed = False
        if self.coding in ("gzip", "x-gzip"):
            self._z: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self._z = None  # zlib-wrapped or raw deflate: decided on the first bytes
        elif self.coding:
            raise FetchError("bad_encoding", f"content encoding {self.coding!r} is not supported")

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._fed = True
        if not self.coding:
            self._append(chunk)
            return
        if self._z is None:
            wbits = zlib.MAX_WBITS if (chunk[0] & 0x0F) == 8 else -zlib.MAX_WBITS
            self._z = zlib.decompressobj(wbits)
        data = chunk
        try:
            while data:
                room = self.cap - len(self.out) + 1
                self._append(self._z.decompress(data, room))
                data = self._z.unconsumed_tail
        except zlib.error as exc:
            raise FetchError("bad_encoding", f"compressed body is corrupt ({exc})") from None

    def _append(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > self.cap:
            raise FetchError("too_large", f"decoded body is over the {self.cap}-byte cap")

    def finish(self) -> bytes:
        if self.coding and self._fed:  # an empty body has no encoding to check
            try:
                self._append(self._z.flush())
            except zlib.error as exc:
                raise FetchError("bad_encoding", f"compressed body is corrupt ({exc})") from None
            # A body cut short (a close-delimited answer dropped mid-way) would otherwise pass as a
            # shorter page and be reported as removed text.
            if not self._z.eof:
                raise FetchError(
                    "bad_encoding", "compressed body ends before its end marker (truncated)"
                )
        return bytes(self.out)


def charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", content_type, re.I)
    return m.group(1) if m else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
        # LookupError for bytes-to-bytes codecs (base64, zlib, rot13), UnicodeError for idna.
        b"a".decode(name, "replace")
    except (LookupError, UnicodeError):
        return None
    if name in NOT_WEB_CODECS:
        return None
    if name == "utf-16":
        return "utf-16-le"  # WHATWG; Python's "utf-16" without a BOM means the machine's byte order
    # WHATWG: pages labelled latin-1 or ascii are decoded as windows-1252.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def decode_text(body: bytes, header_charset: str | None) -> str:
    """Bytes to text, deterministically: BOM, then HTTP charset, then <meta>, then UTF-8, then cp1252."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    declared = _codec(header_charset)
    if declared is None:
        m = META_CHARSET.search(body[:4096])
        declared = _codec(m.group(1).decode("ascii", "replace")) if m else None
        if declared and declared.startswith(("utf-16", "utf-32")):
            declared = "utf-8"  # WHATWG: a <meta> readable as ASCII cannot be UTF-16 (or 32)
    if declared in LATIN_FAMILY or declared is None:
        # A page that says latin-1 but is valid UTF-8 with multibyte text is UTF-8 in practice.
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body.decode(declared or "cp1252", errors="replace")
    return body.decode(declared, errors="replace")
