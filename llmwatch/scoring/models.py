"""``llmwatch models``: fetch the weights scorers load, so they run on machines with no network.

``llmwatch models fetch detoxify original`` downloads Detoxify's checkpoint (the URL Detoxify itself
uses, checked against the hash in its file name) and the Hugging Face config and tokenizer of the
checkpoint's base model, and installs them in one folder that :func:`llmwatch.scoring.toxicity.load_offline`
loads without any network access::

    <user data dir>/llmwatch/models/          (next to the default prompt-log database)
        detoxify/original/
            checkpoint.ckpt       config.arch.args.model_type rewritten to this folder
            config.json           the base model's config (bert-base-uncased, roberta-base, ...)
            vocab.txt, tokenizer_config.json, ...   its tokenizer files
            llmwatch-model.json   what was fetched: source URL, base model, sha256, size, time

The toxicity scorer finds it there with no option set. ``--to DIR`` writes the same layout under
``DIR`` instead (``DIR/detoxify/original/``), to copy to an air-gapped host: into that host's
models folder, or anywhere with ``toxicity_checkpoint=<folder>``.

A fetch is atomic: everything is written to a temporary folder beside the destination, loaded
once through the real offline loader, and renamed into place; on any failure the temporary
folder is removed and the error names the step that failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAMILIES = ("detoxify",)
DETOXIFY_MODELS = ("original", "unbiased", "multilingual")
CHECKPOINT = "checkpoint.ckpt"
MANIFEST = "llmwatch-model.json"

Download = Callable[[str, Path], None]  # (url, destination file)
FetchHF = Callable[[str, str, str, Path], None]  # (hub model, model class, tokenizer class, folder)


class FetchError(RuntimeError):
    """A fetch failed; the message names the model and the step."""


def models_dir() -> Path:
    """``<user data dir>/llmwatch/models``: beside the default SQLite prompt log, so one folder holds
    everything llmwatch keeps per user (``XDG_DATA_HOME`` moves both on Linux)."""
    from llmwatch.store.db import default_url, sqlite_path

    return Path(sqlite_path(default_url()) or ".").parent / "models"


def detoxify_folder(model: str, root: str | os.PathLike[str] | None = None) -> Path:
    return Path(root or models_dir()) / "detoxify" / model


def installed_detoxify(model: str, root: str | os.PathLike[str] | None = None) -> Path | None:
    """The installed checkpoint of Detoxify ``model``, or None."""
    folder = detoxify_folder(model, root)
    ckpt = folder / CHECKPOINT
    return ckpt if ckpt.is_file() and (folder / MANIFEST).is_file() else None


@dataclasses.dataclass(frozen=True)
class Installed:
    family: str
    model: str
    folder: Path
    manifest: dict[str, Any]


def installed(root: str | os.PathLike[str] | None = None) -> list[Installed]:
    """Every installed model under ``root`` (default :func:`models_dir`)."""
    out = []
    for manifest in sorted(Path(root or models_dir()).glob(f"*/*/{MANIFEST}")):
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError):
            data = {}
        out.append(Installed(manifest.parent.parent.name, manifest.parent.name, manifest.parent, data))
    return out


def check_model(family: str, model: str) -> None:
    """ValueError naming the accepted names when ``family``/``model`` is not one we can fetch."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}: expected one of {', '.join(FAMILIES)}")
    if model not in DETOXIFY_MODELS:
        raise ValueError(f"unknown detoxify model {model!r}: expected one of {', '.join(DETOXIFY_MODELS)}")


def detoxify_url(model: str) -> str:
    from detoxify.detoxify import MODEL_URLS  # Detoxify's own table: the URLs never drift from it

    return str(MODEL_URLS[model])


def download_url(url: str, dest: Path) -> None:
    """torch.hub's downloader, which checks the sha256 prefix in the file name (``-c1212f89.ckpt``)."""
    import torch

    found = re.search(r"-([a-f0-9]{6,})\.", url.rsplit("/", 1)[-1])
    torch.hub.download_url_to_file(url, str(dest), hash_prefix=found.group(1) if found else None, progress=True)


def fetch_hf(model_type: str, model_name: str, tokenizer_name: str, folder: Path) -> None:
    """The base model's config and tokenizer from the Hugging Face hub, saved into ``folder``
    (the classes Detoxify's loader uses: ``<model class>.config_class`` and ``<tokenizer class>``)."""
    import transformers

    getattr(transformers, model_name).config_class.from_pretrained(model_type).save_pretrained(folder)
    getattr(transformers, tokenizer_name).from_pretrained(model_type).save_pretrained(folder)


def fetch_detoxify(model: str = "original", to: str | os.PathLike[str] | None = None, *,
                   download: Download | None = None, hf: FetchHF | None = None, verify: bool = True) -> Path:
    """Fetch Detoxify ``model`` into ``to`` (default :func:`models_dir`); returns its folder.

    ``download`` and ``hf`` are where the files come from (default: the network); tests inject
    local sources.

        >>> fetch_detoxify("original")                      # doctest: +SKIP
        PosixPath('/home/me/.local/share/llmwatch/models/detoxify/original')
    """
    check_model("detoxify", model)
    download = download or download_url
    hf = hf or fetch_hf
    dest = detoxify_folder(model, to)
    step = "creating the destination folder"
    tmp: Path | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{model}.partial-", dir=dest.parent))
        import torch

        step = "resolving the checkpoint URL (is 'llmwatch[toxicity]' installed?)"
        url = detoxify_url(model)
        step = f"downloading {url}"
        raw = tmp / "download.ckpt"
        download(url, raw)
        step = "reading the checkpoint"
        loaded = torch.load(raw, map_location="cpu", weights_only=False)
        args = loaded["config"]["arch"]["args"]
        base = str(args["model_type"])
        step = f"fetching the Hugging Face config and tokenizer of {base!r}"
        hf(base, str(args["model_name"]), str(args["tokenizer_name"]), tmp)
        if not (tmp / "config.json").is_file():
            raise FetchError(f"no config.json was written for {base!r}")
        step = "writing the offline checkpoint"
        args["model_type"] = str(dest.resolve())  # Detoxify calls from_pretrained(model_type)
        torch.save(loaded, tmp / CHECKPOINT)
        del loaded
        digest = _sha256(raw)
        size = raw.stat().st_size
        raw.unlink()
        (tmp / MANIFEST).write_text(json.dumps({
            "family": "detoxify", "model": model, "source_url": url, "base_model": base,
            "source_sha256": digest, "source_bytes": size, "fetched_at": time.time(),
        }, indent=2) + "\n")
        if verify:
            step = "loading the installed files offline"
            from llmwatch.scoring.toxicity import load_offline

            load_offline(tmp / CHECKPOINT, "cpu", tmp).predict(["hello"])
        step = f"installing into {dest}"
        _replace(tmp, dest)
        tmp = None
        return dest
    except Exception as exc:  # noqa: BLE001 - re-raised with the step that failed
        raise FetchError(f"fetching detoxify {model}: {step} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _replace(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``; an older install is moved aside first and removed after."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        dest.rename(old)
    try:
        tmp.rename(dest)
    except OSError:
        if old is not None:
            old.rename(dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- command line ----------------------------------------------------------------------------------
EPILOG = """examples:
  llmwatch models fetch detoxify original        (into the llmwatch data folder; the scorer finds it)
  llmwatch models fetch detoxify multilingual --to /media/usb/llmwatch-models
  llmwatch models list"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("models", help="fetch and list scorer model weights (offline installs)",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    f = sub.add_parser("fetch", help="download a model's weights and tokenizer into the data folder")
    f.add_argument("family", choices=FAMILIES, help="model family")
    f.add_argument("model", nargs="?", default="original", choices=DETOXIFY_MODELS,
                   help="which Detoxify model (default: original)")
    f.add_argument("--to", metavar="DIR", help="write under DIR instead of the data folder (to copy elsewhere)")
    f.set_defaults(func=_run_fetch)
    ls = sub.add_parser("list", help="show installed models")
    ls.add_argument("--dir", metavar="DIR", help="models folder to list (default: the data folder)")
    ls.set_defaults(func=_run_list)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _run_fetch(args: argparse.Namespace) -> int:
    from llmwatch.cli import UsageError

    try:
        check_model(args.family, args.model)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        folder = fetch_detoxify(args.model, args.to)
    except FetchError as exc:
        print(f"llmwatch models fetch: error: {exc}", file=sys.stderr)
        return 1
    print(f"installed detoxify {args.model} in {folder}")
    return 0


def _run_list(args: argparse.Namespace) -> int:
    root = Path(args.dir) if args.dir else models_dir()
    found = installed(root)
    print(f"models folder: {root}")
    if not found:
        print("no models installed (run `llmwatch models fetch detoxify original`)")
        return 0
    for m in found:
        size = sum(p.stat().st_size for p in m.folder.iterdir() if p.is_file())
        when = m.manifest.get("fetched_at")
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(when)) if isinstance(when, (int, float)) else "?"
        print(f"{m.family:<10} {m.model:<13} {size / 1e6:8.1f} MB  {stamp}  "
              f"{m.manifest.get('base_model', '?')}  {m.folder}")
    return 0
