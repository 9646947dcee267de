"""Repository labels through PyGithub: CRUD, validation, GitHub's default labels, names with slashes."""

from __future__ import annotations

import pytest
from github import GithubException

from conftest import api_call, github_schema

DEFAULT_LABELS = [
    "bug",
    "documentation",
    "duplicate",
    "enhancement",
    "good first issue",
    "help wanted",
    "invalid",
    "question",
    "wontfix",
]


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


def test_new_repository_has_githubs_default_labels(repo):
    labels = list(repo.get_labels())
    assert [label.name for label in labels] == DEFAULT_LABELS
    assert all(label.raw_data["default"] for label in labels)
    github_schema("Label").model_validate(labels[0].raw_data)


def test_label_is_created_read_updated_and_deleted(repo):
    created = repo.create_label("ccc/queued", "00FF00", "waiting for a worker")
    assert (created.name, created.color, created.description) == ("ccc/queued", "00ff00", "waiting for a worker")
    github_schema("Label").model_validate(created.raw_data)
    assert repo.get_label("CCC/Queued").name == "ccc/queued"  # names compare case-insensitively
    created.edit("ccc/ready", "0000ff", "ready")
    assert repo.get_label("ccc/ready").color == "0000ff"
    repo.get_label("ccc/ready").delete()
    with pytest.raises(GithubException) as caught:
        repo.get_label("ccc/ready")
    assert caught.value.status == 404


@pytest.mark.parametrize("color", ["red", "12345", "gggggg", "1234567"])
def test_label_color_must_be_six_hex_digits(repo, color):
    with pytest.raises(GithubException) as caught:
        repo.create_label("paint", color)
    assert caught.value.status == 422
    assert caught.value.data["errors"] == [{"resource": "Label", "field": "color", "code": "invalid"}]


def test_label_name_longer_than_50_characters_is_refused(repo):
    with pytest.raises(GithubException) as caught:
        repo.create_label("x" * 51, "ffffff")
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["field"] == "name"
    assert repo.create_label("x" * 50, "ffffff").name == "x" * 50


def test_duplicate_label_name_is_already_exists(repo):
    with pytest.raises(GithubException) as caught:
        repo.create_label("BUG", "ffffff")
    assert caught.value.status == 422
    assert caught.value.data["errors"] == [{"resource": "Label", "field": "name", "code": "already_exists"}]


def test_label_list_paginates(sandbox, repo):
    for n in range(3):
        repo.create_label(f"extra-{n}", "ffffff")
    first = api_call(sandbox, "GET", "/repos/acme/widgets/labels?per_page=5")
    assert len(first.body) == 5
    assert 'rel="next"' in first.headers["link"] and "page=3" in first.headers["link"]
    assert len(list(repo.get_labels())) == 12


def test_deleting_a_label_removes_it_from_issues(repo):
    issue = repo.create_issue("labelled", labels=["bug", "question"])
    repo.get_label("bug").delete()
    assert [label.name for label in repo.get_issue(issue.number).labels] == ["question"]


def test_description_over_100_characters_is_refused(sandbox):
    """GitHub caps label descriptions at 100 characters
    (https://docs.github.com/en/rest/issues/labels#create-a-label: "A short description of the label.
    Must be 100 characters or fewer.")."""
    too_long = {"name": "long", "color": "ededed", "description": "d" * 101}
    answer = api_call(sandbox, "POST", "/repos/acme/widgets/labels", body=too_long)
    assert answer.status == 422
    assert answer.body["errors"][0]["message"] == "description is too long (maximum is 100 characters)"
    fits = {"name": "fits", "color": "ededed", "description": "d" * 100}
    assert api_call(sandbox, "POST", "/repos/acme/widgets/labels", body=fits).status == 201
