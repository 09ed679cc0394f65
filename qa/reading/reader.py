"""Extractive reader: finds the answer span inside retrieved passages.

transformers 5 has no question-answering pipeline, so windowing, logit decoding and the
mapping from tokens back to characters live here. The model is multilingual-e5-small with a
span head trained by `qa train-reader`; the shipped artefact holds everything but the frozen
word embeddings, which come from the packaged embedding model. Served on ONNX Runtime, its graph
is built from the shards with numpy and onnx (embeddings/onnx_graph.py): no torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.reading.spans import Span, decode_spans
from qa.reading.windows import Windows, make_windows

log = logging.getLogger(__name__)

READER_WEIGHTS = "reader-*.safetensors"  # fp16 shards written by qa.train.export.save_reader
READER_CONFIG = "reader.json"


@dataclass(frozen=True)
class ReaderSettings:
    max_length: int = 256
    stride: int = 128
    max_answer_chars: int = 40


class Reader:
    """Loads the trained span reader once (`load()`), then reads batches of passages.

    `runtime="onnx"` (the default) serves an int8 or fp32 export of the reader fed from the shared
    4-bit word table, without torch; `runtime="torch"` is the reference it is measured against."""

    def __init__(self, artefact_dir: Path, cache_dir: Path, threads: int = 1, runtime: str = "onnx",
                 precision: str = "fp32") -> None:
        self.artefact_dir = Path(artefact_dir)
        self.cache_dir = Path(cache_dir)  # the model cache: the built graph (or, for torch, the encoder's folder)
        self.threads = threads
        self.runtime = runtime
        self.precision = precision
        self.model = None
        self.tokenizer = None
        self.settings = ReaderSettings()
        self.info: dict = {}

    @classmethod
    def from_settings(cls, settings) -> Reader:
        return cls(settings.reader_dir, settings.model_cache_dir, settings.threads, settings.runtime,
                   settings.reader_precision)

    def load(self) -> Reader:
        if self.model is not None:
            return self
        from embeddings.tokenizer import packaged_tokenizer

        shards = reader_shards(self.artefact_dir)
        self.info = json.loads((self.artefact_dir / READER_CONFIG).read_text())
        self.settings = ReaderSettings(**self.info.get("reader", {}))
        self.tokenizer = packaged_tokenizer()
        if self.runtime == "onnx":
            from embeddings.e5_weights import weights_fingerprint
            from embeddings.onnx_models import OnnxModel, cached_export
            from embeddings.word_table import packaged_word_table

            digest = hashlib.sha256(json.dumps(weights_fingerprint(), sort_keys=True).encode())
            for path in [*shards, self.artefact_dir / READER_CONFIG]:
                digest.update(path.read_bytes())
            folder = self.cache_dir / f"reader-{digest.hexdigest()[:12]}-onnx-{self.precision}"
            path = cached_export(folder, {"sources": digest.hexdigest()}, f"{__name__}:build_reader",
                                 [self.artefact_dir], self.precision)
            self.table = packaged_word_table()
            self.model = OnnxModel(path, self.threads)
        else:  # the torch reference path (QA_RUNTIME=torch, needs the [build] extra)
            import torch

            from embeddings.e5_package import ensure_packaged_model
            from qa.reading.torch_model import torch_reader

            torch.set_num_threads(self.threads)
            self.model = torch_reader(ensure_packaged_model(self.cache_dir), shards)
        return self

    def logits(self, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
        if self.runtime == "onnx":
            start, end = self.model.run(self.table.lookup(windows.input_ids), windows.attention_mask)
            return start, end
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(windows.input_ids),
                             attention_mask=torch.from_numpy(windows.attention_mask))
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    def read(self, question: str, texts: list[str]) -> list[Span]:
        """Best span per window over all texts, in one batched forward pass."""
        if not texts:
            return []
        windows = self.windows(question, texts)
        return self.read_windows(windows, list(range(len(windows.input_ids))), texts)[0]

    def windows(self, question: str, texts: list[str]) -> Windows:
        """The windows reading these texts beside the question takes (the unit of reading cost)."""
        self.load()
        return make_windows(self.tokenizer, question, texts, self.settings.max_length, self.settings.stride)

    def read_windows(self, windows: Windows, rows: list[int], texts: list[str],
                     exclude: Callable[[str], bool] | None = None,
                     rule_out: Callable[[str], bool] | None = None) -> tuple[list[Span], int]:
        """The best span of each of these windows (offsets into `texts`), and the tokens read; `exclude`,
        `rule_out`: see `decode_spans`."""
        self.load()
        chosen = windows.subset(rows)
        start_logits, end_logits = self.logits(chosen)
        spans = decode_spans(start_logits, end_logits, chosen, texts, self.settings.max_answer_chars, exclude=exclude,
                             rule_out=rule_out)
        return spans, chosen.tokens


def reader_shards(artefact_dir: Path) -> list[Path]:
    shards = sorted(artefact_dir.glob(READER_WEIGHTS))
    if not shards or not (artefact_dir / READER_CONFIG).is_file():
        raise FileNotFoundError(
            f"no trained reader in {artefact_dir} (expected {READER_WEIGHTS} and "
            f"{READER_CONFIG}); train one with `qa train-reader`"
        )
    return shards


def build_reader(artefact_dir: Path, path: Path) -> None:
    """The reader as an ONNX graph: its fp16 shards over the packaged encoder's shape, with the span head (run by
    `cached_export` in a child process)."""
    from safetensors.numpy import load_file

    from embeddings.e5_weights import packaged_weights_path, read_e5s1
    from embeddings.onnx_graph import BertShape, bert_body, save

    header, _ = read_e5s1(packaged_weights_path())
    state = {k: v for shard in reader_shards(artefact_dir) for k, v in load_file(str(shard)).items()}
    head = (state.pop("qa_outputs.weight").astype(np.float32), state.pop("qa_outputs.bias").astype(np.float32))
    shape = BertShape(header.hidden, header.layers, header.heads, header.eps)
    save(bert_body(state, shape, prefix="bert.", span_head=head), path)
