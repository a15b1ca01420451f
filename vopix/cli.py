"""Command-line entry point for operators."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from vopix import db, platform
from vopix.channels.commands import add_commands as add_channel_commands
from vopix.core import log_scrub
from vopix.core.backup import add_commands as add_backup_commands
from vopix.core.billing.commands import add_commands as add_billing_commands
from vopix.core.privacy.staff_commands import add_commands as add_staff_commands


def _create_user(args: argparse.Namespace) -> int:
    from vopix.core import accounts

    password = args.password or getpass.getpass("Password for the new user: ")
    try:
        user = accounts.sign_up(args.email, password, age_confirmed=True)
    except accounts.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created user {user.id} <{user.email}>")
    return 0


def _delete_user(args: argparse.Namespace) -> int:
    from vopix.core import accounts

    user_id = accounts.find_user_id(args.email)
    if user_id is None or not accounts.delete_account(user_id):
        print("error: no such user", file=sys.stderr)
        return 1
    print(f"deleted user {user_id} and all of their data")
    return 0


def _vault(args: argparse.Namespace) -> int:
    from vopix.core import vault

    if args.vault_command == "new-key":
        print(vault.generate_key())
        return 0
    try:
        n = vault.rotate_all()
    except vault.VaultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"re-encrypted {n} secret{'s' if n != 1 else ''} under key {vault.keyring().active_id}")
    return 0


def _retention(_args: argparse.Namespace) -> int:
    from vopix.core import jobs

    print(json.dumps(jobs.run_all_once(), indent=2))
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    db.migrate()
    print(f"database at migration {db.current_revision()}")
    return 0


def _check(_args: argparse.Namespace) -> int:
    try:
        db.check_schema_current()
    except db.DatabaseBehindError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print("database is up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vopix", description="VOPIX operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(fn=_migrate)
    sub.add_parser("check-db", help="fail if the database is behind the code").set_defaults(fn=_check)
    p = sub.add_parser("create-user", help="create an account")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="omit to be prompted (keeps it out of shell history)")
    p.set_defaults(fn=_create_user)
    p = sub.add_parser("delete-user", help="delete an account and all of its data now")
    p.add_argument("--email", required=True)
    p.set_defaults(fn=_delete_user)
    p = sub.add_parser("vault", help="credential vault keys")
    p.add_argument(
        "vault_command",
        choices=["rotate", "new-key"],
        help="rotate: re-encrypt every secret under VOPIX_VAULT_KEY; new-key: print a key",
    )
    p.set_defaults(fn=_vault)
    sub.add_parser("retention", help="run the retention jobs once now").set_defaults(fn=_retention)
    p = sub.add_parser("mail", help="outgoing mail: the outbox, a test mail")
    mail_sub = p.add_subparsers(dest="mail_command", required=True)
    q = mail_sub.add_parser("outbox", help="list .eml files written locally, the queue and failed mail")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(fn=_mail)
    q = mail_sub.add_parser("test", help="send one test mail now")
    q.add_argument("--to", required=True, help="the address to send it to")
    q.set_defaults(fn=_mail)
    sub.add_parser(
        "plugins", help="list the agent tools, prompt sections, hooks and jobs plugged in"
    ).set_defaults(fn=_plugins)
    add_channel_commands(sub)
    add_billing_commands(sub)
    add_staff_commands(sub)
    add_backup_commands(sub)
    return parser


def _mail(args: argparse.Namespace) -> int:
    import asyncio

    from vopix.core.kinds import MailKind
    from vopix.core.mail import outbox, transport, worker
    from vopix.core.mail.addresses import BadAddress
    from vopix.settings import get_settings

    if args.mail_command == "test":
        try:
            mail_id = outbox.send_mail(
                to=args.to, kind=MailKind.TEST, template="test", public_url=get_settings().public_url
            )
        except BadAddress as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        delivered = asyncio.run(worker.send_now(mail_id))  # only this mail, not the backlog
        [row] = [r for r in outbox.list_outbox(limit=200) if r.id == mail_id]
        host = get_settings().smtp_host
        where = f"SMTP {host}" if host else (delivered.where if delivered else str(transport.outbox_dir()))
        print(f"mail {mail_id} to {row.to_address}: {row.status} ({where}) {row.last_error}".rstrip())
        return 0 if row.status == "sent" else 1
    folder = transport.outbox_dir()
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    print(f"{len(files)} .eml file{'s' if len(files) != 1 else ''} in {folder}")
    for path in files[-args.limit:]:
        print(f"  {path.name}")
    print(f"queue: {json.dumps(outbox.backlog())}")
    for row in outbox.list_outbox(limit=args.limit, status="failed"):
        print(f"  failed #{row.id} {row.kind} to {row.to_address}: {row.last_error}")
    return 0


def _plugins(_args: argparse.Namespace) -> int:
    print(json.dumps(platform.describe(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    log_scrub.install()  # no credential in any log line, as in the app
    args = build_parser().parse_args(argv)
    platform.install()  # every command sees the same agent as the app (tools, hooks, jobs)
    return int(args.fn(args))
