"""``llmwatch dashboards``: list the bundled Grafana dashboards or push them to a Grafana server.

    llmwatch dashboards list
    llmwatch dashboards push --url https://grafana.example.com --token "$GRAFANA_TOKEN" [--folder llmwatch]

``push`` needs the ``grafana`` extra (``pip install 'llmwatch[grafana]'``, i.e. grafana-client).
The dashboards are the ones bundled in the package (:mod:`llmwatch.artefacts`); ``--dir`` reads
another folder of dashboard JSON instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from llmwatch import artefacts
from llmwatch.cli import UsageError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("dashboards", help="list or push the bundled Grafana dashboards")
    sub = p.add_subparsers(dest="dashboards_command", metavar="ACTION")
    lst = sub.add_parser("list", help="list the dashboards")
    lst.add_argument("--dir", type=Path, default=None, help="folder of dashboard JSON files")
    lst.set_defaults(func=_list)
    push = sub.add_parser("push", help="upload the dashboards to Grafana over its HTTP API")
    push.add_argument("--url", required=True, help="Grafana base URL, e.g. https://grafana.example.com")
    push.add_argument("--token", default=os.environ.get("GRAFANA_TOKEN"),
                      help="service-account token (default: $GRAFANA_TOKEN)")
    push.add_argument("--folder", default="llmwatch", help="folder title (created if missing; default llmwatch)")
    push.add_argument("--folder-uid", default="llmwatch", help="folder uid (default llmwatch)")
    push.add_argument("--dir", type=Path, default=None, help="folder of dashboard JSON files")
    push.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout in seconds (default 10)")
    push.set_defaults(func=_push)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def load_dashboards(directory: Path | None) -> list[dict[str, Any]]:
    """The bundled dashboards, or those in ``directory`` (``--dir``)."""
    if directory is None:
        bundled = artefacts.dashboards()
        if not bundled:  # a broken install: say so rather than list nothing
            raise UsageError("no dashboards bundled in this llmwatch install; pass --dir")
        return bundled
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        raise UsageError(f"--dir {directory}: no dashboard JSON files there")
    out = []
    for f in files:
        try:
            out.append(json.loads(f.read_text()))
        except json.JSONDecodeError as exc:
            raise UsageError(f"--dir: {f} is not valid JSON ({exc})") from exc
    return out


def _list(args: argparse.Namespace) -> int:
    for d in load_dashboards(args.dir):
        print(f"{d['uid']}\t{d['title']}\t{sum(1 for p in d['panels'] if p['type'] != 'row')} panels")
    return 0


def _push(args: argparse.Namespace) -> int:
    url = urlparse(args.url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise UsageError(f"--url {args.url!r}: expected http(s)://host[:port][/path]")
    if not args.token:
        raise UsageError("--token (or $GRAFANA_TOKEN) is required: a Grafana service-account token")
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    dashboards = load_dashboards(args.dir)
    try:
        from grafana_client.api import GrafanaApi
        from grafana_client.client import GrafanaClientError
    except ImportError:
        print("llmwatch dashboards push needs grafana-client: pip install 'llmwatch[grafana]'", file=sys.stderr)
        return 1
    api = GrafanaApi.from_url(args.url, credential=args.token, timeout=args.timeout)
    try:
        try:
            api.folder.get_folder(args.folder_uid)
        except GrafanaClientError as exc:
            if getattr(exc, "status_code", None) != 404:
                raise
            api.folder.create_folder(args.folder, uid=args.folder_uid)
        for d in dashboards:
            body = {"dashboard": {**d, "id": None}, "folderUid": args.folder_uid, "overwrite": True,
                    "message": "llmwatch dashboards push"}
            res = api.dashboard.update_dashboard(body)
            print(f"{d['uid']}\t{res.get('status', 'success')}\t{res.get('url', '')}")
    except GrafanaClientError as exc:
        print(f"llmwatch dashboards push: Grafana refused: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # network errors from niquests/urllib3: report, do not trace back
        print(f"llmwatch dashboards push: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    return 0
