"""textkit: small, dependency-free helpers for working with text."""

from textkit.words import words

__all__ = ["words"]
