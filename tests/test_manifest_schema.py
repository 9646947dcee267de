"""The shipped JSON Schema is valid draft 2020-12, matches the validator's rules and accepts the examples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from ccc.manifest import PRIORITIES, STATES
from ccc.manifest.validate import DEFAULTS_KEYS, ID_PATTERN, PART_KEYS, TASK_KEYS, TOP_KEYS, WORKER_PATTERN

REPO = Path(__file__).parent.parent
PACKAGED = REPO / "src/ccc/manifest.schema.json"
PUBLISHED = REPO / "schema/manifest.schema.json"
SCHEMA = json.loads(PACKAGED.read_text())
BAD = REPO / "tests/manifests/bad"

VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def errors(instance) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(instance)]


def yaml_files(*patterns: str) -> list[Path]:
    return sorted(path for pattern in patterns for path in REPO.glob(pattern))


def test_the_packaged_and_published_schemas_are_identical():
    assert PACKAGED.read_bytes() == PUBLISHED.read_bytes()


def test_the_schema_is_a_valid_draft_2020_12_schema_whose_references_resolve():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', PACKAGED.read_text())
    assert refs and all(name in SCHEMA["$defs"] for name in refs)


def test_the_schema_knows_the_same_keys_values_and_patterns_as_the_validator():
    defs = SCHEMA["$defs"]
    assert tuple(SCHEMA["properties"]) == TOP_KEYS
    assert tuple(defs["defaults"]["properties"]) == DEFAULTS_KEYS
    assert tuple(defs["task"]["properties"]) == TASK_KEYS
    assert tuple(defs["part"]["properties"]) == PART_KEYS
    assert tuple(defs["priority"]["enum"]) == PRIORITIES and tuple(defs["state"]["enum"]) == STATES
    assert defs["id"]["pattern"] == f"^{ID_PATTERN.pattern}$"
    assert defs["worker"]["pattern"] == f"^{WORKER_PATTERN.pattern}$"


@pytest.mark.parametrize(
    "path", yaml_files("examples/tasks.yml", "examples/tasks/*.yml"), ids=lambda p: str(p.relative_to(REPO))
)
def test_the_examples_satisfy_the_schema(path: Path):
    assert errors(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize(
    "name",
    [
        "unknown-task-key.yml",
        "unknown-part-key.yml",
        "missing-title.yml",
        "unsupported-version.yml",
        "version-as-string.yml",
        "bad-id-format.yml",
        "label-too-long.yml",
        "label-with-comma.yml",
        "worker-invalid.yml",
        "priority-invalid.yml",
        "body-and-template.yml",
        "body-missing.yml",
        "template-escapes-directory.yml",
        "template-absolute-path.yml",
        "vars-without-template.yml",
        "parts-with-worker.yml",
        "parts-empty.yml",
        "state-yaml-boolean.yml",
        "assignee-invalid.yml",
    ],
)
def test_the_schema_rejects_malformed_manifests_it_can_express(name: str):
    assert errors(yaml.safe_load((BAD / name).read_text())) != []


def test_the_schema_accepts_a_coordinated_task_without_body_sharing_vars_with_its_parts():
    manifest = {
        "version": 1,
        "defaults": {"worker": "any", "assignee": None},
        "tasks": [
            {
                "id": "dashboard",
                "title": "Implement dashboard feature",
                "vars": {"product": "Acme"},
                "parts": [
                    {"id": "frontend", "title": "Create UI", "worker": "cc01", "body_template": "ui.md.j2"},
                    {"id": "backend", "title": "Add API", "worker": "cc02", "body": "API", "depends_on": ["frontend"]},
                ],
            }
        ],
    }
    assert errors(manifest) == []
