"""Operator commands: python -m vopix <command>."""

from vopix.cli import main

raise SystemExit(main())
