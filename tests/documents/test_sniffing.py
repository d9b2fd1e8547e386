import pytest

from documents.sniffing import Sniffer, declared_type_matches, normalize_declared_type
from tests.documents.helpers import DICOM, ELF, JPEG, PDF, PNG, TEXT, TIFF, ZIP


def sniff(content: bytes, chunk: int = 7) -> str | None:
    sniffer = Sniffer()
    for start in range(0, len(content), chunk):
        sniffer.feed(content[start : start + chunk])
    return sniffer.detected_type()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (TIFF, "image/tiff"),
        (b"MM\x00*" + b"\x00" * 8, "image/tiff"),
        (DICOM, "application/dicom"),
        (TEXT, "text/plain"),
        (ELF, None),
        (ZIP, None),
        (b"", None),
        (b"caf\xc3", None),  # UTF-8 cut in the middle of a character at the end
        (b"plain\x00text", None),
        ("é".encode() * 100, "text/plain"),  # multi-byte characters split across chunks
    ],
)
def test_types_are_detected_from_the_bytes(content, expected):
    assert sniff(content) == expected


def test_declared_types_are_normalized():
    assert normalize_declared_type("Text/Plain; charset=UTF-8") == "text/plain"
    assert normalize_declared_type("image/jpg") == "image/jpeg"
    assert declared_type_matches("application/octet-stream", "application/pdf")
    assert not declared_type_matches("image/png", "application/pdf")
