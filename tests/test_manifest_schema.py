"""The shipped JSON Schema matches the validator's rules and accepts the examples.

jsonschema is not a dependency, so a small validator for the keywords the schema uses lives here;
it fails loudly on any keyword it does not know, so the schema cannot outgrow it unnoticed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ccc.manifest import PRIORITIES, STATES
from ccc.manifest.validate import DEFAULTS_KEYS, ID_PATTERN, PART_KEYS, TASK_KEYS, TOP_KEYS, WORKER_PATTERN

REPO = Path(__file__).parent.parent
PACKAGED = REPO / "src/ccc/manifest.schema.json"
PUBLISHED = REPO / "schema/manifest.schema.json"
SCHEMA = json.loads(PACKAGED.read_text())
BAD = REPO / "tests/manifests/bad"

TYPES = {"object": dict, "array": list, "string": str, "null": type(None)}
ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description"}


def errors(instance, schema: dict, path: str = "$") -> list[str]:
    """Where `instance` breaks `schema`, for the keywords of draft 2020-12 that our schema uses."""
    if "$ref" in schema:
        return errors(instance, SCHEMA["$defs"][schema["$ref"].removeprefix("#/$defs/")], path)
    found: list[str] = []
    for keyword, value in schema.items():
        if keyword not in ANNOTATIONS | {"if", "then", "else"}:
            found += [f"{path}: {message}" for message in KEYWORDS[keyword](instance, value, schema, path)]
    if "if" in schema:
        branch = "then" if not errors(instance, schema["if"], path) else "else"
        found += errors(instance, schema.get(branch, {}), path)
    return found


def _type(instance, value, schema, path):
    names = value if isinstance(value, list) else [value]
    if any(isinstance(instance, TYPES[name]) for name in names):
        return []
    return [f"not of type {value}"]


def _properties(instance, value, schema, path):
    if not isinstance(instance, dict):
        return []
    return [e for key, sub in value.items() if key in instance for e in errors(instance[key], sub, f"{path}.{key}")]


def _additional(instance, value, schema, path):
    if value is not False or not isinstance(instance, dict):
        return []
    return [f"unknown key {key}" for key in instance if key not in schema.get("properties", {})]


def _items(instance, value, schema, path):
    if not isinstance(instance, list):
        return []
    return [e for index, item in enumerate(instance) for e in errors(item, value, f"{path}[{index}]")]


def _dependent_required(instance, value, schema, path):
    if not isinstance(instance, dict):
        return []
    return [
        f"{key} needs {need}"
        for key, needs in value.items()
        if key in instance
        for need in needs
        if need not in instance
    ]


def _property_names(instance, value, schema, path):
    if not isinstance(instance, dict):
        return []
    return [e for key in instance for e in errors(key, value, f"{path}.{key}")]


def _string_check(test):
    def check(instance, value, schema, path):
        return [] if not isinstance(instance, str) or test(instance, value) else [f"fails {value!r}"]

    return check


KEYWORDS = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda i, v, s, p: [f"missing {k}" for k in v if isinstance(i, dict) and k not in i],
    "items": _items,
    "minItems": lambda i, v, s, p: ["too few items"] if isinstance(i, list) and len(i) < v else [],
    "const": lambda i, v, s, p: [] if i == v and type(i) is type(v) else [f"not {v!r}"],
    "enum": lambda i, v, s, p: [] if i in v else [f"not one of {v}"],
    "not": lambda i, v, s, p: [] if errors(i, v, p) else ["matches a forbidden schema"],
    "anyOf": lambda i, v, s, p: [] if any(not errors(i, sub, p) for sub in v) else ["matches no alternative"],
    "dependentRequired": _dependent_required,
    "propertyNames": _property_names,
    "pattern": _string_check(lambda text, pattern: re.search(pattern, text)),
    "minLength": _string_check(lambda text, n: len(text) >= n),
    "maxLength": _string_check(lambda text, n: len(text) <= n),
}


def yaml_files(*patterns: str) -> list[Path]:
    return sorted(path for pattern in patterns for path in REPO.glob(pattern))


def test_the_packaged_and_published_schemas_are_identical():
    assert PACKAGED.read_bytes() == PUBLISHED.read_bytes()


def test_the_schema_is_draft_2020_12_and_every_reference_resolves():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
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
    assert errors(yaml.safe_load(path.read_text()), SCHEMA) == []


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
    assert errors(yaml.safe_load((BAD / name).read_text()), SCHEMA) != []


def test_the_schema_validator_here_refuses_keywords_it_does_not_implement():
    with pytest.raises(KeyError):
        errors({}, {"uniqueItems": True})
