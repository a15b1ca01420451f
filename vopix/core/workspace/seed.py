"""What a new account's workspace starts with: a README for the person and one example skill."""

from __future__ import annotations

import logging

from sqlmodel import Session

from vopix.core.workspace import store
from vopix.core.workspace.base import WorkspaceError

log = logging.getLogger("vopix.workspace")

README = """\
# Your workspace

This is your agent's workspace: a private set of files that only you and your agent can use.

## What you can keep here

- **Documents** – notes, lists, reference material. Ask your agent about them and it will read
  or search them for you.
- **Skills** (the `skills` folder) – instructions your agent follows for a particular job. Each
  skill is a folder with a file called `SKILL.md`. The lines at the top of that file give the
  skill a name and a one-line description; your agent sees those, and opens the full
  instructions when you ask for something that matches. Look at the example skill to see how.
- **MEMORY.md** – if a file with this name exists here, your agent reads it at the start of
  every conversation. Put in it what your agent should always keep in mind: your preferences,
  the people and projects you mention often. When you say "remember that…", your agent adds a
  line to it.
- **Scripts** (the `scripts` folder) – you can keep and edit scripts here. Your agent cannot
  run them yet.

## Good to know

- Your agent can create files, change them and add to them when you ask. Before it deletes
  anything it asks you to confirm in the web chat, and it never deletes from Telegram or WhatsApp.
- Files count toward your plan's storage. This page shows how much you use.
- You can download any file, or a whole folder as a zip.

You can change or delete this file whenever you like.
"""

EXAMPLE_SKILL_PATH = "skills/meeting-notes/SKILL.md"
EXAMPLE_SKILL = """\
---
name: meeting-notes
description: Turn rough meeting notes into a short summary with decisions and action items.
---

# Meeting notes

Use this when the person shares notes from a meeting or asks for a meeting summary.

1. Read the notes. If the date or the people present are missing, ask once; otherwise go on.
2. Write the summary in three parts:
   - **Summary** – two or three sentences.
   - **Decisions** – a bullet list, or "None recorded".
   - **Action items** – a bullet list of "who – what – by when". Leave out "by when" rather
     than guess it.
3. Offer to save it in the workspace as `meetings/<date> <topic>.md`.

Keep the person's own words for names and terms, and add nothing that is not in the notes.
"""


def seed_workspace(s: Session, user_id: int) -> None:
    """on_user_created hook: runs inside the sign-up transaction. Starter files are a courtesy:
    if they cannot be written (a plan with no storage, say), the account is still made."""
    for path, text in (("README.md", README), (EXAMPLE_SKILL_PATH, EXAMPLE_SKILL)):
        try:
            store.put_bytes(s, user_id, path, text.encode("utf-8"))
        except WorkspaceError as exc:
            log.warning("starter file %s not written for user %s: %s", path, user_id, exc)
