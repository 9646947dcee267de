"""The sandbox's browser view: the html_url addresses of its API answer readable, read-only HTML pages."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import urllib.error
import urllib.request
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ccc.client import connect
from ccc.protocol.claims import ClaimStore

BODY = """Add `slug()`.

| input | output |
|---|---|
| `A b` | `a-b` |

```mermaid
graph TD
  a --> b
```

<script>alert(1)</script>
<!-- ccc:task {"id": "slug"} -->
"""


class Page(HTMLParser):
    """The parts of a page the tests look at: text, tables' cells by id, tags seen, links."""

    def __init__(self, text: str):
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.cells: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.cells[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
            self.cells[self._table].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._row:
            self._row[-1] += data.strip()

    def links(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.tags if tag == "a" and "href" in attrs]


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read().decode()


@pytest.fixture
def repo(github, sandbox):
    """PyGithub on acme/widgets, to arrange issues, comments and pull requests."""
    return github.get_repo(sandbox.repo)


@pytest.fixture
def client(sandbox):
    return connect(repo=sandbox.repo, api_url=sandbox.api_url, token=sandbox.token("maintainer"),
                   seconds_between_requests=0, seconds_between_writes=0)  # fmt: skip


def test_the_issue_list_shows_state_labels_assignee_and_claim_links(sandbox, client, repo):
    repo.create_label("cc01", "fbca04")
    first = repo.create_issue(title="Add slug", body=BODY, labels=["cc01"], assignees=["maintainer"])
    second = repo.create_issue(title="Close me", body="")
    second.edit(state="closed", state_reason="not_planned")
    ClaimStore(client).claim(first.number, worker="cc01", run_id="1", run_url="", lease=timedelta(minutes=5))

    status, kind, text = fetch(f"{sandbox.git_url}/{sandbox.repo}/issues")

    page = Page(text)
    assert status == 200 and kind.startswith("text/html")
    rows = page.cells["tasks"][1:]
    assert rows[0][:6] == [str(first.number), "Add slug", "open", "cc01", "maintainer", "0"]
    assert rows[1][:3] == [str(second.number), "Close me", "closednot_planned"]
    assert f"/{sandbox.repo}/claims/{first.number}" in page.links()
    assert first.html_url.endswith(f"/{sandbox.repo}/issues/{first.number}")
    assert f"/{sandbox.repo}/issues/{first.number}" in page.links()


def test_an_issue_renders_its_markdown_safely_without_the_hidden_markers(repo):
    issue = repo.create_issue(title="Add slug", body=BODY)
    issue.create_comment("**Done**: see #2")

    _, _, text = fetch(issue.html_url)

    page = Page(text)
    tags = [tag for tag, _ in page.tags]
    assert "table" in tags and "strong" in tags  # GFM table in the body, bold in the comment
    assert ("pre", {"class": "mermaid"}) in page.tags
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text  # raw HTML stays text
    assert "ccc:task" not in text


def test_a_pull_request_shows_its_description_comments_and_diff(sandbox, repo, tmp_path):
    clone = tmp_path / "clone"
    git = lambda *args: subprocess.run(["git", *args], cwd=clone, check=True, capture_output=True)  # noqa: E731
    subprocess.run(["git", "clone", "-q", sandbox.clone_url(), str(clone)], check=True)
    (clone / "slug.py").write_text("def slug(text):\n    return text.lower()\n")
    git("add", ".")
    git("-c", "user.name=w", "-c", "user.email=w@w", "commit", "-qm", "slug")
    git("push", "-q", "origin", "HEAD:refs/heads/ccc/1-slug")
    pull = repo.create_pull(head="ccc/1-slug", base="main", title="Add slug", body="Closes #1\n\n- [x] tests")

    _, _, text = fetch(pull.html_url)

    page = Page(text)
    assert "+def slug(text):" in page.text and "ccc/1-slug" in page.text
    assert ("span", {"class": "add"}) in page.tags
    assert "Closes #1" in "".join(page.text)


# The reviews table of the sandbox's pull request reviews (a schema another change brings), filled by hand.
REVIEWS_TABLE = """CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY, pull_id INTEGER NOT NULL, user_id INTEGER NOT NULL, state TEXT NOT NULL,
    body TEXT NOT NULL, commit_id TEXT NOT NULL, submitted_at TEXT)"""


def test_a_pull_request_shows_its_submitted_reviews(sandbox, repo):
    main = repo.get_git_commit(repo.get_branch("main").commit.sha)
    repo.create_git_ref("refs/heads/feature", repo.create_git_commit("work", main.tree, [main]).sha)
    pull = repo.create_pull(head="feature", base="main", title="Feature", body="")
    sandbox.stop()
    with sqlite3.connect(sandbox.data_dir / "sandbox.db") as db:
        db.execute(REVIEWS_TABLE)
        pull_id = db.execute("SELECT pulls.id FROM pulls").fetchone()[0]
        user_id = db.execute("SELECT id FROM users WHERE login = 'maintainer'").fetchone()[0]
        for state, body, at in [("APPROVED", "**Looks good**", "2026-01-01T00:00:00Z"), ("PENDING", "draft", None)]:
            db.execute("INSERT INTO reviews (pull_id, user_id, state, body, commit_id, submitted_at) "
                       "VALUES (?, ?, ?, ?, '', ?)", (pull_id, user_id, state, body, at))  # fmt: skip
    sandbox.restart()

    _, _, text = fetch(f"{sandbox.git_url}/{sandbox.repo}/pull/{pull.number}")

    assert "maintainer reviewed on 2026-01-01T00:00:00Z: <strong>approved</strong>" in text
    assert "<strong>Looks good</strong>" in text and "draft" not in text  # pending reviews are not shown


def test_the_claim_log_lists_each_step_newest_first(sandbox, client, repo):
    issue = repo.create_issue(title="Task", body="")
    store = ClaimStore(client)
    claim = store.claim(issue.number, worker="cc02", run_id="7", run_url="", lease=timedelta(minutes=5))
    store.release(claim, "the agent exited with status 3")

    _, _, text = fetch(f"{sandbox.git_url}/{sandbox.repo}/claims/{issue.number}")

    rows = Page(text).cells["claims"][1:]
    assert [(row[1], row[2], row[3]) for row in rows] == [("release", "cc02", "1"), ("claim", "cc02", "1")]
    assert rows[0][6] == "the agent exited with status 3"


def test_addresses_of_the_wrong_kind_redirect_and_unknown_ones_are_404(sandbox, repo):
    issue = repo.create_issue(title="Task", body="")
    request = urllib.request.Request(f"{sandbox.git_url}/{sandbox.repo}/pull/{issue.number}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.url.endswith(f"/issues/{issue.number}")
    for path in (f"/{sandbox.repo}/issues/999", "/acme/nothing/issues", f"/{sandbox.repo}/wiki"):
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(sandbox.git_url + path)
        assert error.value.code == 404


def test_mermaid_is_served_locally_when_installed(sandbox):
    from ccc.sandbox.html import MERMAID_PATH, mermaid_script

    if mermaid_script() is None:
        pytest.skip("mermaid is not installed under .cache/mermaid (make test installs it)")
    status, kind, _ = fetch(sandbox.git_url + MERMAID_PATH)
    assert status == 200 and "javascript" in kind
    assert Path(mermaid_script()).is_file()


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")  # fmt: skip
WINDOW = (1000, 700)


def chromium(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a new empty one per run
    argv = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}"]
    return subprocess.run([*argv, *flags], capture_output=True, text=True, timeout=180, check=True)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_a_real_browser_renders_the_task_table_and_draws_mermaid(sandbox, repo, tmp_path):
    assert shutil.which("chromium"), "no chromium: `make test` installs it (sudo apt-get install -y chromium)"
    repo.create_label("cc01", "fbca04")
    for title in ("Add normalize_whitespace", "Add truncate", "Add slug"):
        repo.create_issue(title=title, body="```mermaid\ngraph TD\n  clean --> slug\n```\n", labels=["cc01"])
    issues = f"{sandbox.git_url}/{sandbox.repo}/issues"

    dom = Page(chromium(tmp_path, "--dump-dom", issues).stdout)
    shot, blank = tmp_path / "issues.png", tmp_path / "blank.png"
    chromium(tmp_path, f"--screenshot={shot}", issues)
    chromium(tmp_path, f"--screenshot={blank}", "about:blank")
    drawn = chromium(tmp_path, "--dump-dom", "--virtual-time-budget=10000", f"{issues}/1").stdout

    assert [row[1] for row in dom.cells["tasks"][1:]] == ["Add normalize_whitespace", "Add truncate", "Add slug"]
    assert png_size(shot) == png_size(blank) == WINDOW
    assert shot.stat().st_size > 4 * blank.stat().st_size  # a table with text and chips, not an empty page
    from ccc.sandbox.html import mermaid_script

    if mermaid_script() is not None:
        assert "<svg" in drawn.split('class="mermaid"', 1)[1]  # mermaid turned the block into a drawing
