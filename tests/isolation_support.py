"""Shared by the isolation tests: bubblewrap must work here (they fail, never skip, when it does not)."""

from __future__ import annotations

import pytest

from ccc.errors import InputError
from ccc.isolation.confine import check_bwrap


@pytest.fixture(autouse=True, scope="module")
def bubblewrap_works() -> None:
    try:
        check_bwrap()
    except InputError as exc:
        pytest.fail(f"the isolation tests need bubblewrap: {exc.message} (`make test` installs it as root)")
