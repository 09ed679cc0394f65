"""The reader as a torch model (`QA_RUNTIME=torch`, the reference the ONNX runtime is measured against): its shape,
built from the packaged encoder's config, and its shipped fp16 shards loaded over the frozen word embeddings.
Training builds on the same model (qa/train). torch is imported inside the functions: serving on ONNX never
calls them."""

from __future__ import annotations

from pathlib import Path

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


def build_qa_model(encoder_dir: Path, vocab_size: int | None = None):
    """An untrained BertForQuestionAnswering shaped like the encoder (attention dropout off:
    it nearly doubles step time and does not help this small model)."""
    from transformers import BertConfig, BertForQuestionAnswering

    config = BertConfig.from_pretrained(str(encoder_dir))
    config.attention_probs_dropout_prob = 0.0
    if vocab_size is not None:
        config.vocab_size = vocab_size
    return BertForQuestionAnswering(config)


def load_word_embeddings(encoder_dir: Path):
    from safetensors import safe_open

    with safe_open(str(Path(encoder_dir) / "model.safetensors"), framework="pt") as fh:
        return fh.get_tensor("embeddings.word_embeddings.weight").float()


def torch_reader(encoder_dir: Path, shards: list[Path]):
    """The reader as a torch model: its fp16 shards over the packaged encoder's frozen word embeddings."""
    from safetensors.torch import load_file

    model = build_qa_model(encoder_dir)
    state = {k: v.float() for shard in shards for k, v in load_file(str(shard)).items()}
    state[WORD_EMBEDDINGS] = load_word_embeddings(encoder_dir)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if "pooler" not in k]
    if missing or unexpected:
        raise RuntimeError(f"reader weights do not match the model: missing {missing}, extra {unexpected}")
    return model.eval()
