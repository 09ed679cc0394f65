"""Averaging trained readers' weights (`qa average-readers`): readers continued from one another
stay close in weight space, and their mean can read better than either (reader v10 is the mean of
v5 and v9: qa/bundled/reader/MODEL_CARD.md)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from qa.reading.reader import READER_CONFIG
from qa.reading.torch_model import build_qa_model
from qa.train.data import TrainConfig, split_questions, validation_windows
from qa.train.export import encoder_state, load_start_weights, reader_state, write_reader
from qa.train.loop import evaluate, torch_device

log = logging.getLogger(__name__)

# what reader.json keeps of each source reader, so the average says where it came from
SOURCE_FIELDS = ("validation", "mix", "init_from")


class AverageError(ValueError):
    """Readers that cannot be averaged (too few, other decoding settings, other tensors)."""


def mean_state(states: list[dict]) -> dict:
    """The element-wise mean of readers' weights; they must hold the same tensors."""
    first = states[0]
    for other in states[1:]:
        if other.keys() != first.keys():
            raise AverageError(f"the readers hold different tensors: {sorted(other.keys() ^ first.keys())[:3]}")
        if shapes := [k for k in first if other[k].shape != first[k].shape]:
            raise AverageError(f"the readers' tensors differ in shape: {shapes[:3]}")
    return {k: sum(s[k].float() for s in states) / len(states) for k in first}


def average_readers(reader_dirs: list[Path], out_dir: Path, encoder_dir: Path,
                    mrc_files: list[Path] | None = None) -> dict:
    """Write the mean of the readers in `reader_dirs` to `out_dir`; with `mrc_files`, validate it on the
    held-out split `qa train-reader` uses, so reader.json (and /healthz) report its own F1."""
    if len(reader_dirs) < 2:
        raise AverageError("averaging needs two readers or more")
    if absent := [str(d) for d in reader_dirs if not (Path(d) / READER_CONFIG).is_file()]:
        raise AverageError(f"no {READER_CONFIG} in {', '.join(absent)} (not a reader folder)")
    infos = [json.loads((Path(d) / READER_CONFIG).read_text(encoding="utf-8")) for d in reader_dirs]
    settings = infos[0].get("reader", {})
    if any(info.get("reader", {}) != settings for info in infos[1:]):
        raise AverageError("the readers decode with different settings (reader.json's \"reader\")")
    mean = mean_state([reader_state(Path(d)) for d in reader_dirs])
    validation = None
    if mrc_files:
        cfg = TrainConfig(**settings)
        model = build_qa_model(encoder_dir)
        load_start_weights(model, {**encoder_state(encoder_dir), **mean})
        from transformers import AutoTokenizer

        _, val_qs = split_questions(mrc_files, cfg.val_fraction, cfg.seed)
        windows = validation_windows(AutoTokenizer.from_pretrained(str(encoder_dir)), val_qs, cfg)
        validation = evaluate(model, val_qs, windows, cfg, torch_device("cpu"))
        log.info("the average on %d held-out questions: F1 %.2f", len(val_qs), validation["f1"])
    sources = [{"dir": str(d), **{k: info[k] for k in SOURCE_FIELDS if k in info}}
               for d, info in zip(reader_dirs, infos, strict=True)]
    # the files any of them trained on: `qa eval` warns when it is asked to measure on one
    data = list(dict.fromkeys(name for info in infos for name in info.get("data", [])))
    meta = {"reader": settings, "validation": validation, "data": data, "average_of": sources}
    write_reader(mean, out_dir, meta)
    return meta
