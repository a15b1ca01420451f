"""Operator commands for the chat channels (wired into `python -m vopix`):

    python -m vopix telegram set-webhook [--url URL]   register the webhook with its secret
    python -m vopix telegram delete-webhook
    python -m vopix telegram info                      what Telegram has on file
    python -m vopix telegram-poll                      polling mode: no public URL needed
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any


def _telegram(args: argparse.Namespace) -> int:
    from vopix.channels import telegram

    if not telegram.enabled():
        print("error: set VOPIX_TELEGRAM_BOT_TOKEN first", file=sys.stderr)
        return 1

    async def run() -> int:
        bot = telegram.get_bot()
        try:
            if args.telegram_command == "set-webhook":
                url = await telegram.set_webhook(args.url)
                print(f"Telegram now delivers updates to {url} (secret token set)")
            elif args.telegram_command == "delete-webhook":
                await telegram.delete_webhook()
                print("webhook removed; use `python -m vopix telegram-poll` or set it again")
            else:
                info = await bot.get_webhook_info()
                print(f"webhook: {info.url or '(none: polling mode)'}")
                print(f"pending updates: {info.pending_update_count}")
                if info.last_error_message:
                    print(f"last error: {info.last_error_message}")
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            await bot.shutdown()
        return 0

    return asyncio.run(run())


def _telegram_poll(_args: argparse.Namespace) -> int:
    from vopix import db
    from vopix.channels import telegram, worker

    if not telegram.enabled():
        print("error: set VOPIX_TELEGRAM_BOT_TOKEN first", file=sys.stderr)
        return 1
    try:
        db.check_schema_current()
    except db.DatabaseBehindError as exc:
        print(str(exc), file=sys.stderr)
        return 1

    async def run() -> None:
        print("polling Telegram for updates (Ctrl-C to stop)", flush=True)
        await asyncio.gather(worker.run(), telegram.poll(worker.notify))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("telegram", help="Telegram webhook set-up")
    p.add_argument("telegram_command", choices=["set-webhook", "delete-webhook", "info"])
    p.add_argument("--url", help="webhook URL (default: VOPIX_PUBLIC_URL + /api/telegram/webhook)")
    p.set_defaults(fn=_telegram)
    sub.add_parser(
        "telegram-poll", help="answer Telegram by long polling (no public URL needed)"
    ).set_defaults(fn=_telegram_poll)
