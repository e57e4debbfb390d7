"""Bytes to text: the encoding a file declares (byte-order mark, XML declaration, HTML meta charset), else UTF-8,
else what charset-normalizer detects; a file that is not text at all is refused with the reason."""

from __future__ import annotations

import codecs
import re

# Byte-order marks, longest first: UTF-32's little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# <?xml ... encoding="..."?>, <meta charset="...">, <meta http-equiv="Content-Type" content="...; charset=...">:
# read from the first bytes as ASCII, as browsers do (the HTML standard's prescan looks at the first 1,024).
_DECLARED = re.compile(rb"""<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']"""
                       rb"""|<meta[^>]*?\bcharset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_PRESCAN_BYTES = 4096


class NotText(ValueError):
    """The bytes are not text in any encoding we can tell."""


def declared_encoding(raw: bytes) -> str | None:
    """The encoding a byte-order mark or an XML / HTML declaration names, if Python knows it."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    match = _DECLARED.search(raw[:_PRESCAN_BYTES])
    if not match:
        return None
    name = (match.group(1) or match.group(2)).decode("ascii").lower()
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # Browsers read pages labelled latin-1 / ascii as windows-1252 (the WHATWG encoding standard): their
    # "smart quotes" are in 0x80-0x9f, which latin-1 maps to control characters.
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def decode(raw: bytes, nul_means_binary: bool = True) -> str:
    """Decode a file's bytes; raise NotText for a binary file or one no encoding reads. `nul_means_binary=False`
    for a file of records (JSONL), where a NUL byte spoils one line, not the file."""
    declared = declared_encoding(raw)
    if declared:
        try:
            return raw.decode(declared)
        except UnicodeDecodeError:
            pass  # a wrong declaration is common: fall through to detection
    if nul_means_binary and b"\0" in raw[:8192]:
        raise NotText("binary file (NUL bytes, no byte-order mark)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise NotText("not text in any encoding charset-normalizer can tell")
    return str(best)
