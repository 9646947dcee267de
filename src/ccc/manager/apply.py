"""Writing one IssueEdit to GitHub (paced), and our local view of the issue after it."""

from __future__ import annotations

from dataclasses import replace

from ccc.client import Issue, RepoClient
from ccc.manager.pacing import Pacer
from ccc.manager.plan import IssueEdit


def write_edit(client: RepoClient, pacer: Pacer, number: int, edit: IssueEdit) -> None:
    """One PATCH for the fields, then label deltas (so labels set meanwhile by workers survive), then assignees."""
    if any(v is not None for v in (edit.title, edit.body, edit.state, edit.state_reason)):
        pacer.wait()
        client.update_issue(number, title=edit.title, body=edit.body, state=edit.state, state_reason=edit.state_reason)
    if edit.add_labels:
        pacer.wait()
        client.add_labels(number, edit.add_labels)
    for name in edit.remove_labels:
        pacer.wait()
        client.remove_label(number, name)
    if edit.assignees:
        pacer.wait()
        client.add_assignees(number, edit.assignees)


def edited(issue: Issue, edit: IssueEdit) -> Issue:
    """The issue as it is after `edit` (our local view; the next listing is the truth)."""
    labels = [name for name in issue.labels if name not in edit.remove_labels]
    labels += [name for name in edit.add_labels if name not in labels]
    return replace(
        issue,
        title=edit.title if edit.title is not None else issue.title,
        body=edit.body if edit.body is not None else issue.body,
        state=edit.state or issue.state,
        state_reason=edit.state_reason if edit.state else issue.state_reason,
        labels=tuple(labels),
        assignees=tuple(dict.fromkeys((*issue.assignees, *edit.assignees))),
    )
