"""The reader's ONNX export (torch code), run by `embeddings.onnx_models.cached_export` in a child process the
first time a machine serves a reader: a serving process imports no torch."""

from __future__ import annotations

from pathlib import Path

from qa.reading.reader import reader_shards
from qa.reading.torch_model import torch_reader


def export_reader(encoder_dir: Path, artefact_dir: Path, path: Path) -> None:
    """The reader's span head to ONNX (run by `cached_export` in a child process)."""
    import torch

    from embeddings.onnx_models import export_module

    class SpanHead(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds, attention_mask):
            out = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
            return out.start_logits, out.end_logits

    body = SpanHead(torch_reader(encoder_dir, reader_shards(artefact_dir)))
    example = (torch.zeros(1, 8, body.model.config.hidden_size), torch.ones(1, 8, dtype=torch.int64))
    export_module(body, example, ["inputs_embeds", "attention_mask"], ["start_logits", "end_logits"], path)
