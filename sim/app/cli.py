"""``pdsim-app``: serve the workshop dashboard, on this computer only unless told otherwise.

By default the server listens on 127.0.0.1:8765, so nobody else on the room's network can reach it. A
facilitator who wants participants to connect from their own devices says so explicitly with
``--host 0.0.0.0`` (or an address); the command then prints a warning. The page loads nothing from
the internet (Solara 1.58.2 with its bundled assets; telemetry off).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

LOCAL = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parser() -> argparse.ArgumentParser:
    from sim.config import scenario_names

    p = argparse.ArgumentParser(prog="pdsim-app", description="Serve the pdsim workshop dashboard (offline).")
    p.add_argument("--host", default=LOCAL,
                   help=f"address to listen on (default {LOCAL}: this computer only; 0.0.0.0 opens it to the "
                        "network, with a warning)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    p.add_argument("--worlds", type=int, default=None, help="replicate worlds run alongside (default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--scenario", default="generic", help=f"preset shown first: {', '.join(scenario_names())}")
    p.add_argument("--dry-run", action="store_true", help="print the server command and exit")
    return p


def fail(message: str) -> None:
    print(f"pdsim-app: {message}", file=sys.stderr)
    raise SystemExit(2)


def command(args: argparse.Namespace) -> list[str]:
    """The ``solara run`` command line for these arguments."""
    return [sys.executable, "-m", "solara", "run", "sim.app.app:Page", "--host", args.host, "--port",
            str(args.port), "--production", "--no-open", "--no-check-version", "--theme-variant", "light",
            "--log-level", "warning"]


def main(argv: list[str] | None = None) -> None:
    from sim.app.world import DEFAULT_WORLDS
    from sim.config import scenario_names

    args = parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        fail(f"--port = {args.port} is not a port: choose 0-65535 (0 = any free port)")
    worlds = DEFAULT_WORLDS if args.worlds is None else args.worlds
    if not 1 <= worlds <= 100_000:
        fail(f"--worlds = {worlds} is out of range: choose 1-100000 (a few hundred keep the page fast)")
    if args.seed < 0:
        fail(f"--seed = {args.seed} is out of range: choose an integer >= 0")
    if args.scenario not in scenario_names():
        fail(f"--scenario = {args.scenario!r} is not a preset: choose one of {', '.join(scenario_names())}")
    if not is_loopback(args.host):
        print(f"pdsim-app: WARNING: listening on {args.host}, not {LOCAL}: anyone who can reach this computer "
              "on the network can open the dashboard and change the run. Use this only on a network you trust.",
              file=sys.stderr)
    env = dict(os.environ)
    env.update({"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "PDSIM_APP_WORLDS": str(worlds),
                "PDSIM_APP_SEED": str(args.seed), "PDSIM_APP_SCENARIO": args.scenario,
                "SOLARA_THEME_VARIANT": "light"})
    cmd = command(args)
    if args.dry_run:
        print(" ".join(cmd))
        return
    shown = "localhost" if is_loopback(args.host) else args.host
    print(f"pdsim-app: serving the workshop dashboard on http://{shown}:{args.port} "
          f"({worlds} worlds, seed {args.seed}); Ctrl-C to stop.", file=sys.stderr)
    os.execvpe(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
