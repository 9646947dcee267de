"""`ccc` itself: the commands it lists, its exit codes, and warnings said once."""

from __future__ import annotations

import logging

import pytest

from ccc.cli import OncePerMessage, main


def test_the_top_level_help_lists_doctor_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "doctor" in out and "3 GitHub refused" in " ".join(out.split())


def test_each_warning_is_logged_once_and_other_levels_always():
    once = OncePerMessage()

    def record(level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord("ccc", level, __file__, 1, message, (), None)

    passed = [once.filter(record(level, text)) for level, text in [
        (logging.WARNING, "read-only token"), (logging.WARNING, "read-only token"), (logging.WARNING, "other"),
        (logging.INFO, "#1: claimed"), (logging.INFO, "#1: claimed"),
    ]]  # fmt: skip
    assert passed == [True, False, True, True, True]
