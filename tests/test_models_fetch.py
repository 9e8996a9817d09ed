"""``llmwatch models fetch/list``: Detoxify weights installed where the toxicity scorer finds them.

There is no network here, so the download itself (GitHub for the checkpoint, the Hugging Face hub
for config and tokenizer) is not exercised: the fetcher is given local sources that serve a tiny
random-BERT checkpoint built on the spot. Everything after the download is the real code: the
checkpoint rewrite, the layout, the atomic install, the real ``Detoxify`` class loading it offline.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

pytest.importorskip("detoxify")
from llmwatch.cli import main  # noqa: E402
from llmwatch.scoring import models  # noqa: E402
from llmwatch.scoring.base import ScorerUnavailable  # noqa: E402
from llmwatch.scoring.models import FetchError, fetch_detoxify, installed, models_dir  # noqa: E402
from llmwatch.scoring.toxicity import ToxicityScorer  # noqa: E402
from tests.scoring_support import build_tiny_detoxify, local_sources  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_detoxify(tmp_path_factory.mktemp("tiny-detoxify"))


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """llmwatch's per-user data folder moved into tmp_path (platformdirs honours XDG_DATA_HOME)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LLMWATCH_STORE_URL", raising=False)
    return tmp_path / "xdg" / "llmwatch"


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".")) if parent.exists() else []


def test_models_live_beside_the_default_prompt_log(data_home):
    from llmwatch.store.db import default_url

    assert models_dir() == data_home / "models"
    assert default_url() == f"sqlite:///{data_home / 'calls.db'}"


def test_fetch_writes_the_layout_the_offline_loader_needs(tiny, data_home):
    import torch
    from detoxify import Detoxify

    download, hf = local_sources(tiny)
    folder = fetch_detoxify("original", download=download, hf=hf)
    assert folder == data_home / "models" / "detoxify" / "original"
    assert download.downloads == [
        "https://github.com/unitaryai/detoxify/releases/download/v0.1-alpha/toxic_original-c1212f89.ckpt"]
    names = {p.name for p in folder.iterdir()}
    assert {"checkpoint.ckpt", "config.json", "tokenizer_config.json", "llmwatch-model.json"} <= names
    assert names & {"tokenizer.json", "vocab.txt"}  # transformers 5 writes tokenizer.json only
    assert "download.ckpt" not in names and _leftovers(folder.parent) == []
    ckpt = torch.load(folder / "checkpoint.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["config"]["arch"]["args"]["model_type"] == str(folder.resolve())
    assert ckpt["config"]["arch"]["args"]["tokenizer_name"] == "BertTokenizer"  # a class name, kept
    manifest = json.loads((folder / "llmwatch-model.json").read_text())
    assert manifest["base_model"] == "bert-base-uncased" and manifest["model"] == "original"
    assert len(manifest["source_sha256"]) == 64 and manifest["source_bytes"] == tiny.stat().st_size
    # Detoxify's own loader, with no llmwatch rewrite in between, loads it with the hub offline.
    plain = Detoxify(checkpoint=str(folder / "checkpoint.ckpt"), huggingface_config_path=str(folder))
    assert set(plain.predict(["hello"])) >= {"toxicity", "insult"}


def test_the_scorer_finds_fetched_weights_in_the_data_folder_with_no_option(tiny, data_home):
    download, hf = local_sources(tiny)
    before = ToxicityScorer(device="cpu")
    assert not before.available()
    fetch_detoxify("original", download=download, hf=hf)
    scorer = ToxicityScorer(device="cpu")
    assert scorer.available()
    assert scorer.status == f"toxicity: original weights in {data_home / 'models' / 'detoxify' / 'original'}"
    assert 0.0 <= scorer.predict(["you are an idiot"])[0]["insult"] <= 1.0
    assert not ToxicityScorer("unbiased", device="cpu").available()  # each model is its own install


def test_an_explicit_checkpoint_wins_over_the_data_folder(tiny, data_home):
    download, hf = local_sources(tiny)
    fetch_detoxify("original", download=download, hf=hf)
    scorer = ToxicityScorer(checkpoint=str(tiny), device="cpu")
    assert scorer.weights == tiny and scorer.status == f"toxicity: checkpoint {tiny}"
    missing = ToxicityScorer(checkpoint=str(tiny.parent / "gone.ckpt"))
    assert not missing.available() and missing.status.endswith("gone.ckpt' does not exist")


def test_without_weights_the_scorer_says_how_to_get_them_once(data_home, caplog):
    caplog.set_level(logging.WARNING, logger="llmwatch")
    from llmwatch.scoring import toxicity

    toxicity._logged.clear()
    message = "toxicity: no weights (run `llmwatch models fetch detoxify original`)"
    scorers = [ToxicityScorer(device="cpu") for _ in range(3)]
    assert all(s.status == message and not s.available() for s in scorers)
    assert [r.getMessage() for r in caplog.records].count(f"llmwatch: {message}") == 1
    with pytest.raises(ScorerUnavailable, match=r"no weights \(run `llmwatch models fetch detoxify original`\)"):
        scorers[0].load()
    assert "fetch detoxify multilingual" in ToxicityScorer("multilingual").status


def test_without_weights_the_embedded_lane_turns_off_with_that_message(observe, client, data_home, caplog):
    from llmwatch.scoring import toxicity, worker
    from tests.conftest import USER

    toxicity._logged.clear()
    caplog.set_level(logging.WARNING, logger="llmwatch")
    observe(scorers="toxicity", toxicity_device="cpu", redact=True)
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert worker.flush(30)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "toxicity: no weights (run `llmwatch models fetch detoxify original`)" in logged


@pytest.mark.parametrize("step", ["download", "hf", "corrupt"])
def test_a_failed_fetch_leaves_no_partial_folder_and_names_the_step(tiny, data_home, step, tmp_path):
    download, hf = local_sources(tiny)

    def broken_download(url, dest):
        raise ConnectionError("github.com unreachable")

    def broken_hf(*args):
        raise OSError("huggingface.co unreachable")

    def corrupt_download(url, dest):
        dest.write_bytes(b"not a checkpoint")

    kwargs = {"download": {"download": broken_download, "hf": download, "corrupt": corrupt_download}[step],
              "hf": broken_hf if step == "hf" else hf}
    with pytest.raises(FetchError) as err:
        fetch_detoxify("original", **kwargs)
    text = str(err.value)
    assert text.startswith("fetching detoxify original: ")
    assert {"download": "downloading https://github.com/", "hf": "config and tokenizer of 'bert-base-uncased'",
            "corrupt": "reading the checkpoint"}[step] in text
    parent = data_home / "models" / "detoxify"
    assert not (parent / "original").exists() and _leftovers(parent) == []
    assert installed() == []


def test_a_failed_refetch_keeps_the_working_install(tiny, data_home):
    download, hf = local_sources(tiny)
    folder = fetch_detoxify("original", download=download, hf=hf)
    before = sorted(p.name for p in folder.iterdir())

    def broken_hf(*args):
        raise OSError("huggingface.co unreachable")

    with pytest.raises(FetchError):
        fetch_detoxify("original", download=download, hf=broken_hf)
    assert sorted(p.name for p in folder.iterdir()) == before and ToxicityScorer(device="cpu").available()
    fetch_detoxify("original", download=download, hf=hf)  # a good refetch replaces it in place
    assert _leftovers(folder.parent) == [] and ToxicityScorer(device="cpu").available()


def test_a_bad_model_name_is_refused_with_the_accepted_names(data_home, capsys):
    accepted = "expected one of original, unbiased, multilingual"
    with pytest.raises(ValueError, match=f"unknown detoxify model 'huge': {accepted}"):
        fetch_detoxify("huge")
    with pytest.raises(SystemExit) as exit_:
        main(["models", "fetch", "detoxify", "huge"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'huge'" in err and "'original', 'unbiased', 'multilingual'" in err
    with pytest.raises(SystemExit):
        main(["models", "fetch", "gpt2"])
    assert "invalid choice: 'gpt2' (choose from 'detoxify')" in capsys.readouterr().err
    assert not (data_home / "models").exists()


def test_fetch_to_a_folder_for_an_air_gapped_host(tiny, data_home, tmp_path, monkeypatch, capsys):
    download, hf = local_sources(tiny)
    monkeypatch.setattr(models, "download_url", download)  # the CLI's default sources, made local
    monkeypatch.setattr(models, "fetch_hf", hf)
    assert main(["models", "fetch", "detoxify", "original", "--to", str(tmp_path / "usb")]) == 0
    assert f"installed detoxify original in {tmp_path / 'usb' / 'detoxify' / 'original'}" in capsys.readouterr().out
    assert not (data_home / "models").exists()
    # Copied to the other host's data folder (another path): found and loaded with no option.
    target = data_home / "models" / "detoxify"
    target.mkdir(parents=True)
    os.rename(tmp_path / "usb" / "detoxify" / "original", target / "original")
    scorer = ToxicityScorer(device="cpu")
    assert scorer.available() and scorer.predict(["hello"])[0]["toxicity"] >= 0.0


def test_models_list_shows_what_is_installed(tiny, data_home, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"models folder: {data_home / 'models'}" in out and "no models installed" in out
    download, hf = local_sources(tiny)
    fetch_detoxify("original", download=download, hf=hf)
    assert main(["models", "list"]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("detoxify")]
    assert len(line) == 1 and "original" in line[0] and "bert-base-uncased" in line[0]
    assert [(m.family, m.model) for m in installed()] == [("detoxify", "original")]
