"""Pull request reviews and review comments, as GitHub's REST API documents them.

- Create a review (APPROVE, REQUEST_CHANGES, COMMENT; no event = PENDING; `comments` with path, line,
  side; "body ... Required when using REQUEST_CHANGES or COMMENT"), list, get, submit:
  https://docs.github.com/en/rest/pulls/reviews
- Review comments (path, line, side, diff_hunk, position, commit_id):
  https://docs.github.com/en/rest/pulls/comments#list-review-comments-on-a-pull-request
- GitHub's 422s for these endpoints ("Can not approve your own pull request", "User can only have one
  pending review per pull request", "Pull request review thread line must be part of the diff") are
  {"message": "Unprocessable Entity", "errors": [text]}, as recorded in
  https://github.com/hubtty/hubtty/issues/33 and https://github.com/parkerbxyz/suggest-changes/issues/28
"""

from __future__ import annotations

import pytest

from conftest import api_call, github_client, github_schema
from sandbox_git import Clone

FILE = "".join(f"line {n}\n" for n in range(1, 21))
CHANGED = FILE.replace("line 10\n", "line ten\n")


@pytest.fixture
def pull(github, sandbox, tmp_path):
    """Pull #1 by the maintainer, changing line 10 of a 20-line file that main already has."""
    clone = Clone(sandbox, tmp_path / "work")
    clone.branch("main", {"notes.txt": FILE})
    clone.branch("feature", {"notes.txt": CHANGED})
    return github.get_repo("acme/widgets").create_pull(title="Edit notes", body="", head="feature", base="main")


def as_user(sandbox, login: str):
    return github_client(sandbox, login).get_repo("acme/widgets").get_pull(1)


def reviews_path(suffix: str = "") -> str:
    return "/repos/acme/widgets/pulls/1/reviews" + suffix


def test_an_approval_by_another_user_is_listed_and_read_back(sandbox, pull):
    # Set up as ccc asks (the realistic sandbox, like GitHub, starts with Actions' pull requests off).
    allow = {"can_approve_pull_request_reviews": True}
    api_call(sandbox, "PUT", "/repos/acme/widgets/actions/permissions/workflow", body=allow)
    review = as_user(sandbox, "github-actions[bot]").create_review(body="looks right", event="APPROVE")

    assert (review.state, review.body, review.user.login, review.commit_id) == (
        "APPROVED",
        "looks right",
        "github-actions[bot]",
        pull.head.sha,
    )
    assert review.submitted_at is not None
    github_schema("PullRequestReview").model_validate(review.raw_data)
    assert [r.id for r in pull.get_reviews()] == [review.id]
    assert pull.get_review(review.id).state == "APPROVED"


def test_the_author_cannot_approve_or_request_changes_but_may_comment(sandbox, pull):
    for event, message in (
        ("APPROVE", "Can not approve your own pull request"),
        ("REQUEST_CHANGES", "Can not request changes on your own pull request"),
    ):
        answer = api_call(sandbox, "POST", reviews_path(), body={"event": event, "body": "mine"})
        assert (answer.status, answer.body["message"], answer.body["errors"]) == (
            422,
            "Unprocessable Entity",
            [message],
        )
    assert pull.create_review(body="a note to myself", event="COMMENT").state == "COMMENTED"


def test_request_changes_and_comment_need_a_body(sandbox, pull):
    for event in ("REQUEST_CHANGES", "COMMENT"):
        answer = api_call(sandbox, "POST", reviews_path(), login="github-actions[bot]", body={"event": event})
        assert answer.status == 422
    unknown = api_call(sandbox, "POST", reviews_path(), login="github-actions[bot]", body={"event": "LGTM"})
    assert unknown.status == 422
    assert pull.get_reviews().totalCount == 0


def test_line_comments_carry_the_diff_hunk_down_to_their_line(sandbox, pull):
    comments = [{"path": "notes.txt", "line": 10, "side": "RIGHT", "body": "why ten?"}]
    review = as_user(sandbox, "outside-reader").create_review(body="", event="COMMENT", comments=comments)

    [listed] = pull.get_review_comments()
    assert (listed.path, listed.line, listed.side, listed.body, listed.commit_id) == (
        "notes.txt",
        10,
        "RIGHT",
        "why ten?",
        pull.head.sha,
    )
    assert listed.diff_hunk == "@@ -7,7 +7,7 @@ line 6\n line 7\n line 8\n line 9\n-line 10\n+line ten"
    assert (listed.position, listed.pull_request_review_id, listed.user.login) == (5, review.id, "outside-reader")
    github_schema("PullRequestReviewComment").model_validate(listed.raw_data)
    [of_review] = pull.get_single_review_comments(review.id)
    github_schema("ReviewComment").model_validate(of_review.raw_data)
    assert api_call(sandbox, "GET", "/repos/acme/widgets/pulls/1").body["review_comments"] == 1


def test_a_comment_outside_the_diff_is_refused_and_nothing_is_saved(sandbox, pull):
    for comment in (
        {"path": "notes.txt", "line": 2, "body": "context too far away"},
        {"path": "notes.txt", "line": 10, "side": "LEFT", "body": "the old line 10 is on the left"},
        {"path": "README.md", "line": 1, "body": "not changed by this pull"},
    ):
        body = {"event": "COMMENT", "body": "x", "comments": [comment]}
        answer = api_call(sandbox, "POST", reviews_path(), login="github-actions[bot]", body=body)
        if comment["line"] == 10:
            assert answer.status == 200  # the removed line 10 is part of the diff on the LEFT side
            continue
        assert (answer.status, answer.body["errors"]) == (
            422,
            ["Pull request review thread line must be part of the diff"],
        )
    assert [c.side for c in pull.get_review_comments()] == ["LEFT"]


def test_a_pending_review_is_seen_only_by_its_author_until_it_is_submitted(sandbox, pull):
    comments = [{"path": "notes.txt", "line": 10, "body": "draft thought"}]
    reviewer = as_user(sandbox, "github-actions[bot]")
    pending = reviewer.create_review(body="", comments=comments)
    assert pending.state == "PENDING" and "submitted_at" not in pending.raw_data

    again = api_call(sandbox, "POST", reviews_path(), login="github-actions[bot]", body={})
    assert (again.status, again.body["errors"]) == (422, ["User can only have one pending review per pull request"])
    assert [r.state for r in reviewer.get_reviews()] == ["PENDING"]
    assert pull.get_reviews().totalCount == 0  # others do not see it
    assert api_call(sandbox, "GET", reviews_path(f"/{pending.id}")).status == 404
    assert pull.get_review_comments().totalCount == 0

    submitted = api_call(
        sandbox, "POST", reviews_path(f"/{pending.id}/events"), login="github-actions[bot]", body={"event": "COMMENT"}
    )
    assert (submitted.status, submitted.body["state"]) == (200, "COMMENTED")
    assert [c.body for c in pull.get_review_comments()] == ["draft thought"]


def test_the_actions_token_may_not_approve_when_the_repository_forbids_it(sandbox, pull):
    """https://docs.github.com/en/rest/actions/permissions#set-default-workflow-permissions-for-a-repository"""
    setting = {"can_approve_pull_request_reviews": False}
    assert api_call(sandbox, "PUT", "/repos/acme/widgets/actions/permissions/workflow", body=setting).status == 204
    body = {"event": "APPROVE", "body": "ok"}
    answer = api_call(sandbox, "POST", reviews_path(), login="github-actions[bot]", body=body)
    assert (answer.status, answer.body["message"]) == (
        403,
        "GitHub Actions is not permitted to create or approve pull requests.",
    )
    assert api_call(sandbox, "POST", reviews_path(), login="outside-reader", body=body).status == 200
