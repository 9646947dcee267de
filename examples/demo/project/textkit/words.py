"""Splitting text into words."""

import re

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text):
    """The words of `text` in order, apostrophes kept inside words: "Don't panic!" -> ["Don't", "panic"]."""
    return _WORD.findall(text)
