"""The ``llmwatch`` command line. Each feature module registers its own sub-command.

A module listed in ``_COMMAND_MODULES`` exposes ``register(subparsers)``, which adds a parser
whose ``func`` default takes the parsed ``argparse.Namespace`` and returns an exit code.
Bad arguments exit with code 2 and a message naming what was wrong and what is accepted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

_COMMAND_MODULES = (
    "llmwatch.testing.simulator",
    "llmwatch.demo",
    "llmwatch.store.cli",
    "llmwatch.artefacts.cli",
    "llmwatch.scoring.cli",
    "llmwatch.scoring.models",
    "llmwatch.daemon.cli",
)


class UsageError(Exception):
    """A command-line value that is not accepted; printed and exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmwatch", description="LLM observability: SDK, prompt log, agent.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue  # feature not present in this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from llmwatch import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"llmwatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    # Run the imported module's main, not this __main__ copy: sub-commands raise
    # llmwatch.cli.UsageError, which must be the class main() catches.
    from llmwatch.cli import main as _main

    sys.exit(_main())
