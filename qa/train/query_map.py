"""Fitting the English query map (qa/retrieval/query_map.py) on hand-translated training questions.

Each English question is scored against its gold paragraph and the 40 paragraphs its own vector ranks highest,
exactly as retrieval scores a passage's dense side (its own similarity mixed with its best sentence's); a
384x384 matrix, starting from the identity and kept near it, is fitted so the gold paragraph wins (softmax
cross-entropy). Settings chosen by 5-fold cross-validation over the training questions, grouped by article
(model card, "English query map"): temperature 0.01 (0.005 and 0.02-0.05 lower), a pull of the mapped vector
toward the Chinese original's vector did not help.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.documents.squad import read_squad
from qa.storage.folder import LoadedIndex
from qa.train.augment import read_translations
from qa.train.data import TrainConfig, held_out_titles


@dataclass
class MapConfig:
    candidates: int = 40  # paragraphs a question is scored against: its vector's top ranks and the gold one
    temperature: float = 0.01
    identity_weight: float = 1e-3  # pull of the matrix toward the identity
    # how far from the identity toward the fitted matrix the shipped map goes: fitted on Wikipedia questions, the
    # whole step helped DRCD and hurt the report; half of it was best on dev2's and half B's English questions
    step: float = 0.5
    epochs: int = 10
    lr: float = 2e-3
    batch_size: int = 64
    sentence_weight: float = 0.7  # how retrieval mixes a passage's own and its best sentence's similarity (Settings)
    seed: int = 0


@dataclass
class Example:
    """One English question: its vector and its candidates' unit vectors (each candidate's own vector first,
    then its sentences'), the gold candidate's position and its article."""

    english: np.ndarray
    units: list[np.ndarray]
    gold: int
    group: str


def examples_from(store: LoadedIndex, embedder, squad_file: Path, english: dict[str, str],
                  cfg: MapConfig) -> list[Example]:
    """The translated questions of one SQuAD file over an index of that file's paragraphs; DRCD questions
    of the reader's held-out articles are left out, so the untouched sets over them stay untouched."""
    _, questions = read_squad(squad_file)
    held = set()
    if "drcd" in squad_file.name.lower():
        held = held_out_titles({q.paragraph.title for q in questions}, TrainConfig.val_fraction, TrainConfig.seed)
    questions = [q for q in questions if q.id in english and q.paragraph.title not in held]
    if not questions:
        return []
    passage_of = {p.id.split(":", 1)[-1]: p.id for p in store.passages}
    en = embedder.encode_queries([english[q.id] for q in questions])
    out = []
    for q, e in zip(questions, en):
        gold = passage_of[q.paragraph.id]
        ids = [pid for pid, _ in store.search_dense(e, cfg.candidates)]
        if gold not in ids:
            ids = ids[: cfg.candidates - 1] + [gold]
        out.append(Example(e, [store.unit_vectors(pid) for pid in ids], ids.index(gold), q.paragraph.title))
    return out


class _Batches:
    """Every example's unit vectors in one matrix, so a batch's scores are one gather and two scatters."""

    def __init__(self, examples: list[Example], cfg: MapConfig) -> None:
        import torch

        self.cfg, self.width = cfg, max(len(e.units) for e in examples)
        units, candidate, own, self.start = [], [], [], [0]
        for e in examples:
            for c, u in enumerate(e.units):
                units.append(u)
                candidate += [c] * len(u)
                own += [True] + [False] * (len(u) - 1)
            self.start.append(self.start[-1] + sum(len(u) for u in e.units))
        self.units = torch.from_numpy(np.concatenate(units).astype(np.float32))
        self.candidate, self.own = torch.tensor(candidate), torch.tensor(own)
        self.english = torch.from_numpy(np.stack([e.english for e in examples]).astype(np.float32))
        self.gold = torch.tensor([e.gold for e in examples])

    def scores(self, queries, idx: list[int]):
        """[len(idx), width] dense scores of each example's candidates (-9 where it has fewer)."""
        import torch

        parts = [torch.arange(self.start[i], self.start[i + 1]) for i in idx]
        owner = torch.cat([torch.full((len(p),), b) for b, p in enumerate(parts)])
        rows = torch.cat(parts)
        sims = (self.units[rows] * queries[owner]).sum(-1)
        key, own = owner * self.width + self.candidate[rows], self.own[rows]
        size = len(idx) * self.width
        whole = torch.full((size,), -9.0).scatter(0, key[own], sims[own])
        best = torch.full((size,), -9.0).scatter_reduce(0, key[~own], sims[~own], "amax")
        best = torch.where(best > -9, best, whole)  # a one-sentence passage is its own best sentence
        w = self.cfg.sentence_weight
        return ((1 - w) * whole + w * best).view(len(idx), self.width)

    def recall_at_1(self, matrix, idx: list[int]) -> float:
        import torch

        with torch.no_grad():
            hits = self.scores(_mapped(matrix, self.english[idx]), idx).argmax(-1) == self.gold[idx]
        return float(hits.float().mean())


def _mapped(matrix, vectors):
    import torch

    return torch.nn.functional.normalize(vectors @ matrix.T, dim=-1)


def fit_matrix(batches: _Batches, idx: list[int], cfg: MapConfig):
    import torch

    dim = batches.english.shape[1]
    identity = torch.eye(dim)
    matrix = identity.clone().requires_grad_(True)
    opt = torch.optim.Adam([matrix], lr=cfg.lr)
    order = list(idx)
    for epoch in range(cfg.epochs):
        random.Random(cfg.seed + epoch).shuffle(order)
        for lo in range(0, len(order), cfg.batch_size):
            batch = order[lo : lo + cfg.batch_size]
            mapped = _mapped(matrix, batches.english[batch])
            loss = torch.nn.functional.cross_entropy(batches.scores(mapped, batch) / cfg.temperature,
                                                     batches.gold[batch])
            loss = loss + cfg.identity_weight * ((matrix - identity) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return matrix.detach()


def fit_query_map(examples: list[Example], cfg: MapConfig, held_share: float = 0.2) -> tuple[np.ndarray, dict]:
    """The map fitted on all examples (`cfg.step` of the way from the identity), and dense Recall@1 on a share
    of the articles held out of a first fit (before: the identity): what the map does on questions it did not see."""
    import torch

    torch.manual_seed(cfg.seed)
    batches = _Batches(examples, cfg)
    groups = sorted({e.group for e in examples})
    random.Random(cfg.seed).shuffle(groups)
    held = set(groups[: max(1, round(len(groups) * held_share))])
    test = [i for i, e in enumerate(examples) if e.group in held]
    train = [i for i, e in enumerate(examples) if e.group not in held]
    identity = torch.eye(batches.english.shape[1])

    def stepped(fitted):
        return identity + cfg.step * (fitted - identity)

    report = {"questions": len(examples), "held_out_questions": len(test), "step": cfg.step,
              "held_out_recall@1_before": round(batches.recall_at_1(identity, test), 3)}
    if train:
        report["held_out_recall@1_after"] = round(batches.recall_at_1(stepped(fit_matrix(batches, train, cfg)),
                                                                      test), 3)
    matrix = stepped(fit_matrix(batches, list(range(len(examples))), cfg))
    report["training_recall@1"] = round(batches.recall_at_1(matrix, list(range(len(examples)))), 3)
    return matrix.numpy(), report


def translations_of(paths: list[Path]) -> dict[str, str]:
    english: dict[str, str] = {}
    for path in paths:
        english |= read_translations(path)
    return english
