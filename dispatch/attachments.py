"""Photos and short videos on tickets: type by magic bytes, size limits, storage by content hash.

Files live under the media directory (`COURTYARD_MEDIA_DIR`) as `<first two hex digits>/<sha256><ext>`,
so the same photo sent twice is stored once and a name chosen by a client never becomes a path. The
type comes from the file's first bytes, never from its name or the client's content type: only JPEG,
PNG, WebP, MP4 and QuickTime are taken as photos and videos. Voice reports add AMR, M4A, MP3 and WAV
recordings, whose type comes from decoding them (`dispatch.voice`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_FILES_PER_REQUEST",
    "MediaStore",
    "RejectedMedia",
    "StoredMedia",
    "media_limit",
    "sniff_media_type",
]

MAX_FILES_PER_REQUEST = 6
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_BYTES = MAX_VIDEO_BYTES

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    # Voice reports: accepted by decoding them (dispatch.voice), not by their first bytes.
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
}
# ISO base-media brands of MP4 files as phones and cameras write them.
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"MSNV",
        b"dash",
        b"3gp4",
        b"3gp5",
    }
)
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w.\- ()]+")


class RejectedMedia(ValueError):
    """A file that is not a supported photo or video, or too large."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    content_hash: str
    mime_type: str
    size_bytes: int
    storage_path: str
    file_name: str


def sniff_media_type(head: bytes) -> str | None:
    """The media type the first bytes announce, when it is one Courtyard takes; None otherwise."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in _MP4_BRANDS:
            return "video/mp4"
    return None


def media_limit(mime_type: str) -> int:
    return MAX_VIDEO_BYTES if mime_type.startswith("video/") else MAX_IMAGE_BYTES


def _clean_file_name(name: str | None, extension: str) -> str:
    base = unicodedata.normalize("NFC", Path(name or "").name).strip()
    base = _UNSAFE_NAME_CHARACTERS.sub("_", base)[:150].strip("._ ")
    return base or f"attachment{extension}"


class MediaStore:
    """The media directory, plus the key that signs attachment links handed to those who may see them."""

    def __init__(self, root: Path, secret_key: str) -> None:
        self.root = root
        self._signing_key = hmac.new(secret_key.encode(), b"courtyard/attachment-links", hashlib.sha256).digest()

    def check(self, data: bytes) -> str:
        """The media type of `data`, or RejectedMedia saying why it is refused."""
        if not data:
            raise RejectedMedia("the file is empty")
        mime_type = sniff_media_type(data[:16])
        if mime_type is None:
            raise RejectedMedia("only JPEG, PNG or WebP photos and MP4 or QuickTime videos are accepted")
        limit = media_limit(mime_type)
        if len(data) > limit:
            raise RejectedMedia(f"{mime_type} files may be at most {limit // (1024 * 1024)} MiB")
        return mime_type

    def save(self, data: bytes, file_name: str | None) -> StoredMedia:
        """Store `data` (checked first) under its hash; storing the same content again is a no-op."""
        return self._keep(data, self.check(data), file_name)

    def save_recording(self, data: bytes, mime_type: str, file_name: str | None) -> StoredMedia:
        """Store a voice recording that `dispatch.voice.prepare_voice` decoded as `mime_type`."""
        if not mime_type.startswith("audio/") or mime_type not in _EXTENSIONS:
            raise RejectedMedia(f"{mime_type} is not a recording type")
        return self._keep(data, mime_type, file_name)

    def _keep(self, data: bytes, mime_type: str, file_name: str | None) -> StoredMedia:
        digest = hashlib.sha256(data).hexdigest()
        extension = _EXTENSIONS[mime_type]
        relative = f"{digest[:2]}/{digest}{extension}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target and rename: a reader never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredMedia(digest, mime_type, len(data), relative, _clean_file_name(file_name, extension))

    def path_of(self, storage_path: str) -> Path:
        path = (self.root / storage_path).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage path leaves the media directory")
        return path

    def signature(self, attachment_id: int, user_id: int, expires: int) -> str:
        message = f"{attachment_id}:{user_id}:{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def link(self, attachment_id: int, user_id: int, expires: int) -> str:
        """A link to the file that works for `user_id` until `expires` (Unix seconds)."""
        signature = self.signature(attachment_id, user_id, expires)
        return f"/attachments/{attachment_id}?user={user_id}&expires={expires}&signature={signature}"

    def verify(self, attachment_id: int, user_id: int, expires: int, signature: str) -> bool:
        return hmac.compare_digest(self.signature(attachment_id, user_id, expires), signature)
