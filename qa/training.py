"""Training the extractive reader (`qa train-reader`).

Starts from multilingual-e5-small (the embedding model) with a fresh span head and trains on
the span-extraction data in SQuAD format (DRCD, CMRC 2018), holding out ~10% of DRCD articles
for validation. The word-embedding matrix stays frozen, so the shipped artefact holds only the
encoder layers and the head.

A *bundle* (`--bundle-out`) packs everything a GPU machine without a model hub or this
project's dependencies needs (the 4-bit weights restricted to the vocabulary the data uses, the
tokenised windows, validation data) so training can run there with `python -m qa.training`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.metrics import exact_match, f1_score
from qa.reader import (
    READER_CONFIG,
    WORD_EMBEDDINGS,
    Windows,
    build_qa_model,
    decode_spans,
    make_windows,
    trim_span,
)
from qa.squad import SquadQuestion, read_squad

log = logging.getLogger(__name__)

SHARD_BYTES = 15 * 1024 * 1024  # keeps each shipped file small enough to move around easily


@dataclass
class TrainConfig:
    max_length: int = 256
    stride: int = 128
    max_answer_chars: int = 40
    negative_share: float = 0.3  # share of answer-less windows kept each epoch
    epochs: float = 3.0
    lr: float = 1e-4
    batch_size: int = 32
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 13
    val_fraction: float = 0.1
    checkpoint_minutes: float = 15.0


# ---------------------------------------------------------------- data


def split_questions(mrc_files: list[Path], val_fraction: float, seed: int):
    """All questions for training, except ~val_fraction of DRCD *articles* held out whole."""
    train: list[SquadQuestion] = []
    val: list[SquadQuestion] = []
    for path in mrc_files:
        _, questions = read_squad(path)
        questions = [q for q in questions if q.answers]
        if "drcd" not in path.name.lower():
            train += questions
            continue
        titles = sorted({q.paragraph.title for q in questions})
        random.Random(seed).shuffle(titles)
        held = set(titles[: max(1, round(len(titles) * val_fraction))])
        val += [q for q in questions if q.paragraph.title in held]
        train += [q for q in questions if q.paragraph.title not in held]
    return train, val


def featurize(tokenizer, questions: list[SquadQuestion], cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Training windows with start/end token targets; answer-less windows point at token 0."""
    from tqdm import tqdm

    ids, masks, starts, ends = [], [], [], []
    for lo in tqdm(range(0, len(questions), 256), desc="tokenising", unit="batch"):
        chunk = questions[lo : lo + 256]
        enc = tokenizer(
            [q.question for q in chunk],
            [q.paragraph.context for q in chunk],
            truncation="only_second",
            max_length=cfg.max_length,
            stride=cfg.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="max_length",
        )
        for w, q_idx in enumerate(enc["overflow_to_sample_mapping"]):
            q = chunk[q_idx]
            a_start, a_end = q.starts[0], q.starts[0] + len(q.answers[0])
            seq = enc.sequence_ids(w)
            offs = enc["offset_mapping"][w]
            s_tok = e_tok = 0
            ctx = [t for t, sid in enumerate(seq) if sid == 1]
            if ctx and offs[ctx[0]][0] <= a_start and offs[ctx[-1]][1] >= a_end:
                s_tok = next(t for t in ctx if offs[t][1] > a_start)
                e_tok = next(t for t in reversed(ctx) if offs[t][0] < a_end)
            ids.append(enc["input_ids"][w])
            masks.append(enc["attention_mask"][w])
            starts.append(s_tok)
            ends.append(e_tok)
    return {
        "input_ids": np.asarray(ids, dtype=np.int64),
        "attention_mask": np.asarray(masks, dtype=np.int8),
        "start": np.asarray(starts, dtype=np.int64),
        "end": np.asarray(ends, dtype=np.int64),
    }


def validation_windows(tokenizer, questions: list[SquadQuestion], cfg: TrainConfig) -> list[Windows]:
    return [make_windows(tokenizer, q.question, [q.paragraph.context], cfg.max_length, cfg.stride) for q in questions]


# ---------------------------------------------------------------- training


def _device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def epoch_order(features: dict[str, np.ndarray], cfg: TrainConfig, epoch: int) -> np.ndarray:
    """Every answer window plus a fresh random share of answer-less ones, shuffled; seeded by epoch."""
    rng = np.random.default_rng(cfg.seed + epoch)
    positive = np.flatnonzero(features["start"] > 0)
    negative = np.flatnonzero(features["start"] == 0)
    keep = rng.choice(negative, size=int(len(negative) * cfg.negative_share), replace=False)
    order = np.concatenate([positive, keep])
    rng.shuffle(order)
    return order


def evaluate(model, questions: list[SquadQuestion], windows: list[Windows], cfg: TrainConfig, device) -> dict:
    """EM/F1 (CMRC metric) with the gold paragraph given: the reader's own decoding path."""
    import torch

    model.eval()
    em = f1 = 0.0
    with torch.inference_mode():
        for q, win in zip(questions, windows):
            out = model(
                input_ids=torch.from_numpy(win.input_ids).to(device),
                attention_mask=torch.from_numpy(win.attention_mask).to(device),
            )
            spans = decode_spans(
                out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy(), win, cfg.max_answer_chars
            )
            pred = ""
            if spans:
                best = max(spans, key=lambda s: s.score)
                start, end = trim_span(q.paragraph.context, best.start, best.end)
                pred = q.paragraph.context[start:end]
            em += exact_match(pred, q.answers)
            f1 += f1_score(pred, q.answers)
    model.train()
    n = max(1, len(questions))
    return {"em": round(100 * em / n, 2), "f1": round(100 * f1 / n, 2), "questions": len(questions)}


def train(model, features, cfg: TrainConfig, device, checkpoint: Path | None, resume: bool, evaluate_fn=None):
    """AdamW with warm-up and linear decay; checkpoints every cfg.checkpoint_minutes, resumable."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(cfg.seed)
    model.to(device).train()
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optim = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    per_epoch = math.ceil(len(epoch_order(features, cfg, 0)) / cfg.batch_size)
    total = int(per_epoch * cfg.epochs)
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    step = 0
    if resume and checkpoint and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        log.info("resumed from %s at step %d/%d", checkpoint, step, total)
    use_bf16 = device.type == "cuda"
    tensors = {k: torch.from_numpy(v.astype(np.int64)) for k, v in features.items()}
    last_save = time.monotonic()
    history = []
    bar = tqdm(total=total, initial=step, desc="training reader", unit="step")
    while step < total:
        epoch, offset = divmod(step, per_epoch)
        order = epoch_order(features, cfg, epoch)
        lo = offset * cfg.batch_size
        idx = torch.from_numpy(order[lo : lo + cfg.batch_size])
        mask = tensors["attention_mask"][idx]
        width = int(mask.sum(1).max())  # trim padding shared by the whole batch
        batch = {
            "input_ids": tensors["input_ids"][idx, :width].to(device),
            "attention_mask": mask[:, :width].to(device),
            "start_positions": tensors["start"][idx].to(device),
            "end_positions": tensors["end"][idx].to(device),
        }
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", epoch=f"{step / per_epoch:.2f}")
        end_of_epoch = step % per_epoch == 0 or step == total
        if checkpoint and (time.monotonic() - last_save > cfg.checkpoint_minutes * 60 or step == total):
            _save_checkpoint(checkpoint, model, optim, sched, step)
            last_save = time.monotonic()
        if end_of_epoch and evaluate_fn is not None:
            scores = evaluate_fn(model)
            history.append({"step": step, "epoch": round(step / per_epoch, 2), **scores})
            log.info("validation after %.2f epochs: %s", step / per_epoch, scores)
            bar.write(f"validation after {step / per_epoch:.2f} epochs: {scores}")
    bar.close()
    return history


def _save_checkpoint(path: Path, model, optim, sched, step: int) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"model": model.state_dict(), "optim": optim.state_dict(), "sched": sched.state_dict(), "step": step}, tmp
    )
    os.replace(tmp, path)


def export_reader(model, out_dir: Path, cfg: TrainConfig, info: dict) -> list[Path]:
    """fp16 safetensors shards of everything but the frozen word embeddings, plus reader.json."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("reader-*.safetensors"):
        old.unlink()
    state = {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items() if k != WORD_EMBEDDINGS}
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
    reader = {"max_length": cfg.max_length, "stride": cfg.stride, "max_answer_chars": cfg.max_answer_chars}
    meta = {"reader": reader, "training": asdict(cfg), **info}
    tmp = out_dir / (READER_CONFIG + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    os.replace(tmp, out_dir / READER_CONFIG)
    return paths


# ---------------------------------------------------------------- starting weights


def encoder_state(encoder_dir: Path) -> dict:
    """The packaged encoder's weights under BertForQuestionAnswering's names."""
    from safetensors.torch import load_file

    return {f"bert.{k}": v for k, v in load_file(str(Path(encoder_dir) / "model.safetensors")).items()}


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
) -> dict:
    """The whole job on this machine: tokenise, train (checkpointing), validate, export."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    train_qs, val_qs = split_questions(mrc_files, cfg.val_fraction, cfg.seed)
    log.info("%d training questions, %d validation questions", len(train_qs), len(val_qs))
    features = featurize(tokenizer, train_qs, cfg)
    val_windows = validation_windows(tokenizer, val_qs, cfg)
    model = build_qa_model(encoder_dir)
    load_start_weights(model, encoder_state(encoder_dir))
    data = [p.name for p in mrc_files]
    return train_and_export(model, features, val_qs, val_windows, cfg, device, out_dir, resume, data)


def train_and_export(model, features, val_qs, val_windows, cfg, device, out_dir: Path, resume: bool, data) -> dict:
    """Train with validation after each epoch, then write the reader; returns the reader's info."""
    dev = _device(device)
    history = train(
        model,
        features,
        cfg,
        dev,
        out_dir / "checkpoint.pt",
        resume,
        evaluate_fn=lambda m: evaluate(m, val_qs, val_windows, cfg, dev),
    )
    info = {"validation": history[-1] if history else None, "history": history, "data": data}
    export_reader(model, out_dir, cfg, info)
    return info


# ---------------------------------------------------------------- bundles for a GPU machine


def make_bundle(mrc_files: list[Path], encoder_dir: Path, weights_file: Path, out_dir: Path, cfg: TrainConfig) -> Path:
    """Everything training needs, with the 4-bit weights cut down to the vocabulary in use."""
    from transformers import AutoTokenizer

    from embeddings.e5_package import bert_config, read_e5s1

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

    from embeddings.e5_package import E5Header, dequantize_q4, hf_name, tensor_shape

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
    from qa.squad import SquadParagraph

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
    """`python -m qa.training BUNDLE OUT`: train from a bundle, e.g. on a GPU machine."""
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
