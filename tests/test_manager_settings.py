"""Manager settings: validated once, with the pool label standing for `worker: any`."""

from __future__ import annotations

import pytest

from ccc.errors import InputError
from ccc.manager.settings import ManagerSettings


def test_any_worker_routes_to_the_pool_label():
    settings = ManagerSettings(pool_label="shared")

    assert settings.worker_label("any") == "shared"
    assert settings.worker_label("cc02") == "cc02"
    assert settings.worker_label(None) is None


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("max_writes_per_minute", -1, "--max-writes-per-minute"),
        ("max_attempts", 0, "--max-attempts"),
        ("max_claim_reads", -1, "--max-claim-reads"),
        ("manifest_globs", (), "--manifest"),
    ],
)
def test_invalid_settings_name_the_flag_to_fix(field, value, flag):
    with pytest.raises(InputError, match=flag):
        ManagerSettings(**{field: value})
