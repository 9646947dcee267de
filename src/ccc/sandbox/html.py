"""The sandbox's browser view: read-only HTML at the `html_url` addresses its API hands out.

GitHub is ccc's UI, so the local GitHub has one too: the issue list (state, labels, assignee, claim),
an issue with its body and comments rendered from Markdown (mermaid blocks drawn when mermaid is
installed locally), a pull request with its description, comments and diff, and each task's claim log
(the commit chain of `refs/ccc/claims/<issue>`). No token is asked: the sandbox listens on loopback.
Pages come from jinja2 templates with autoescaping; Markdown is rendered with raw HTML disabled.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from ccc.sandbox.api_issues import issue_assignees, issue_labels
from ccc.sandbox.routing import Response

HTML_TYPE = "text/html; charset=utf-8"
CLAIMS_NAMESPACE = "refs/ccc/claims"  # ccc's default; the sandbox knows nothing of settings
MERMAID_PATH = "/-/mermaid.min.js"
_PAGE = re.compile(
    r"^/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)(?:/(?P<kind>issues|pull|pulls|claims)(?:/(?P<number>\d+))?)?/?$"
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)  # GitHub hides HTML comments (ccc's markers) in rendered bodies


def page(store, path: str) -> Response | None:
    """The HTML answer for a browser address, or None when `path` is not one of the view's pages."""
    if path == MERMAID_PATH:
        script = mermaid_script()
        return Response(200, script.read_bytes(), {"Content-Type": "text/javascript"}) if script else None
    match = _PAGE.match(path)
    repo = match and store.repo(match["owner"], match["name"])
    if not repo:
        return None
    kind, number = match["kind"], match["number"]
    if number is None:
        return _html(issue_list(store, repo, pulls=kind in ("pull", "pulls")))
    issue = store.row("SELECT * FROM issues WHERE repo_id = ? AND number = ?", repo.id, int(number))
    if issue is None:
        return None
    if kind == "claims":
        return _html(claim_log(repo, issue))
    if bool(issue["is_pull"]) != (kind == "pull"):  # GitHub redirects between /issues/N and /pull/N
        where = "pull" if issue["is_pull"] else "issues"
        return Response(302, b"", {"Location": f"/{repo.full_name}/{where}/{number}"})
    return _html(pull_page(store, repo, issue) if issue["is_pull"] else issue_page(store, repo, issue))


def _html(text: str) -> Response:
    return Response(200, text.encode(), {"Content-Type": HTML_TYPE})


# -- pages -----------------------------------------------------------------------------------------


def issue_list(store, repo, *, pulls: bool) -> str:
    rows = store.rows(
        "SELECT * FROM issues WHERE repo_id = ? AND is_pull = ? ORDER BY number", repo.id, 1 if pulls else 0
    )
    refs = repo.git.list_refs(CLAIMS_NAMESPACE + "/")
    claimed = {int(name.rsplit("/", 1)[1]) for name, _ in refs if name.rsplit("/", 1)[1].isdigit()}
    issues = [_summary(store, repo, row, claimed=row["number"] in claimed) for row in rows]
    return render("sandbox_issue_list.html.j2", repo=repo.full_name, issues=issues, pulls=pulls)


def issue_page(store, repo, issue) -> str:
    has_claim = repo.git.resolve(f"{CLAIMS_NAMESPACE}/{issue['number']}") is not None
    return render(
        "sandbox_issue.html.j2",
        repo=repo.full_name,
        issue=_summary(store, repo, issue, claimed=has_claim),
        body=markdown(issue["body"]),
        comments=_comments(store, issue),
    )


def pull_page(store, repo, issue) -> str:
    pull = store.row("SELECT * FROM pulls WHERE issue_id = ?", issue["id"])
    head = repo.git.resolve(f"refs/heads/{pull['head_ref']}") or pull["head_sha"]
    diff = repo.git.run("diff", f"{pull['base_sha']}...{head}", check=False).stdout.decode(errors="replace")
    return render(
        "sandbox_pull.html.j2",
        repo=repo.full_name,
        issue=_summary(store, repo, issue, claimed=False),
        pull=pull,
        body=markdown(issue["body"]),
        comments=_comments(store, issue),
        reviews=_reviews(store, pull),
        diff=[(_diff_class(line), line) for line in diff.splitlines()],
    )


def claim_log(repo, issue) -> str:
    """The claim commits of the task, newest first, each with its record's fields."""
    ref = f"{CLAIMS_NAMESPACE}/{issue['number']}"
    done = repo.git.run("log", "--format=%H%x00%B%x1e", ref, "--", check=False)
    entries = []
    for chunk in done.stdout.decode(errors="replace").split("\x1e"):
        sha, _, message = chunk.strip().partition("\x00")
        if sha:
            entries.append({"sha": sha[:12], "subject": message.partition("\n")[0], **_record(message)})
    return render(
        "sandbox_claims.html.j2", repo=repo.full_name, number=issue["number"], title=issue["title"], entries=entries
    )


# -- pieces ----------------------------------------------------------------------------------------


def _summary(store, repo, row, *, claimed: bool) -> dict:
    kind = "pull" if row["is_pull"] else "issues"
    return {
        "number": row["number"],
        "title": row["title"],
        "state": row["state"],
        "state_reason": row["state_reason"],
        "url": f"/{repo.full_name}/{kind}/{row['number']}",
        "labels": [_label(label["name"], label["color"]) for label in issue_labels(store, row["id"])],
        "assignees": [user.login for user in issue_assignees(store, row["id"])],
        "author": store.user_by_id(row["user_id"]).login,
        "comments": row["comments"],
        "created_at": row["created_at"],
        "claims_url": f"/{repo.full_name}/claims/{row['number']}" if claimed else None,
    }


def _label(name: str, color: str) -> dict:
    """A label chip's colours: its own background, and dark or light text, whichever reads on it (as GitHub)."""
    try:
        red, green, blue = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        red = green = blue = 255
    light = 0.299 * red + 0.587 * green + 0.114 * blue > 150
    return {"name": name, "color": color, "text": "#1f2328" if light else "#ffffff"}


def _comments(store, issue) -> list[dict]:
    rows = store.rows("SELECT * FROM comments WHERE issue_id = ? ORDER BY id", issue["id"])
    return [
        {
            "id": row["id"],
            "author": store.user_by_id(row["user_id"]).login,
            "at": row["created_at"],
            "body": markdown(row["body"]),
        }
        for row in rows
    ]


def _reviews(store, pull) -> list[dict]:
    """Submitted reviews, where the sandbox keeps them (its `reviews` table; none in older data)."""
    if store.row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'reviews'") is None:
        return []
    rows = store.rows("SELECT * FROM reviews WHERE pull_id = ? AND submitted_at IS NOT NULL ORDER BY id", pull["id"])
    return [
        {
            "author": store.user_by_id(row["user_id"]).login,
            "state": row["state"].lower().replace("_", " "),
            "at": row["submitted_at"],
            "body": markdown(row["body"]),
        }
        for row in rows
    ]


def _record(message: str) -> dict:
    start = message.find("{")
    try:
        data = json.loads(message[start:]) if start >= 0 else {}
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---", "diff ", "index ")):
        return "meta"
    return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")


# -- rendering -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # commonmark with raw HTML off (bodies are untrusted), plus GitHub's tables and strikethrough.
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    default_fence = md.renderer.rules["fence"]

    def fence(tokens, idx, options, env):
        token = tokens[idx]
        if token.info.strip() == "mermaid":
            return f'<pre class="mermaid">{escape(token.content)}</pre>\n'
        return default_fence(tokens, idx, options, env)

    md.renderer.rules["fence"] = fence
    return md


def markdown(text: str | None) -> Markup:
    return Markup(_markdown().render(_COMMENT.sub("", text or "")))  # noqa: S704 - markdown-it escapes, html is off


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(loader=PackageLoader("ccc", "templates"), autoescape=select_autoescape(["j2"]))
    env.globals.update(mermaid_url=MERMAID_PATH if mermaid_script() else None)
    return env


def render(template: str, **variables) -> str:
    return _templates().get_template(template).render(**variables)


@lru_cache(maxsize=1)
def mermaid_script() -> Path | None:
    """mermaid's browser bundle, served locally (nothing is fetched from the internet): CCC_MERMAID_DIR, else
    the checkout's .cache/mermaid; None when neither has it (mermaid blocks then stay source)."""
    roots = [os.environ.get("CCC_MERMAID_DIR"), Path(__file__).resolve().parents[3] / ".cache" / "mermaid"]
    for root in filter(None, roots):
        script = Path(root) / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
        if script.is_file():
            return script
    return None
