"""Training data for the reader: the configuration, the train/validation split (whole DRCD
articles held out), and the tokenised windows with their span targets."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.documents.squad import SquadQuestion, read_squad
from qa.reading.windows import Windows, make_windows


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


def held_out_titles(titles: set[str], val_fraction: float, seed: int) -> set[str]:
    """The DRCD articles kept out of training (bench/drcd_heldout.py writes their questions)."""
    ordered = sorted(titles)
    random.Random(seed).shuffle(ordered)
    return set(ordered[: max(1, round(len(ordered) * val_fraction))])


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
        held = held_out_titles({q.paragraph.title for q in questions}, val_fraction, seed)
        val += [q for q in questions if q.paragraph.title in held]
        train += [q for q in questions if q.paragraph.title not in held]
    return train, val


def featurize(tokenizer, questions: list[SquadQuestion], cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Training windows with start/end token targets; answer-less windows (and every window of a
    question without answers) point at token 0."""
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
            seq = enc.sequence_ids(w)
            offs = enc["offset_mapping"][w]
            s_tok = e_tok = 0
            ctx = [t for t, sid in enumerate(seq) if sid == 1]
            a_start, a_end = (q.starts[0], q.starts[0] + len(q.answers[0])) if q.answers else (0, 0)
            if q.answers and ctx and offs[ctx[0]][0] <= a_start and offs[ctx[-1]][1] >= a_end:
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
