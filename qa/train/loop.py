"""The training loop: AdamW with warm-up and linear decay over epochs of answer windows plus a
fresh share of answer-less ones, resumable checkpoints, and validation with the reader's own
decoding (EM/F1, CMRC metric)."""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path

import numpy as np

from qa.documents.squad import SquadQuestion
from qa.eval.metrics import exact_match, f1_score
from qa.reading.spans import decode_spans
from qa.reading.windows import Windows
from qa.train.data import TrainConfig

log = logging.getLogger(__name__)


def torch_device(name: str):
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
            spans = decode_spans(out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy(), win,
                                 [q.paragraph.context], cfg.max_answer_chars)
            best = max(spans, key=lambda s: s.score, default=None)
            pred = q.paragraph.context[best.start:best.end] if best else ""
            em += exact_match(pred, q.answers)
            f1 += f1_score(pred, q.answers)
    model.train()
    n = max(1, len(questions))
    return {"em": round(100 * em / n, 2), "f1": round(100 * f1 / n, 2), "questions": len(questions)}


class CheckpointError(ValueError):
    """The checkpoint can't be resumed (unreadable, or written by another training job); the message says why."""


def train(model, features, cfg: TrainConfig, device, checkpoint: Path | None, resume: bool, evaluate_fn=None,
          job: dict | None = None):
    """AdamW with warm-up and linear decay; checkpoints every cfg.checkpoint_minutes, resumable. `job` (the
    settings, data and mix that make this run) is stored in each checkpoint: resuming one written by another job
    raises CheckpointError instead of mixing two runs (so does an unreadable one; neither is deleted)."""
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
        try:
            state = torch.load(checkpoint, map_location=device, weights_only=False)
        except Exception as exc:  # a truncated or foreign file: torch raises several kinds
            raise CheckpointError(f"{checkpoint} is unreadable ({type(exc).__name__})") from exc
        stored = state.get("job")
        if stored is not None and job is not None and stored != job:
            differs = sorted(k for k in {*stored, *job} if stored.get(k) != job.get(k))
            raise CheckpointError(f"{checkpoint} is from another training job (it differs in: {', '.join(differs)})")
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
            _save_checkpoint(checkpoint, model, optim, sched, step, job)
            last_save = time.monotonic()
        if end_of_epoch and evaluate_fn is not None:
            scores = evaluate_fn(model)
            history.append({"step": step, "epoch": round(step / per_epoch, 2), **scores})
            log.info("validation after %.2f epochs: %s", step / per_epoch, scores)
            bar.write(f"validation after {step / per_epoch:.2f} epochs: {scores}")
    bar.close()
    return history


def _save_checkpoint(path: Path, model, optim, sched, step: int, job: dict | None) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"model": model.state_dict(), "optim": optim.state_dict(), "sched": sched.state_dict(), "step": step,
         "job": job},
        tmp,
    )
    os.replace(tmp, path)
