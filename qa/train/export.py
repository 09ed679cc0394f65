"""The whole training job on this machine (`qa train-reader`): starting weights from the packaged
encoder, training with validation, and the export the server loads (fp16 shards + reader.json)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from qa.reading.reader import READER_CONFIG, READER_WEIGHTS
from qa.reading.torch_model import WORD_EMBEDDINGS, build_qa_model
from qa.train.augment import training_mix
from qa.train.data import TrainConfig, featurize, split_questions, validation_windows
from qa.train.loop import evaluate, torch_device, train

log = logging.getLogger(__name__)

SHARD_BYTES = 15 * 1024 * 1024  # keeps each shipped file small enough to move around easily


def save_reader(model, out_dir: Path, cfg: TrainConfig, info: dict) -> list[Path]:
    """fp16 safetensors shards of everything but the frozen word embeddings, plus reader.json."""
    reader = {"max_length": cfg.max_length, "stride": cfg.stride, "max_answer_chars": cfg.max_answer_chars}
    return write_reader(model.state_dict(), out_dir, {"reader": reader, "training": asdict(cfg), **info})


def write_reader(state: dict, out_dir: Path, meta: dict) -> list[Path]:
    """The files the server loads: `state` (but the word embeddings) as fp16 shards, `meta` as reader.json."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("reader-*.safetensors"):
        old.unlink()
    state = {k: v.detach().to("cpu").half().contiguous() for k, v in state.items() if k != WORD_EMBEDDINGS}
    shards: list[dict] = [{}]
    size = 0
    for name, tensor in state.items():
        nbytes = tensor.numel() * 2
        if shards[-1] and size + nbytes > SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    paths = []
    for i, shard in enumerate(shards, 1):
        path = out_dir / f"reader-{i:05d}-of-{len(shards):05d}.safetensors"
        tmp = path.with_name(path.name + ".tmp")
        save_file(shard, str(tmp))
        os.replace(tmp, path)
        paths.append(path)
    tmp = out_dir / (READER_CONFIG + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    os.replace(tmp, out_dir / READER_CONFIG)
    return paths


def encoder_state(encoder_dir: Path) -> dict:
    """The packaged encoder's weights under BertForQuestionAnswering's names."""
    from safetensors.torch import load_file

    return {f"bert.{k}": v for k, v in load_file(str(Path(encoder_dir) / "model.safetensors")).items()}


def reader_state(reader_dir: Path) -> dict:
    """A trained reader's weights (every tensor but the word embeddings), to continue training from."""
    from safetensors.torch import load_file

    shards = sorted(Path(reader_dir).glob(READER_WEIGHTS))
    if not shards:
        raise FileNotFoundError(f"no reader weights ({READER_WEIGHTS}) in {reader_dir}")
    return {k: v.float() for shard in shards for k, v in load_file(str(shard)).items()}


def load_start_weights(model, state: dict) -> None:
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("qa_outputs")]
    unexpected = [k for k in unexpected if "pooler" not in k]
    if missing or unexpected:
        raise RuntimeError(f"start weights do not fit the model: missing {missing}, extra {unexpected}")


def train_reader(
    mrc_files: list[Path],
    encoder_dir: Path,
    out_dir: Path,
    cfg: TrainConfig,
    device: str = "auto",
    resume: bool = False,
    recipe: dict | None = None,
    init_from: Path | None = None,
) -> dict:
    """The whole job on this machine: tokenise, train (checkpointing), validate, export. `recipe` adds
    the ingredients of qa.train.augment; `init_from` continues from a trained reader's weights."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    train_qs, val_qs = split_questions(mrc_files, cfg.val_fraction, cfg.seed)
    mix = None
    if recipe:
        train_qs, mix = training_mix(train_qs, recipe, cfg.seed)
        log.info("training mix: %s", mix)
    log.info("%d training questions, %d validation questions", len(train_qs), len(val_qs))
    features = featurize(tokenizer, train_qs, cfg)
    val_windows = validation_windows(tokenizer, val_qs, cfg)
    model = build_qa_model(encoder_dir)
    start = encoder_state(encoder_dir)
    if init_from:
        start.update(reader_state(init_from))
    load_start_weights(model, start)
    data = [p.name for p in mrc_files]
    extra = {"mix": {"recipe": recipe, "questions": mix}} if recipe else {}
    if init_from:
        extra["init_from"] = str(init_from)
    return train_and_export(model, features, val_qs, val_windows, cfg, device, out_dir, resume, data, extra)


def train_and_export(model, features, val_qs, val_windows, cfg, device, out_dir: Path, resume: bool, data,
                     extra: dict | None = None) -> dict:
    """Train with validation after each epoch, then write the reader; returns the reader's info (`data`: the
    training files' names; `extra`: more to record, such as the mix of a recipe)."""
    dev = torch_device(device)
    settings = {k: v for k, v in asdict(cfg).items() if k != "checkpoint_minutes"}
    job = json.loads(json.dumps({"config": settings, "data": data, **(extra or {})}, default=str))
    history = train(
        model,
        features,
        cfg,
        dev,
        out_dir / "checkpoint.pt",
        resume,
        evaluate_fn=lambda m: evaluate(m, val_qs, val_windows, cfg, dev),
        job=job,
    )
    info = {"validation": history[-1] if history else None, "history": history, "data": data, **(extra or {})}
    save_reader(model, out_dir, cfg, info)
    return info
