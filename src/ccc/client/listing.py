"""A label's open issues kept current at a cost that follows change, not size.

A `LabelView` is what the last poll knew: the ETag of the label's first page (newest update first), a
watermark (the newest `updated_at` seen) and the open issues themselves, as trimmed GitHub JSON so the
view can be saved between runs. A poll asks for the first page with `If-None-Match`:
- 304: nothing under the label changed; GitHub does not charge it;
- 200 holding the whole label (one page): that page is the new view, 1 request;
- 200 with more pages: the issues updated since the watermark (all states, all labels, so closed and
  relabelled issues leave the view) are merged in: 2 requests while fewer than 100 issues changed.
Without a view (first run, cache missing or corrupt) the label is listed in full; also when the view's
last full listing is over an hour old (a change seen late by a lagging listing is not kept out for long),
and when the changes would take more pages than the label itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ccc.client.models import Issue, parse_time

# Listings may lag behind writes by a little: an update made just before a poll may show up only after it.
# So the next poll re-reads from this far before the previous one (when that is before the watermark).
WATERMARK_SLACK = timedelta(seconds=5)
FULL_LISTING_EVERY = 3600.0  # seconds; only ever spent when the label changed
VERSION = 1

# What `Issue.from_json` reads: a cached issue keeps only these fields.
_KEPT = (
    "number", "id", "node_id", "title", "body", "state", "state_reason", "author_association",
    "created_at", "updated_at", "closed_at", "html_url", "comments", "pull_request", "sub_issues_summary",
)  # fmt: skip


def trim(data: dict[str, Any]) -> dict[str, Any]:
    kept = {key: data[key] for key in _KEPT if key in data}
    kept["labels"] = [{"name": label["name"]} for label in data.get("labels") or ()]
    kept["assignees"] = [{"login": a["login"]} for a in data.get("assignees") or ()]
    user = data.get("user") or {}
    kept["user"] = {"login": user.get("login", ""), "type": user.get("type", "User")}
    return kept


@dataclass(frozen=True)
class LabelView:
    label: str
    etag: str | None
    watermark: str | None  # ISO time of the newest update seen
    raw: dict[int, dict[str, Any]] = field(default_factory=dict)  # issue number → trimmed JSON
    listed_at: float = 0.0  # epoch seconds of the last full listing
    polled_at: float = 0.0  # epoch seconds of the last poll that read issues (a 304 reads none)

    @classmethod
    def listed(cls, label: str, etag: str | None, items: list[dict], *, at: float = 0.0) -> LabelView:
        """A view from a full listing of the label's open issues."""
        return cls(label, etag, None, {}, at).merged(items, etag, at=at)

    def wants_full_listing(self, now: float) -> bool:
        return self.watermark is None or now - self.listed_at > FULL_LISTING_EVERY

    def issues(self) -> tuple[Issue, ...]:
        return tuple(Issue.from_json(data) for data in self.raw.values())

    def since(self, slack: timedelta = WATERMARK_SLACK) -> datetime | None:
        """Where the next incremental listing starts (None: list in full): the watermark, or earlier when
        the last poll came so soon after it that a lagging update may not have shown yet."""
        moment = parse_time(self.watermark)
        if moment is None:
            return None
        return min(moment, datetime.fromtimestamp(self.polled_at, tz=timezone.utc) - slack)

    def merged(self, changed: list[dict], etag: str | None, *, at: float) -> LabelView:
        """This view with changed issues applied: open ones carrying the label in, everything else out."""
        raw = dict(self.raw)
        watermark = self.watermark
        for data in changed:
            belongs = data.get("state") == "open" and "pull_request" not in data
            belongs = belongs and any(label.get("name") == self.label for label in data.get("labels") or ())
            if belongs:
                raw[data["number"]] = trim(data)
            else:
                raw.pop(data["number"], None)
            if watermark is None or parse_time(data["updated_at"]) > parse_time(watermark):
                watermark = data["updated_at"]
        return LabelView(self.label, etag, watermark, raw, self.listed_at, at)

    def to_json(self) -> dict:
        fields = {"label": self.label, "etag": self.etag, "watermark": self.watermark}
        times = {"listed_at": self.listed_at, "polled_at": self.polled_at}
        return {"version": VERSION, **fields, **times, "issues": list(self.raw.values())}

    @classmethod
    def from_json(cls, data: dict) -> LabelView:
        """Raises KeyError/TypeError/ValueError on anything that is not a view this version wrote."""
        if data["version"] != VERSION:
            raise ValueError(f"cache version {data['version']}, expected {VERSION}")
        raw = {int(item["number"]): item for item in data["issues"]}
        for item in raw.values():
            Issue.from_json(item)  # every cached issue must still parse
        listed_at, polled_at = float(data["listed_at"]), float(data["polled_at"])
        return cls(str(data["label"]), data["etag"], data["watermark"], raw, listed_at, polled_at)
