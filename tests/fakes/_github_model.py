"""The state of the fake GitHub and GitHub's JSON shapes for it: users, tokens, repositories,
issues, pull requests, comments, error bodies. Used by ``tests/fakes/github.py``."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes._http import Response

DOCS = "https://docs.github.com/rest"
_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: seeded objects get increasing times from here


class GitHubError(Exception):
    """An API error answered as GitHub's ``{"message", "documentation_url", "status"}`` body."""

    def __init__(self, status: int, message: str, *, errors: list[dict[str, Any]] | None = None,
                 documentation_url: str = DOCS, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if errors is not None:
            self.body["errors"] = errors
        self.body["documentation_url"] = documentation_url
        self.body["status"] = str(status)
        self.headers = headers or {}

    def response(self) -> Response:
        return Response(self.status, self.body, headers=self.headers)


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def validation_failed(resource: str, field_: str, code: str, message: str | None = None,
                      doc: str = DOCS) -> GitHubError:
    error: dict[str, Any] = {"resource": resource, "field": field_, "code": code}
    if message is not None:
        error["message"] = message
    return GitHubError(422, "Validation Failed", errors=[error], documentation_url=doc)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode().rstrip("=")


@dataclass
class Token:
    token: str
    login: str
    scopes: list[str] | None  # None: a fine-grained personal access token (no OAuth scopes)
    client_id: str | None = None  # the OAuth app that issued it, None for a personal token
    id: int = 0


@dataclass
class Item:
    """An issue or a pull request (they share the numbering of a repository)."""

    number: int
    title: str
    body: str | None
    user: str
    labels: list[str]
    state: str = "open"
    state_reason: str | None = None
    assignees: list[str] = field(default_factory=list)
    created: float = 0.0
    updated: float = 0.0
    closed: float | None = None
    pull: bool = False
    head: str = "feature"
    base: str = "main"
    draft: bool = False
    merged: bool = False
    id: int = 0
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    has_issues: bool = True
    description: str | None = None
    members: set[str] | None = None  # None: every user of the fake is a collaborator
    items: dict[int, Item] = field(default_factory=dict)
    created: float = 0.0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def is_member(self, login: str) -> bool:
        return self.members is None or login == self.owner or login in self.members

    def next_number(self) -> int:
        return max(self.items, default=0) + 1


class GitHubModel:
    """Users, tokens and repositories, under one lock; the JSON renderings of them."""

    url: str

    def _init_model(self) -> None:
        self._lock = threading.RLock()
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _stamp(self) -> float:
        """A strictly increasing time, so seeded and created objects sort in creation order."""
        return float(max(_EPOCH + self._next() * 60, int(time.time()) + self._seq))

    # ------------------------------------------------------------------ state helpers

    def _ensure_user(self, login: str, name: str | None = None, email: str | None = None
                     ) -> dict[str, Any]:
        user = self.users.get(login.lower())
        if user is None:
            user = {"login": login, "id": 1000 + self._next(), "name": name, "email": email}
            self.users[login.lower()] = user
        else:
            if name is not None:
                user["name"] = name
            if email is not None:
                user["email"] = email
        return user

    def _new_token(self, prefix: str) -> str:
        return prefix + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                               "0123456789") for _ in range(36))

    def _repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    @staticmethod
    def _item_from_spec(number: int, spec: dict[str, Any], default_user: str, stamp: float,
                        pull: bool, ident: int) -> Item:
        state = spec.get("state", "open")
        labels = [lb if isinstance(lb, str) else lb["name"] for lb in spec.get("labels", [])]
        return Item(
            number=number, title=spec["title"], body=spec.get("body"),
            user=spec.get("user", default_user), labels=labels, state=state,
            state_reason=("completed" if state == "closed" else None),
            assignees=list(spec.get("assignees", [])), created=stamp, updated=stamp,
            closed=stamp if state == "closed" else None, pull=pull,
            head=spec.get("head", f"feature-{number}"), base=spec.get("base", "main"),
            draft=bool(spec.get("draft", False)), merged=bool(spec.get("merged", False)),
            id=ident,
        )

    # ------------------------------------------------------------------ JSON shapes

    def user_json(self, login: str, *, full: bool = False) -> dict[str, Any]:
        user = self._ensure_user(login)
        api = f"{self.url}/users/{user['login']}"
        data: dict[str, Any] = {
            "login": user["login"], "id": user["id"], "node_id": node_id("User", user["id"]),
            "avatar_url": f"{self.url}/avatars/u/{user['id']}?v=4", "gravatar_id": "",
            "url": api, "html_url": f"{self.url}/{user['login']}", "repos_url": f"{api}/repos",
            "type": "User", "user_view_type": "public", "site_admin": False,
        }
        if full:
            data.update({"name": user["name"], "company": None, "blog": "", "location": None,
                         "email": user["email"], "hireable": None, "bio": None,
                         "public_repos": sum(1 for r in self.repos.values()
                                             if r.owner.lower() == login.lower() and not r.private),
                         "followers": 0, "following": 0,
                         "created_at": iso(_EPOCH - 86400 * 365), "updated_at": iso(_EPOCH)})
        return data

    def repo_json(self, repo: Repo, login: str | None = None) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        member = login is not None and repo.is_member(login)
        return {
            "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "private": repo.private,
            "owner": self.user_json(repo.owner), "html_url": f"{self.url}/{repo.full_name}",
            "description": repo.description, "fork": False, "url": api,
            "issues_url": f"{api}/issues{{/number}}", "pulls_url": f"{api}/pulls{{/number}}",
            "created_at": iso(repo.created), "updated_at": iso(repo.created),
            "pushed_at": iso(repo.created), "default_branch": "main",
            "visibility": "private" if repo.private else "public", "has_issues": repo.has_issues,
            "archived": False, "disabled": False,
            "open_issues_count": sum(1 for i in repo.items.values() if i.state == "open"),
            "permissions": {"admin": member and login == repo.owner, "maintain": member,
                            "push": member, "triage": member, "pull": True},
        }

    def label_json(self, repo: Repo, name: str) -> dict[str, Any]:
        ident = 9_000_000 + sum(map(ord, name))
        return {"id": ident, "node_id": node_id("Label", ident),
                "url": f"{self.url}/repos/{repo.full_name}/labels/{name}", "name": name,
                "color": "d73a4a" if name == "bug" else "ededed", "default": name == "bug",
                "description": None}

    def issue_json(self, repo: Repo, item: Item) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        kind = "pull" if item.pull else "issues"
        data: dict[str, Any] = {
            "url": f"{api}/issues/{item.number}", "repository_url": api,
            "comments_url": f"{api}/issues/{item.number}/comments",
            "html_url": f"{self.url}/{repo.full_name}/{kind}/{item.number}",
            "id": item.id, "node_id": node_id("Issue", item.id), "number": item.number,
            "title": item.title, "user": self.user_json(item.user),
            "labels": [self.label_json(repo, name) for name in item.labels],
            "state": item.state, "state_reason": item.state_reason, "locked": False,
            "assignee": self.user_json(item.assignees[0]) if item.assignees else None,
            "assignees": [self.user_json(a) for a in item.assignees],
            "comments": len(item.comments), "created_at": iso(item.created),
            "updated_at": iso(item.updated), "closed_at": iso(item.closed),
            "author_association": "OWNER" if item.user == repo.owner else "CONTRIBUTOR",
            "body": item.body,
        }
        if item.pull:
            data["draft"] = item.draft
            data["pull_request"] = {
                "url": f"{api}/pulls/{item.number}",
                "html_url": f"{self.url}/{repo.full_name}/pull/{item.number}",
                "diff_url": f"{self.url}/{repo.full_name}/pull/{item.number}.diff",
                "patch_url": f"{self.url}/{repo.full_name}/pull/{item.number}.patch",
                "merged_at": iso(item.closed) if item.merged else None,
            }
        return data

    def pull_json(self, repo: Repo, item: Item, *, full: bool = False) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        owner = self.user_json(repo.owner)

        def ref(name: str) -> dict[str, Any]:
            sha = f"{abs(hash((repo.full_name, name))):040x}"[:40]
            return {"label": f"{repo.owner}:{name}", "ref": name, "sha": sha, "user": owner,
                    "repo": self.repo_json(repo)}

        data: dict[str, Any] = {
            "url": f"{api}/pulls/{item.number}", "id": item.id,
            "node_id": node_id("PullRequest", item.id),
            "html_url": f"{self.url}/{repo.full_name}/pull/{item.number}",
            "issue_url": f"{api}/issues/{item.number}", "number": item.number,
            "state": item.state, "locked": False, "title": item.title,
            "user": self.user_json(item.user), "body": item.body,
            "labels": [self.label_json(repo, name) for name in item.labels],
            "created_at": iso(item.created), "updated_at": iso(item.updated),
            "closed_at": iso(item.closed), "merged_at": iso(item.closed) if item.merged else None,
            "assignees": [self.user_json(a) for a in item.assignees], "draft": item.draft,
            "head": ref(item.head), "base": ref(item.base),
            "author_association": "OWNER" if item.user == repo.owner else "CONTRIBUTOR",
        }
        if full:
            data.update({"merged": item.merged, "mergeable": None if item.merged else True,
                         "mergeable_state": "clean", "comments": len(item.comments),
                         "review_comments": 0, "commits": 1, "additions": 10, "deletions": 2,
                         "changed_files": 1})
        return data

    def comment_json(self, repo: Repo, item: Item, comment: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        return {
            "id": comment["id"], "node_id": node_id("IssueComment", comment["id"]),
            "url": f"{api}/issues/comments/{comment['id']}",
            "html_url": f"{self.url}/{repo.full_name}/issues/{item.number}"
                        f"#issuecomment-{comment['id']}",
            "issue_url": f"{api}/issues/{item.number}", "body": comment["body"],
            "user": self.user_json(comment["user"]), "created_at": iso(comment["created"]),
            "updated_at": iso(comment["created"]),
            "author_association": "OWNER" if comment["user"] == repo.owner else "CONTRIBUTOR",
        }


def search_terms(q: str) -> list[str]:
    """Split a search query on spaces, keeping "quoted phrases" (and qualifier:"x y") whole."""
    return [t.replace('"', "") for t in re.findall(r'(?:[^\s"]+:)?"[^"]*"|\S+', q)]
