"""Keyed hashes and field encryption of personal data, under a key from configuration."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass(frozen=True)
class PersonalDataKey:
    """Keyed hashing and field encryption for personal data (key from configuration)."""

    key: bytes

    @classmethod
    def from_base64(cls, value: str) -> PersonalDataKey:
        key = base64.b64decode(value)
        if len(key) != 32:
            raise ValueError("the personal-data key must be 32 bytes (base64)")
        return cls(key)

    def hash(self, purpose: str, value: str) -> str:
        """Stable keyed hash: equal values match; the clear value cannot be guessed without the key."""
        return hmac.new(self.key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        sealed = self._fields.encrypt(nonce, value.encode(), None)
        return base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        raw = base64.b64decode(token)
        return self._fields.decrypt(raw[:12], raw[12:], None).decode()

    @cached_property
    def _fields(self) -> AESGCM:
        """The field cipher, derived once per key (an export decrypts a name per row)."""
        return AESGCM(self._derived(b"field-encryption"))

    def _derived(self, label: bytes) -> bytes:
        return hmac.new(self.key, label, hashlib.sha256).digest()
