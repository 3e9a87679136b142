"""Specification of attachment typing and storage (dispatch/attachments.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dispatch.attachments import MediaStore, RejectedMedia, sniff_media_type

JPEG = b"\xff\xd8\xff\xdb" + bytes(64)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (JPEG, "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n" + bytes(8), "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video/mp4"),
        (b"\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", "video/quicktime"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", None),
        (b"\x00\x00\x00\x20ftypheic\x00\x00\x00\x00", None),
        (b"GIF89a" + bytes(10), None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (b"%PDF-1.7\n", None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_first_bytes(head: bytes, expected: str | None) -> None:
    assert sniff_media_type(head) == expected


def test_the_same_content_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, "a-secret-of-sixteen-chars")
    first = store.save(JPEG, "../../etc/passwd")
    second = store.save(JPEG, "again.jpg")
    digest = hashlib.sha256(JPEG).hexdigest()
    assert first.storage_path == second.storage_path == f"{digest[:2]}/{digest}.jpg"
    assert (first.file_name, second.file_name) == ("passwd", "again.jpg")
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{digest}.jpg"]


def test_oversized_and_unknown_files_are_refused(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, "a-secret-of-sixteen-chars")
    with pytest.raises(RejectedMedia, match="at most 10 MiB"):
        store.check(JPEG[:4] + bytes(10 * 1024 * 1024))
    with pytest.raises(RejectedMedia, match="only JPEG"):
        store.check(b"#!/bin/sh\nrm -rf /\n")
    with pytest.raises(RejectedMedia, match="empty"):
        store.check(b"")


def test_links_verify_only_for_their_attachment_user_and_expiry(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, "a-secret-of-sixteen-chars")
    signature = store.signature(7, 3, 1_800_000_000)
    assert store.verify(7, 3, 1_800_000_000, signature)
    assert not store.verify(8, 3, 1_800_000_000, signature)
    assert not store.verify(7, 4, 1_800_000_000, signature)
    assert not store.verify(7, 3, 1_800_000_001, signature)
    assert not MediaStore(tmp_path, "another-secret-sixteen").verify(7, 3, 1_800_000_000, signature)
