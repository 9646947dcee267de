"""The worker's listing views saved on the runner's disk, so an idle scheduled poll after the first is a free 304.

One JSON file per API, repository and label under the cache directory (`--cache-dir`; by default the
runner's tool cache, which self-hosted runners keep between jobs). The cache only ever saves requests:
a missing, unreadable or corrupt file means a full listing, and a stale one is brought up to date by
the next poll (its ETag no longer matches, and the changes since its watermark are merged in).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from ccc.client.listing import LabelView

log = logging.getLogger(__name__)


def cache_dir_default(env: Mapping[str, str]) -> Path:
    """$RUNNER_TOOL_CACHE/ccc (kept by self-hosted runners), else $XDG_CACHE_HOME or ~/.cache, then ccc."""
    if env.get("RUNNER_TOOL_CACHE"):
        return Path(env["RUNNER_TOOL_CACHE"]) / "ccc" / "listings"
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ccc" / "listings"


class ListingCache:
    def __init__(self, directory: Path, *, api_url: str, repo: str):
        self.directory = directory
        self._scope = f"{api_url.rstrip('/')} {repo}"

    def path(self, label: str) -> Path:
        key = hashlib.sha256(f"{self._scope} {label}".encode()).hexdigest()[:24]
        return self.directory / f"{key}.json"

    def load(self, label: str) -> LabelView | None:
        path = self.path(label)
        try:
            view = LabelView.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("listing cache %s is unreadable (%s): listing label %s in full", path, exc, label)
            return None
        return view if view.label == label else None

    def save(self, view: LabelView) -> None:
        """Write beside the file, then rename: a reader (another worker on this runner) never sees half."""
        path = self.path(view.label)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(view.to_json()), encoding="utf-8")
            partial.replace(path)
        except OSError as exc:
            log.warning("cannot save the listing cache %s (%s): the next run lists in full", path, exc)
