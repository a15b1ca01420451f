"""Operator commands for staff roles and policy versions (wired into `python -m vopix`):

    python -m vopix staff grant --email a@b.c --role support|admin   give a role (recorded: who, when)
    python -m vopix staff revoke --email a@b.c                       take it away
    python -m vopix staff list                                       who holds a role now
    python -m vopix policy publish --file policy.txt --summary "..." --effective 2027-01-15 [--minor]
"""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from datetime import date
from pathlib import Path


def operator() -> str:
    """Who ran the command, as recorded with a grant, a revoke or a publication."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"operator {user}@{socket.gethostname()}"[:120]


def _grant(args: argparse.Namespace) -> int:
    from vopix.core.privacy import staff

    try:
        row = staff.grant(args.email, args.role, by=operator())
    except staff.StaffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{row.email} (staff #{row.user_id}) is {row.role} now; granted by {row.granted_by}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from vopix.core.privacy import staff

    try:
        revoked = staff.revoke(args.email, by=operator())
    except staff.StaffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.email} holds no role now" if revoked else f"{args.email} held no role")
    return 0


def _list(_args: argparse.Namespace) -> int:
    from vopix.core.privacy import staff

    rows = staff.list_roles()
    if not rows:
        print("nobody holds a staff role")
    for r in rows:
        since = f"{r.granted_at:%Y-%m-%d %H:%M} UTC"
        print(f"#{r.user_id:<6} {r.role:<8} {r.email:<40} since {since} by {r.granted_by}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from vopix.core.privacy import policy

    try:
        effective = date.fromisoformat(args.effective)
    except ValueError:
        print(f"error: --effective must be a date YYYY-MM-DD, not {args.effective!r}", file=sys.stderr)
        return 1
    try:
        body = Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    version = args.version or effective.isoformat()
    try:
        published = policy.publish(
            version=version, summary=args.summary, effective_on=effective, material=not args.minor,
            body=body, by=operator(),
        )
    except policy.PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    kind = "material" if published.material else "minor"
    print(f"published policy version {published.version} ({kind}, effective {effective:%Y-%m-%d}); "
          f"{published.notices_queued} notice mail{'s' if published.notices_queued != 1 else ''} queued")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("staff", help="staff roles for the console at /admin")
    ssub = p.add_subparsers(dest="staff_command", required=True)
    q = ssub.add_parser("grant", help="give a person the support or admin role")
    q.add_argument("--email", required=True)
    q.add_argument("--role", required=True, choices=["support", "admin"])
    q.set_defaults(fn=_grant)
    q = ssub.add_parser("revoke", help="take a person's role away")
    q.add_argument("--email", required=True)
    q.set_defaults(fn=_revoke)
    ssub.add_parser("list", help="who holds a role now").set_defaults(fn=_list)
    p = sub.add_parser("policy", help="privacy policy versions")
    psub = p.add_subparsers(dest="policy_command", required=True)
    q = psub.add_parser("publish", help="publish a version and mail every account about it")
    q.add_argument("--file", required=True, help="the policy's text")
    q.add_argument("--summary", required=True, help="what changes, in a sentence or two")
    q.add_argument("--effective", required=True, help="YYYY-MM-DD; material: at least 14 days ahead")
    q.add_argument("--version", help="the version's name (default: the effective date)")
    q.add_argument("--minor", action="store_true", help="not a material change (no 14-day rule)")
    q.set_defaults(fn=_publish)
