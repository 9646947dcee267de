"""Task manifests: YAML files in the repository, validated with file:line:column problems, as frozen tasks."""

from __future__ import annotations

from ccc.manifest.load import DEFAULT_GLOBS, load_manifests
from ccc.manifest.model import ANY_WORKER, PRIORITIES, STATES, Manifest, ManifestError, Problem, Task

__all__ = [
    "ANY_WORKER",
    "DEFAULT_GLOBS",
    "PRIORITIES",
    "STATES",
    "Manifest",
    "ManifestError",
    "Problem",
    "Task",
    "load_manifests",
]
