"""``llmwatch agent [--config FILE] [--check]``: run the monitoring agent (see README.md, "Running the agent")."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

EPILOG = """examples:
  llmwatch agent                                  # loopback, no token needed, GPU via NVML
  LLMWATCH_AGENT_TOKEN=$(cat token) llmwatch agent --config /etc/llmwatch/agent.toml
  llmwatch agent --config agent.toml --check      # validate the configuration and exit"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("agent", help="run the monitoring agent: GPU /metrics, query API, scorers, retention",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="TOML file (environment variables LLMWATCH_AGENT_* override it)")
    p.add_argument("--check", action="store_true", help="validate the configuration and exit")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from llmwatch.config import ConfigError
    from llmwatch.daemon.config import AgentConfig

    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        config = AgentConfig.load(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.check:
        print("configuration OK")
        return 0
    from llmwatch.daemon.agent import Agent

    agent = Agent(config)
    try:
        agent.start()
    except OSError as exc:
        print(f"llmwatch agent: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    # The line tests and supervisors wait for (the port is resolved when port = 0).
    print(f"llmwatch agent listening on http://{config.host}:{agent.port}", flush=True)
    return agent.run_until_signal()
