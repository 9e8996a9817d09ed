"""A tiny Detoxify checkpoint built on the spot (no network): a random 2-layer BERT with hidden
size 32 and its own small WordPiece vocabulary, saved in Detoxify's checkpoint format with
``model_type`` naming the hub model ``bert-base-uncased`` exactly like the released checkpoints,
and the Hugging Face config + tokenizer files next to it (what an air-gapped install ships)."""

from __future__ import annotations

from pathlib import Path

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
_WORDS = ("the a you are an idiot stupid question what shut up moron only loser asks this system returns stable "
          "answer for every request while metrics stay within budget and latency remains low hello world").split()


def build_tiny_detoxify(folder: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(_WORDS))
             + list("abcdefghijklmnopqrstuvwxyz.,?!"))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=128, num_labels=len(CLASSES))
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ckpt = folder / "toxic_tiny.ckpt"
    torch.save({"config": {"arch": {"args": {"model_type": "bert-base-uncased",
                                             "model_name": "BertForSequenceClassification",
                                             "tokenizer_name": "BertTokenizer", "num_classes": len(CLASSES)}},
                           "dataset": {"args": {"classes": CLASSES}}},
                "state_dict": model.state_dict()}, ckpt)
    return ckpt


def local_sources(ckpt: Path):
    """``(download, hf)`` for :func:`llmwatch.scoring.models.fetch_detoxify` that serve the tiny
    checkpoint from disk instead of GitHub and the Hugging Face hub. ``hf`` is the real
    ``fetch_hf`` (the same transformers classes, ``from_pretrained(...).save_pretrained(...)``)
    reading the local folder in place of the hub name. ``downloads`` lists the URLs asked for."""
    import shutil

    from llmwatch.scoring.models import fetch_hf

    downloads: list[str] = []

    def download(url: str, dest: Path) -> None:
        downloads.append(url)
        shutil.copyfile(ckpt, dest)

    def hf(model_type: str, model_name: str, tokenizer_name: str, folder: Path) -> None:
        assert model_type == "bert-base-uncased"  # what the checkpoint names, like the released ones
        fetch_hf(str(ckpt.parent), model_name, tokenizer_name, folder)

    download.downloads = downloads  # type: ignore[attr-defined]
    return download, hf
