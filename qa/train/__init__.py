"""Training the extractive reader (`qa train-reader`). A tool: the serving library never imports it.

Starts from multilingual-e5-small (the embedding model) with a fresh span head and trains on
the span-extraction data in SQuAD format (DRCD, CMRC 2018), holding out ~10% of DRCD articles
for validation. The word-embedding matrix stays frozen, so the shipped artefact holds only the
encoder layers and the head (qa/bundled/reader/MODEL_CARD.md).

One module per job: `data` (configuration, split, tokenised windows), `loop` (training,
validation, checkpoints), `export` (starting weights, the whole local job, the shipped files),
`bundle` (a bundle for a GPU machine, trained there with `python -m qa.train.bundle BUNDLE OUT`) and
`average` (the mean of trained readers, `qa average-readers`).
The names below load their module on first use, so `python -m qa.train.bundle` imports only what
a bundle needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_EXPORTS = {
    "TrainConfig": "data",
    "split_questions": "data",
    "train_reader": "export",
    "save_reader": "export",
    "make_bundle": "bundle",
    "run_bundle": "bundle",
}
__all__ = ["TrainConfig", "make_bundle", "run_bundle", "save_reader", "split_questions", "train_reader"]

if TYPE_CHECKING:
    from qa.train.bundle import make_bundle, run_bundle
    from qa.train.data import TrainConfig, split_questions
    from qa.train.export import save_reader, train_reader


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
