"""Attachments: a content-addressed blob store beside the event store (a directory by default).

A file is named by the SHA-256 of its plaintext (`sha256:<hex>`); events
record that reference, so the seal over the events covers the attachments
too. Blobs are encrypted at rest (AES-GCM, a key derived from the personal
data key; the hash binds the ciphertext), size- and type-checked on the way
in, and checked again when read: a missing or altered blob is reported, never
served (`relief-ledger audit verify` lists them).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.store.errors import FieldProblem, InvalidInput

# Media types accepted, recognised by their first bytes (the declared type is not trusted).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),  # .docx / .xlsx (Office Open XML)
)
OFFICE = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class StoredBlob:
    ref: str  # sha256:<hex>
    size: int
    type: str


class BlobStore:
    def __init__(self, root: Path, key: bytes, max_bytes: int = 10 * 1024 * 1024) -> None:
        self.root = root
        self.aead = AESGCM(hashlib.sha256(b"blobs\x00" + key).digest())
        self.max_bytes = max_bytes

    def put(self, data: bytes, declared_type: str | None = None) -> StoredBlob:
        """Check and store a file; the same content is stored once."""
        if not data:
            raise InvalidInput("文件为空", "the file is empty", fields=[FieldProblem("file", "empty_file", "empty")])
        if len(data) > self.max_bytes:
            raise InvalidInput("文件过大", "the file is too large",
                               fields=[FieldProblem("file", "too_large", f"at most {self.max_bytes} bytes")])
        kind = sniff(data, declared_type)
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            nonce = os.urandom(12)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(nonce + self.aead.encrypt(nonce, data, digest.encode()))
            tmp.replace(path)  # whole or not at all
        return StoredBlob(f"sha256:{digest}", len(data), kind)

    def get(self, ref: str) -> bytes | None:
        """The plaintext, or None when the blob is missing or altered."""
        return self._read(ref)[0]

    def check(self, ref: str) -> str:
        """ok | missing | altered."""
        return self._read(ref)[1]

    def has(self, ref: str) -> bool:
        return self._path(ref.removeprefix("sha256:")).exists()

    def _read(self, ref: str) -> tuple[bytes | None, str]:
        digest = ref.removeprefix("sha256:")
        path = self._path(digest)
        if not path.exists():
            return None, "missing"
        raw = path.read_bytes()
        try:
            data = self.aead.decrypt(raw[:12], raw[12:], digest.encode())
        except Exception:  # noqa: BLE001 — any failure to decrypt is an altered blob
            return None, "altered"
        if hashlib.sha256(data).hexdigest() != digest:
            return None, "altered"
        return data, "ok"

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest


def sniff(data: bytes, declared: str | None) -> str:
    """The media type by content: photos (JPEG, PNG), PDF, Office documents, or UTF-8 text."""
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            if kind == "application/zip":
                return declared if declared in OFFICE else "application/vnd.openxmlformats-officedocument"
            return kind
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return "text/plain"
    raise InvalidInput("不支持的文件类型", "unsupported file type",
                       fields=[FieldProblem("file", "bad_file_type", "JPEG, PNG, PDF, .docx/.xlsx or UTF-8 text")])
