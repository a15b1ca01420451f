"""Serve one VOPIX instance from an already built frontend: the production command of a cluster.

`reflex run --env prod --single-port` compiles and builds the frontend every time it starts
(minutes, and every instance would do it again). A cluster builds the frontend once, for the
load balancer's address (`reflex export --frontend-only --no-zip --env prod` with PORT set to
the balancer's port), and then starts each instance with this script on its own port:

    python deploy/serve.py --port 8001 --workers 2

It is what `reflex run --env prod --single-port` does after its build step: the backend in
production mode under Granian, the compiled frontend mounted on the same port.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("VOPIX_BIND_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, required=True, help="this instance's own port")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("VOPIX_WORKERS") or 2))
    parser.add_argument("--loglevel", default="warning")
    args = parser.parse_args(argv)

    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    web = Path(os.environ.get("REFLEX_WEB_WORKDIR") or ".web")
    if not (web / "build" / "client").is_dir():
        raise SystemExit(
            f"no built frontend in {web}/build/client: run "
            "`reflex export --frontend-only --no-zip --env prod` first (scripts/cluster.sh does)"
        )
    from vopix.core.cluster import ClockKnobInProduction, SQLiteInProduction, check_topology
    from vopix.settings import get_settings

    try:
        check_topology(get_settings())  # before Granian: the message, not a worker's traceback
    except (SQLiteInProduction, ClockKnobInProduction) as refused:
        raise SystemExit(str(refused)) from None
    if args.workers > 1 and not os.environ.get("VOPIX_REDIS_URL"):
        raise SystemExit("several workers share their state through Redis: set VOPIX_REDIS_URL")
    # Granian forks the workers after importing the app once in this process.
    os.environ["GRANIAN_WORKERS"] = str(args.workers)
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")

    from reflex.utils import exec as reflex_exec
    from reflex_base import constants
    from reflex_base.environment import environment

    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    reflex_exec.run_backend_prod(
        args.host, args.port, constants.LogLevel(args.loglevel), mount_frontend_compiled_app=True
    )


if __name__ == "__main__":
    main()
