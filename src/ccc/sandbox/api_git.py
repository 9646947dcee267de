"""Git data endpoints of the sandbox (commits, refs, branches), backed by the real bare repository.

Every ref write is a compare-and-set on the repository, so a lost race answers 422 as GitHub
does, never a silent overwrite.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from ccc.sandbox import webhooks
from ccc.sandbox.gitrepo import EMPTY_TREE, GitRepo, now_iso, to_git_date
from ccc.sandbox.routing import ApiError, Request, Response, route

# Refs GitHub keeps for itself (pull request heads and merges): never created through the API.
RESERVED_REF_PREFIX = "refs/pull/"

# GitHub's docs state the rule ("start with 'refs' and have at least two slashes"); this is the
# message its API answers with (seen in octokit/octokit.rb#675).
REF_NAME_RULE = "Reference name must contain at least three slash-separated components."
UNSIGNED = {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


# --- JSON shapes ------------------------------------------------------------------------------


def _api(req: Request) -> str:
    return f"{req.base_url}/repos/{req.repo.full_name}"


def _html(req: Request) -> str:
    return f"{req.base_url.removesuffix('/api/v3')}/{req.repo.full_name}"


def _node_id(kind: str, req: Request, key: str) -> str:
    """GitHub's legacy global id shape: base64 of `<type number>:<Type><repo id>:<key>`."""
    return base64.b64encode(f"{kind}{req.repo.id}:{key}".encode()).decode()


def git_commit_json(req: Request, commit: dict) -> dict:
    """GitHub's "Git Commit" object."""
    api, html = _api(req), _html(req)
    return {
        "sha": commit["sha"],
        "node_id": _node_id("06:Commit", req, commit["sha"]),
        "url": f"{api}/git/commits/{commit['sha']}",
        "html_url": f"{html}/commit/{commit['sha']}",
        "author": commit["author"],
        "committer": commit["committer"],
        "message": commit["message"],
        "tree": {"sha": commit["tree"], "url": f"{api}/git/trees/{commit['tree']}"},
        "parents": [
            {"sha": sha, "url": f"{api}/git/commits/{sha}", "html_url": f"{html}/commit/{sha}"}
            for sha in commit["parents"]
        ],
        "verification": dict(UNSIGNED),
    }


def ref_json(req: Request, name: str, sha: str, kind: str) -> dict:
    """GitHub's "Git Reference" object; `kind` is the type of the object it points at."""
    api = _api(req)
    return {
        "ref": name,
        "node_id": _node_id("03:Ref", req, name),
        "url": f"{api}/git/{quote(name, safe='/')}",
        "object": {"sha": sha, "type": kind, "url": f"{api}/git/{kind}s/{sha}"},
    }


def commit_json(req: Request, commit: dict) -> dict:
    """GitHub's "Commit" object (as in a branch), without stats and files."""
    api, html, sha = _api(req), _html(req), commit["sha"]
    return {
        "sha": sha,
        "node_id": _node_id("06:Commit", req, sha),
        "url": f"{api}/commits/{sha}",
        "html_url": f"{html}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "commit": {
            "author": commit["author"],
            "committer": commit["committer"],
            "message": commit["message"],
            "tree": {"sha": commit["tree"], "url": f"{api}/git/trees/{commit['tree']}"},
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": dict(UNSIGNED),
        },
        # Commit emails are not linked to sandbox accounts, as on GitHub for unknown emails.
        "author": None,
        "committer": None,
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{html}/commit/{p}"} for p in commit["parents"]
        ],
    }


def branch_json(req: Request, name: str, commit: dict) -> dict:
    """GitHub's "Branch With Protection" object for an unprotected branch."""
    api = _api(req)
    return {
        "name": name,
        "commit": commit_json(req, commit),
        "_links": {
            "self": f"{api}/branches/{quote(name, safe='/')}",
            "html": f"{_html(req)}/tree/{quote(name, safe='/')}",
        },
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/branches/{quote(name, safe='/')}/protection",
    }


# --- request bodies ---------------------------------------------------------------------------


def _invalid_request(detail: str) -> ApiError:
    """GitHub's 422 for a body that does not match the endpoint's schema."""
    return ApiError(422, f"Invalid request.\n\n{detail}")


def _required_str(body: dict, name: str) -> str:
    if name not in body:
        raise _invalid_request(f'"{name}" wasn\'t supplied.')
    value = body[name]
    if not isinstance(value, str):
        raise _invalid_request(f"For 'properties/{name}', {value!r} is not a string.")
    return value


def _person(body: dict, name: str, default: dict) -> dict:
    """An author/committer {name, email, date}; the date defaults to now."""
    given = body.get(name)
    if given is None:
        return default
    if not isinstance(given, dict):
        raise _invalid_request(f"For 'properties/{name}', {given!r} is not an object.")
    person = {
        "name": _required_str(given, "name"),
        "email": _required_str(given, "email"),
        "date": given.get("date") or now_iso(),
    }
    try:
        to_git_date(person["date"])
    except (TypeError, ValueError, AttributeError):
        raise _invalid_request(f"For 'properties/{name}/date', {person['date']!r} is not a date-time.") from None
    return person


def _authenticated_person(req: Request) -> dict:
    """The token's user as a git identity, with the noreply address GitHub uses."""
    login, user_id = req.user.login, req.user.id
    return {"name": login, "email": f"{user_id}+{login}@users.noreply.github.com", "date": now_iso()}


def _full_ref(ref: str) -> str:
    """URL refs are given without `refs/` (heads/main); stored ones are full names."""
    return f"refs/{ref}"


# --- commits ----------------------------------------------------------------------------------


@route("POST", "/repos/{owner}/{repo}/git/commits", permission="write", status=201)
def create_commit(req: Request, owner: str, repo: str) -> dict:
    body = req.json()
    git: GitRepo = req.repo.git
    message, tree = _required_str(body, "message"), _required_str(body, "tree")
    parents = body.get("parents", [])
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise _invalid_request("For 'properties/parents', the value is not an array of strings.")
    author = _person(body, "author", _authenticated_person(req))
    committer = _person(body, "committer", author)
    types = git.object_types([tree, *parents])  # one git call checks them all
    # git knows the empty tree without storing it; GitHub may not (the `empty_tree_unknown` fault).
    empty_tree_unknown = tree == EMPTY_TREE and "empty_tree_unknown" in req.context.get("faults", ())
    if types.get(tree) != "tree" or empty_tree_unknown:
        raise ApiError(422, "Tree SHA does not exist")
    if any(types.get(parent) != "commit" for parent in parents):
        raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    sha = git.create_commit(tree, parents, message, author, committer)
    return git_commit_json(req, git.commit(sha))


@route("POST", "/repos/{owner}/{repo}/git/trees", permission="write", status=201)
def create_tree(req: Request, owner: str, repo: str) -> dict:
    """A tree from entries with inline `content` (https://docs.github.com/en/rest/git/trees#create-a-tree).

    The sandbox keeps to flat trees of regular files, all ccc writes; `base_tree` and `sha` entries
    are refused rather than half-modelled.
    """
    body = req.json()
    entries = body.get("tree")
    if not isinstance(entries, list) or "base_tree" in body:
        raise _invalid_request("For 'properties/tree', the sandbox takes a list of entries and no base_tree.")
    files = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("mode", "100644") != "100644" or "/" in entry.get("path", "/"):
            raise _invalid_request("The sandbox takes flat entries of mode 100644 with inline content.")
        files[_required_str(entry, "path")] = _required_str(entry, "content")
    sha = req.repo.git.create_tree(files)
    api = _api(req)
    return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": [], "truncated": False}


@route("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}")
def get_commit(req: Request, owner: str, repo: str, commit_sha: str) -> dict:
    commit = req.repo.git.commit(commit_sha)
    if commit is None:
        raise ApiError(404, "Not Found")
    return git_commit_json(req, commit)


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}")
def get_repo_commit(req: Request, owner: str, repo: str, ref: str) -> dict:
    """The "Commit" object (where a branch's `commit.url` points) for a sha, branch or tag name."""
    git: GitRepo = req.repo.git
    candidates = (ref, f"refs/heads/{ref}", f"refs/tags/{ref}")
    sha = next((found for found in map(git.resolve, candidates) if found), None)
    commit = git.commit(sha) if sha else None
    if commit is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return commit_json(req, commit)


# --- refs -------------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(req: Request, owner: str, repo: str, ref: str) -> dict:
    git: GitRepo = req.repo.git
    name = _full_ref(ref)
    target = git.ref_target(name)
    if target is None:
        raise ApiError(404, "Not Found")
    return ref_json(req, name, *target)


@route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref:path}")
def matching_refs(req: Request, owner: str, repo: str, ref: str) -> list:
    git: GitRepo = req.repo.git
    refs = git.list_refs(_full_ref(ref))
    kinds = git.object_types([sha for _, sha in refs])
    return [ref_json(req, name, sha, kinds[sha]) for name, sha in refs]


@route("GET", "/repos/{owner}/{repo}/git/refs/{ref:path}")
def get_ref_legacy(req: Request, owner: str, repo: str, ref: str) -> dict | list:
    """The older read at a ref's own `url` (PyGithub completes lazy refs there): the ref when the
    name is exact, else the refs it prefixes, as GitHub still answers."""
    git: GitRepo = req.repo.git
    if git.resolve(_full_ref(ref)):
        return get_ref(req, owner, repo, ref)
    found = matching_refs(req, owner, repo, ref)
    if not found:
        raise ApiError(404, "Not Found")
    return found


@route("POST", "/repos/{owner}/{repo}/git/refs", permission="write", status=201)
def create_ref(req: Request, owner: str, repo: str) -> dict:
    body = req.json()
    git: GitRepo = req.repo.git
    name, sha = _required_str(body, "ref"), _required_str(body, "sha")
    if not name.startswith("refs/") or name.count("/") < 2:
        raise ApiError(422, REF_NAME_RULE)
    if name.startswith(RESERVED_REF_PREFIX):
        raise ApiError(422, "Reference update failed")
    kind = git.object_type(sha)
    if kind is None:
        raise ApiError(422, "Object does not exist")
    if not git.create_ref(name, sha):
        raise ApiError(422, _why_create_failed(git, name))
    webhooks.ref_changed(req, name, None, sha)
    return ref_json(req, name, sha, kind)


def _why_create_failed(git: GitRepo, name: str) -> str:
    """Only asked after a failed create, so the common path costs no extra git calls."""
    if git.resolve(name):
        return "Reference already exists"
    if not git.is_valid_ref_name(name):
        return f"{name} is not a valid ref name."
    return "Reference update failed"  # clashes with an existing ref path (refs/a vs refs/a/b)


@route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref:path}", permission="write")
def update_ref(req: Request, owner: str, repo: str, ref: str) -> dict:
    body = req.json()
    git: GitRepo = req.repo.git
    name, sha = _full_ref(ref), _required_str(body, "sha")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise _invalid_request(f"For 'properties/force', {force!r} is not a boolean.")
    kind = git.object_type(sha)
    if kind is None:
        raise ApiError(422, "Object does not exist")
    current = git.resolve(name)
    if current is None:
        raise ApiError(422, "Reference does not exist")
    if not force and not git.is_ancestor(current, sha):
        raise ApiError(422, "Update is not a fast forward")
    if not git.update_ref(name, sha, current):  # another writer moved it meanwhile: GitHub does not retry
        raise ApiError(422, "Reference cannot be updated")
    webhooks.ref_changed(req, name, current, sha)
    return ref_json(req, name, sha, kind)


@route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref:path}", permission="write")
def delete_ref(req: Request, owner: str, repo: str, ref: str) -> Response:
    git: GitRepo = req.repo.git
    name = _full_ref(ref)
    current = git.resolve(name)
    if current is None:
        raise ApiError(422, "Reference does not exist")
    if not git.delete_ref(name, current):
        raise ApiError(422, "Reference cannot be updated")
    webhooks.ref_changed(req, name, current, None)
    return Response(status=204)


# --- branches ---------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(req: Request, owner: str, repo: str, branch: str) -> dict:
    git: GitRepo = req.repo.git
    sha = git.resolve(f"refs/heads/{branch}")
    commit = git.commit(sha) if sha else None
    if commit is None:
        raise ApiError(404, "Branch not found")
    return branch_json(req, branch, commit)
