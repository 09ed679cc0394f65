"""Bundles for a GPU machine: `qa train-reader --bundle-out` packs everything training needs (the
4-bit weights cut down to the vocabulary the data uses, the tokenised windows, validation data),
and `python -m qa.train.bundle BUNDLE OUT` trains from it on a machine with only torch,
transformers, numpy, safetensors and tqdm (no model hub, none of this project's other dependencies).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from qa.documents.squad import SquadQuestion
from qa.reading.torch_model import build_qa_model
from qa.reading.windows import Windows
from qa.train.data import TrainConfig, featurize, split_questions, validation_windows
from qa.train.export import load_start_weights, train_and_export

log = logging.getLogger(__name__)


def make_bundle(mrc_files: list[Path], encoder_dir: Path, weights_file: Path, out_dir: Path, cfg: TrainConfig) -> Path:
    """Everything training needs, with the 4-bit weights cut down to the vocabulary in use."""
    from transformers import AutoTokenizer

    from embeddings.e5_package import bert_config
    from embeddings.e5_weights import read_e5s1

    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    train_qs, val_qs = split_questions(mrc_files, cfg.val_fraction, cfg.seed)
    features = featurize(tokenizer, train_qs, cfg)
    val_windows = validation_windows(tokenizer, val_qs, cfg)
    vocab = np.unique(
        np.concatenate([features["input_ids"].ravel(), *[w.input_ids.ravel() for w in val_windows], np.arange(4)])
    )
    remap = lambda ids: np.searchsorted(vocab, ids).astype(np.uint16)  # noqa: E731
    header, tensors = read_e5s1(weights_file)
    arrays: dict[str, np.ndarray] = {}
    for name, t in tensors.items():
        data = t.data
        if name == "emb.word":  # keep only the rows (each hidden/32 blocks) of tokens in use
            data = data.reshape(header.vocab, -1, data.shape[-1])[vocab].reshape(-1, data.shape[-1])
        arrays[f"w:{name}"] = data
    arrays.update({f"f:{k}": (remap(v) if k == "input_ids" else v.astype(np.int16)) for k, v in features.items()})
    arrays["v:input_ids"] = np.concatenate([remap(w.input_ids.ravel()) for w in val_windows])
    arrays["v:offsets"] = np.concatenate([w.offsets.reshape(-1, 2) for w in val_windows]).astype(np.int32)
    arrays["v:shape"] = np.asarray([w.input_ids.shape for w in val_windows], dtype=np.int32)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / "bundle.npz", **arrays)
    config = bert_config(header)
    config["vocab_size"] = int(len(vocab))
    (out_dir / "config.json").write_text(json.dumps(config))
    meta = {
        "train_config": asdict(cfg),
        "quantized": [n for n, t in tensors.items() if t.quantized],
        "header": asdict(header),
        "data": [p.name for p in mrc_files],
        "validation": [
            {"question": q.question, "context": q.paragraph.context, "answers": list(q.answers)} for q in val_qs
        ],
    }
    (out_dir / "bundle.json").write_text(json.dumps(meta, ensure_ascii=False))
    log.info(
        "bundle: %d train windows, %d val questions, %d tokens in use", len(features["start"]), len(val_qs), len(vocab)
    )
    return out_dir


def run_bundle(bundle_dir: Path, out_dir: Path, device: str, overrides: dict) -> dict:
    """Train from a bundle (on any machine with torch + transformers) and export the reader."""
    import torch

    from embeddings.e5_weights import E5Header, dequantize_q4, hf_name, tensor_shape

    meta = json.loads((bundle_dir / "bundle.json").read_text())
    resume = bool(overrides.pop("resume", False))
    cfg = TrainConfig(**{**meta["train_config"], **{k: v for k, v in overrides.items() if v is not None}})
    arrays = np.load(bundle_dir / "bundle.npz")
    header = E5Header(**meta["header"])
    n_vocab = json.loads((bundle_dir / "config.json").read_text())["vocab_size"]
    state = {}
    for key in arrays.files:
        if not key.startswith("w:"):
            continue
        name = key[2:]
        values = dequantize_q4(arrays[key]) if name in meta["quantized"] else arrays[key]
        shape = (n_vocab, header.hidden) if name == "emb.word" else tensor_shape(name, header)
        state[f"bert.{hf_name(name)}"] = torch.from_numpy(values.reshape(shape).copy())
    model = build_qa_model(bundle_dir, vocab_size=n_vocab)
    load_start_weights(model, state)
    features = {k[2:]: arrays[k] for k in arrays.files if k.startswith("f:")}
    features["input_ids"] = features["input_ids"].astype(np.int64)
    val_qs, windows = _bundle_validation(meta, arrays)
    info = train_and_export(model, features, val_qs, windows, cfg, device, out_dir, resume, meta["data"])
    (out_dir / "checkpoint.pt").unlink(missing_ok=True)
    return info


def _bundle_validation(meta: dict, arrays) -> tuple[list[SquadQuestion], list[Windows]]:
    from qa.documents.squad import SquadParagraph

    questions, windows = [], []
    ids, offsets = arrays["v:input_ids"], arrays["v:offsets"]
    pos = 0
    for i, (item, (n, width)) in enumerate(zip(meta["validation"], arrays["v:shape"])):
        size = int(n * width)
        para = SquadParagraph(f"val-{i}", "", item["context"])
        questions.append(SquadQuestion(f"val-{i}", item["question"], para, tuple(item["answers"]), ()))
        win_ids = ids[pos : pos + size].reshape(n, width).astype(np.int64)
        windows.append(
            Windows(
                input_ids=win_ids,
                attention_mask=(win_ids != 1).astype(np.int64),  # id 1 is <pad> in the compact vocab too
                offsets=offsets[pos : pos + size].reshape(n, width, 2).astype(np.int64),
                text_index=np.zeros(n, dtype=np.int64),
            )
        )
        pos += size
    return questions, windows


def main(argv: list[str] | None = None) -> None:
    """`python -m qa.train.bundle BUNDLE OUT`: train from a bundle, e.g. on a GPU machine."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--negative-share", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    overrides = {
        "epochs": args.epochs,
        "lr": args.lr,
        "negative_share": args.negative_share,
        "batch_size": args.batch_size,
        "resume": args.resume,
    }
    info = run_bundle(args.bundle, args.out, args.device, overrides)
    print(json.dumps(info["validation"]))


if __name__ == "__main__":
    main()
