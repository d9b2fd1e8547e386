"""The type of a file, detected from its bytes (magic numbers), never from its name or the client.

No libmagic: the allow-list is short, and each of its types has a fixed signature at a fixed offset.
Plain text has none: it is "valid UTF-8 without NUL bytes" over the whole file, which
`TextCheck` decides while the file streams through, chunk by chunk.
"""

import codecs

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
DICOM = "application/dicom"
TEXT = "text/plain"

# How many leading bytes detection needs (DICOM's "DICM" sits after a 128-byte preamble).
HEAD_BYTES = 132

_SIGNATURES = (
    (PDF, 0, b"%PDF-"),
    (PNG, 0, b"\x89PNG\r\n\x1a\n"),
    (JPEG, 0, b"\xff\xd8\xff"),
    (TIFF, 0, b"II*\x00"),
    (TIFF, 0, b"MM\x00*"),
    (DICOM, 128, b"DICM"),
)

# Names clients commonly declare for the same types.
_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "application/x-pdf": PDF,
    "image/tif": TIFF,
    "application/dicom+binary": DICOM,
}
# Declared types that say "I do not know": the bytes decide alone.
UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}


def signature_type(head: bytes) -> str | None:
    """The type whose signature `head` carries, or None."""
    for content_type, offset, magic in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    return None


def normalize_declared_type(declared: str | None) -> str:
    """ "Text/Plain; charset=utf-8" -> "text/plain"; aliases to their canonical name."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def declared_type_matches(declared: str | None, detected: str) -> bool:
    normalized = normalize_declared_type(declared)
    return normalized in UNDECLARED or normalized == detected


class TextCheck:
    """Feed every chunk; `is_text` stays True while the bytes so far are UTF-8 without NULs."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.is_text = True

    def feed(self, chunk: bytes) -> None:
        if not self.is_text:
            return
        if b"\x00" in chunk:
            self.is_text = False
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self.is_text = False

    def finish(self) -> bool:
        if self.is_text:
            try:
                self._decoder.decode(b"", final=True)  # a multi-byte character cut at the end
            except UnicodeDecodeError:
                self.is_text = False
        return self.is_text


class Sniffer:
    """Detect a streamed file's type: keep its first bytes, check the text rule on every chunk."""

    def __init__(self) -> None:
        self.head = b""
        self.text = TextCheck()

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self.text.feed(chunk)

    def detected_type(self) -> str | None:
        found = signature_type(self.head)
        if found is not None:
            return found
        return TEXT if self.head and self.text.finish() else None
