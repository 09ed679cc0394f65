"""ONNX Runtime models: exported once from torch into the model cache, then served without torch.

A model here is a transformer body that takes `inputs_embeds` (the word-embedding lookup happens
outside, in the shared `WordTable`), so no exported file carries the 250k-row table. Exports are
written to a temporary folder and renamed into place with a marker that records what they were
built from; a missing or mismatched marker means rebuild.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
MARKER = "build.json"
EXPORT_FORMAT = 1  # bump when the exported graphs change so caches are rebuilt
PRECISIONS = ("fp32", "int8")


class OnnxModelError(RuntimeError):
    """An exported model is missing or unusable; the message says what to do."""


def cached_export(folder: Path, fingerprint: dict, export: Callable[[Path], None], precision: str) -> Path:
    """The model file in `folder`, exporting it first (via `export(path)` for fp32, then int8
    quantization when asked) when the folder's marker does not match `fingerprint`."""
    if precision not in PRECISIONS:
        raise OnnxModelError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    wanted = {**fingerprint, "format": EXPORT_FORMAT, "precision": precision}
    marker = folder / MARKER
    try:
        if json.loads(marker.read_text()) == wanted and (folder / MODEL_FILE).is_file():
            return folder / MODEL_FILE
    except (OSError, ValueError):
        pass
    log.info("exporting %s for ONNX Runtime (%s, one-off)", folder.name, precision)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        fp32 = tmp / ("fp32.onnx" if precision == "int8" else MODEL_FILE)
        export(fp32)
        if precision == "int8":
            quantize_int8(fp32, tmp / MODEL_FILE)
            fp32.unlink()
        marker_tmp = tmp / MARKER
        marker_tmp.write_text(json.dumps(wanted))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / MODEL_FILE


def export_module(module, example: tuple, input_names: list[str], output_names: list[str], path: Path) -> None:
    """torch -> ONNX with dynamic batch and sequence axes (torch is needed here only)."""
    import torch

    axes = {name: {0: "batch", 1: "tokens"} for name in input_names + output_names}
    with torch.inference_mode():
        torch.onnx.export(module.eval(), example, str(path), input_names=input_names, output_names=output_names,
                          dynamic_axes=axes, opset_version=17, dynamo=False)


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
