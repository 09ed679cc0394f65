"""ONNX Runtime models: built once into the model cache (embeddings/onnx_graph.py writes the graphs from numpy
weights, no torch), then served.

A model here is a transformer body that takes `inputs_embeds` (the word-embedding lookup happens outside, in the
shared `WordTable`), so no built file carries the 250k-row table. A build is written to a temporary folder and
renamed into place with a marker that records what it was built from; a missing or mismatched marker means
rebuild. It runs in a child Python process (`python -m embeddings.onnx_models`), so its peak memory (the weights in
fp32 and the serialised graph) leaves with it, and under a file lock, so replicas sharing QA_HOME build it once.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from embeddings.e5_weights import build_lock

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
MARKER = "build.json"
SOURCE_ROOT = Path(__file__).resolve().parent.parent  # holds embeddings/ and qa/, for the child's imports
EXPORT_FORMAT = 2  # bump when the graphs change so caches are rebuilt (2: built with onnx's graph API, not torch)
PRECISIONS = ("fp32", "int8")


class OnnxModelError(RuntimeError):
    """An exported model is missing or unusable; the message says what to do."""


def cached_export(folder: Path, fingerprint: dict, exporter: str, sources: list[Path], precision: str) -> Path:
    """The model file in `folder`, built first when the folder's marker does not match `fingerprint`: `exporter`
    ("module:function") is called as function(*sources, path) in a child process, writing fp32, then quantized to
    int8 when asked."""
    if precision not in PRECISIONS:
        raise OnnxModelError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    wanted = {**fingerprint, "format": EXPORT_FORMAT, "precision": precision}
    if _built(folder, wanted):
        return folder / MODEL_FILE
    with build_lock(folder):
        if _built(folder, wanted):  # another process built it while this one waited
            return folder / MODEL_FILE
        log.info("building %s for ONNX Runtime (%s, one-off)", folder.name, precision)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            _export_in_child(exporter, sources, tmp, precision, folder.name)
            (tmp / MARKER).write_text(json.dumps(wanted))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder / MODEL_FILE


def _built(folder: Path, wanted: dict) -> bool:
    try:
        return json.loads((folder / MARKER).read_text()) == wanted and (folder / MODEL_FILE).is_file()
    except (OSError, ValueError):
        return False


def _export_in_child(exporter: str, sources: list[Path], into: Path, precision: str, name: str) -> None:
    command = [sys.executable, "-m", "embeddings.onnx_models", exporter, precision, str(into), *map(str, sources)]
    path = os.pathsep.join(filter(None, [str(SOURCE_ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": path}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)  # stdout may be a command's JSON output
    if done.returncode:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise OnnxModelError(f"building {name} for ONNX Runtime failed: {tail[0]}")


def _export(exporter: str, precision: str, folder: Path, sources: list[str]) -> None:
    """The child's job: the fp32 export into `folder`, quantized in place when int8 is asked."""
    module, _, name = exporter.partition(":")
    export = getattr(importlib.import_module(module), name)
    fp32 = folder / ("fp32.onnx" if precision == "int8" else MODEL_FILE)
    export(*map(Path, sources), fp32)
    if precision == "int8":
        quantize_int8(fp32, folder / MODEL_FILE)
        fp32.unlink()


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 weights, per channel with reduced range: measured within a point of fp32 F1,
    where torch's dynamic int8 lost 16-26 (see bench/)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)


class OnnxModel:
    """One ONNX Runtime session: graph optimisations on, a fixed number of intra-op threads."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable files
            raise OnnxModelError(f"{path} is unusable ({exc}); delete its folder to rebuild it") from exc
        self.path = Path(path)

    def run(self, inputs_embeds: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        feeds = {"inputs_embeds": np.ascontiguousarray(inputs_embeds, dtype=np.float32),
                 "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64)}
        return self.session.run(None, feeds)


if __name__ == "__main__":
    _export(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:])
