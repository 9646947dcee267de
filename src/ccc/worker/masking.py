"""Masking of secrets in anything the worker logs or publishes (comments, PR bodies, log tails, results)."""

from __future__ import annotations

import base64
import logging

from ccc.actions_io import mask

MASK = "***"


class Masker:
    """Replaces every known secret value, and the basic-auth form git would send, with ***."""

    def __init__(self, secrets: tuple[str, ...] | list[str]):
        values = {s for s in secrets if s}
        values |= {base64.b64encode(f"x-access-token:{s}".encode()).decode() for s in list(values)}
        # Longest first, so a secret containing another is replaced whole.
        self.values = sorted(values, key=len, reverse=True)
        for value in self.values:
            mask(value)

    def __call__(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, MASK)
        return text


class MaskingFilter(logging.Filter):
    """Masks secrets in every log record a handler emits."""

    def __init__(self, masker: Masker):
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.masker(record.getMessage())
        record.args = None
        return True
