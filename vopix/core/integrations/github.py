"""The agent's GitHub tools: list repositories, list/search/read issues and pull requests, create
an issue and comment (those two after the person confirms). Offered only while GitHub is
connected; each call is logged in words (activity.py); outputs are trimmed for the model."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vopix.core.agent.tools import Tool, ToolFailed, register_tool
from vopix.core.integrations.acting import Action, acting_tool
from vopix.core.integrations.github_api import call

SERVICE = "github"
BODY_MAX = 4000  # characters of an issue body or comment given to the model
LIST_MAX = 30
_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")


def _repo(args: dict[str, Any]) -> str:
    repo = str(args.get("repo", "")).strip()
    if not _REPO.match(repo):
        raise ToolFailed("give the repository as owner/name, e.g. octo/hello")
    return repo


def _number(args: dict[str, Any]) -> int:
    try:
        number = int(args.get("number", 0))
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ToolFailed("give the issue or pull request number")
    return number


def _text(args: dict[str, Any], key: str, *, limit: int, required: bool = True) -> str:
    value = str(args.get(key, "") or "").strip()
    if required and not value:
        raise ToolFailed(f"{key} is required")
    return value[:limit]


def _trim(text: str | None, limit: int = BODY_MAX) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + f"\n[… {len(text) - limit} more characters]"


def _issue_line(i: dict[str, Any]) -> str:
    kind = "PR" if "pull_request" in i else "issue"
    return f"#{i['number']} [{kind}, {i.get('state', '')}] {i.get('title', '')} ({i.get('html_url', '')})"


async def github_list_repos(token: str, args: dict[str, Any]) -> tuple[str, str]:
    repos, _ = await call(token, "GET", "/user/repos", params={"per_page": LIST_MAX, "sort": "updated"})
    lines = [
        f"{r['full_name']}{' (private)' if r.get('private') else ''}: {r.get('description') or ''}"
        .rstrip(": ")
        for r in repos
    ]
    return ("\n".join(lines) or "No repositories."), f"listed {len(lines)} repositories"


async def github_list_issues(token: str, args: dict[str, Any]) -> tuple[str, str]:
    repo = _repo(args)
    state = str(args.get("state") or "open")
    if state not in ("open", "closed", "all"):
        raise ToolFailed("state is open, closed or all")
    kind = str(args.get("kind") or "issues")
    params = {"state": state, "per_page": LIST_MAX}
    if kind == "pulls":
        found, _ = await call(token, "GET", f"/repos/{repo}/pulls", params=params)
        lines = [f"#{p['number']} [PR, {p.get('state', '')}] {p.get('title', '')} ({p.get('html_url', '')})"
                 for p in found]
        return ("\n".join(lines) or "No pull requests."), f"listed {len(lines)} pull requests in {repo}"
    found, _ = await call(token, "GET", f"/repos/{repo}/issues", params=params)
    issues = [i for i in found if "pull_request" not in i]  # GitHub lists PRs among issues
    return ("\n".join(map(_issue_line, issues)) or "No issues."), f"listed {len(issues)} issues in {repo}"


async def github_search_issues(token: str, args: dict[str, Any]) -> tuple[str, str]:
    query = _text(args, "query", limit=256)
    if not re.search(r"\b(is|type):(issue|pr|pull-request)\b", query):
        query = f"{query} is:issue"  # GitHub's search wants one of the two named
    body, _ = await call(token, "GET", "/search/issues", params={"q": query, "per_page": LIST_MAX})
    items = body.get("items", []) if isinstance(body, dict) else []
    lines = [f"{i.get('repository_url', '').rsplit('/repos/', 1)[-1]} {_issue_line(i)}" for i in items]
    return ("\n".join(lines) or "Nothing matches."), f"searched issues for '{query}' ({len(lines)} found)"


async def github_read_issue(token: str, args: dict[str, Any]) -> tuple[str, str]:
    repo, number = _repo(args), _number(args)
    i, _ = await call(token, "GET", f"/repos/{repo}/issues/{number}")
    text = (f"{_issue_line(i)}\nby {i.get('user', {}).get('login', '?')}, {i.get('comments', 0)} comments\n\n"
            f"{_trim(i.get('body'))}")
    return text, f"read #{number} in {repo}"


async def github_create_issue(token: str, args: dict[str, Any]) -> tuple[str, str]:
    repo = _repo(args)
    payload = {
        "title": _text(args, "title", limit=256), "body": _text(args, "body", limit=60_000, required=False),
    }
    i, _ = await call(token, "POST", f"/repos/{repo}/issues", json=payload)
    return f"Created issue #{i['number']}: {i.get('html_url', '')}", f"created issue #{i['number']} in {repo}"


async def github_comment(token: str, args: dict[str, Any]) -> tuple[str, str]:
    repo, number = _repo(args), _number(args)
    c, _ = await call(token, "POST", f"/repos/{repo}/issues/{number}/comments",
                      json={"body": _text(args, "body", limit=60_000)})
    return f"Commented: {c.get('html_url', '')}", f"commented on #{number} in {repo}"


def _a(args: dict[str, Any], key: str) -> str:
    return str(args.get(key, "") or "?")


DESCRIBE: dict[str, Callable[[dict[str, Any]], str]] = {
    "github_list_repos": lambda a: "list your GitHub repositories",
    "github_list_issues": lambda a: f"list {'pull requests' if a.get('kind') == 'pulls' else 'issues'} "
                                    f"in {_a(a, 'repo')}",
    "github_search_issues": lambda a: f"search GitHub issues for '{_a(a, 'query')}'",
    "github_read_issue": lambda a: f"read #{_a(a, 'number')} in {_a(a, 'repo')}",
    "github_create_issue": lambda a: f"create an issue in {_a(a, 'repo')}: “{_a(a, 'title')}”",
    "github_comment": lambda a: f"comment on #{_a(a, 'number')} in {_a(a, 'repo')}",
}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


_R = {"type": "string", "description": "The repository as owner/name, e.g. octo/hello"}
_N = {"type": "integer", "description": "The issue or pull request number"}


def _make(fn: Action, description: str, params: dict[str, Any], *, confirm: bool = False) -> Tool:
    return acting_tool(SERVICE, fn, DESCRIBE, description, params, confirm=confirm)


TOOLS = [
    _make(github_list_repos, "List the person's GitHub repositories (most recently updated first).",
          _obj({}, [])),
    _make(github_list_issues, "List issues (or pull requests) of a GitHub repository.", _obj({
        "repo": _R, "state": {"type": "string", "enum": ["open", "closed", "all"]},
        "kind": {"type": "string", "enum": ["issues", "pulls"], "description": "issues (default) or pulls"},
    }, ["repo"])),
    _make(github_search_issues, "Search GitHub issues (or pull requests with is:pr) in GitHub search "
          "syntax, e.g. 'repo:octo/hello is:open label:bug'.",
          _obj({"query": {"type": "string"}}, ["query"])),
    _make(github_read_issue, "Read one issue or pull request with its description.",
          _obj({"repo": _R, "number": _N}, ["repo", "number"])),
    _make(github_create_issue, "Create an issue in a GitHub repository. The person must confirm.", _obj({
        "repo": _R, "title": {"type": "string"}, "body": {"type": "string", "description": "Markdown"},
    }, ["repo", "title"]), confirm=True),
    _make(github_comment, "Comment on a GitHub issue or pull request. The person must confirm.",
          _obj({"repo": _R, "number": _N, "body": {"type": "string"}}, ["repo", "number", "body"]),
          confirm=True),
]  # fmt: skip


def install() -> None:
    for tool in TOOLS:
        register_tool(tool)
