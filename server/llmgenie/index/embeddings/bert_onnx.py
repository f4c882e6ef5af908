"""Build a fused ONNX graph for a BERT sentence encoder straight from its safetensors weights.

Why by hand: no torch at run time, and writing onnxruntime's fused contrib ops directly
(EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu) gives the kernels
an exporter + optimizer pass would produce, without depending on pattern matching.
Mean pooling over the attention mask and L2 normalisation are part of the graph, so the
output is exactly what sentence-transformers returns for a Transformer+Pooling+Normalize stack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

OPSET = 18
MS_DOMAIN = "com.microsoft"
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
OUTPUT = "sentence_embedding"

Weights = Mapping[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class BertConfig:
    """The handful of BERT hyper-parameters the graph needs (from the model's config.json)."""

    hidden_size: int
    num_heads: int
    num_layers: int
    intermediate_size: int
    layer_norm_eps: float
    max_positions: int

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        """Read a Hugging Face BERT config.json; reject architectures the graph cannot express."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("model_type") != "bert":
            raise ValueError(f"{path}: model_type {raw.get('model_type')!r} is not 'bert'")
        if raw.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{path}: hidden_act {raw.get('hidden_act')!r} is not 'gelu'")
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: only absolute position embeddings are supported")
        return cls(
            hidden_size=int(raw["hidden_size"]),
            num_heads=int(raw["num_attention_heads"]),
            num_layers=int(raw["num_hidden_layers"]),
            intermediate_size=int(raw["intermediate_size"]),
            layer_norm_eps=float(raw.get("layer_norm_eps", 1e-12)),
            max_positions=int(raw["max_position_embeddings"]),
        )


def build_sentence_encoder(weights: Weights, config: BertConfig) -> Any:
    """Return an onnx.ModelProto: (input_ids, attention_mask) int32 [B, L] -> unit rows [B, H]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    initializers: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, array: npt.NDArray[Any]) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def w(key: str) -> npt.NDArray[np.float32]:
        return np.asarray(weights[key], dtype=np.float32)

    def linear_weight(key: str) -> npt.NDArray[np.float32]:
        # torch Linear stores [out, in]; MatMul wants [in, out].
        return np.ascontiguousarray(w(key).T)

    hidden = config.hidden_size
    # token_type_ids are always 0 for single sentences, so segment 0's embedding is folded
    # into the position table: one fewer gather and input per token.
    positions = (
        w("embeddings.position_embeddings.weight") + w("embeddings.token_type_embeddings.weight")[0]
    )
    nodes.append(
        helper.make_node(
            "EmbedLayerNormalization",
            [
                INPUT_IDS,
                "",
                const("word_embedding", w("embeddings.word_embeddings.weight")),
                const("position_embedding", positions),
                "",
                const("embed_gamma", w("embeddings.LayerNorm.weight")),
                const("embed_beta", w("embeddings.LayerNorm.bias")),
                ATTENTION_MASK,
            ],
            ["embedded", "mask_index"],
            domain=MS_DOMAIN,
            epsilon=config.layer_norm_eps,
            name="embed",
        )
    )
    x = "embedded"
    for i in range(config.num_layers):
        p = f"encoder.layer.{i}."
        qkv_weight = np.concatenate(
            [linear_weight(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")],
            axis=1,
        )
        qkv_bias = np.concatenate(
            [w(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")]
        )
        nodes.append(
            helper.make_node(
                "Attention",  # fused QKV projection + masked softmax attention
                [x, const(f"l{i}_qkv_w", qkv_weight), const(f"l{i}_qkv_b", qkv_bias), "mask_index"],
                [f"l{i}_attn"],
                domain=MS_DOMAIN,
                num_heads=config.num_heads,
                name=f"l{i}_attention",
            )
        )
        nodes.append(
            helper.make_node(
                "MatMul",
                [
                    f"l{i}_attn",
                    const(f"l{i}_attn_out_w", linear_weight(p + "attention.output.dense.weight")),
                ],
                [f"l{i}_attn_proj"],
                name=f"l{i}_attn_out",
            )
        )
        nodes.append(
            helper.make_node(
                "SkipLayerNormalization",
                [
                    f"l{i}_attn_proj",
                    x,
                    const(f"l{i}_ln1_g", w(p + "attention.output.LayerNorm.weight")),
                    const(f"l{i}_ln1_b", w(p + "attention.output.LayerNorm.bias")),
                    const(f"l{i}_attn_out_b", w(p + "attention.output.dense.bias")),
                ],
                [f"l{i}_h"],
                domain=MS_DOMAIN,
                epsilon=config.layer_norm_eps,
                name=f"l{i}_ln1",
            )
        )
        nodes.append(
            helper.make_node(
                "MatMul",
                [
                    f"l{i}_h",
                    const(f"l{i}_ffn_in_w", linear_weight(p + "intermediate.dense.weight")),
                ],
                [f"l{i}_ffn_mm"],
                name=f"l{i}_ffn_in",
            )
        )
        nodes.append(
            helper.make_node(
                "BiasGelu",  # exact (erf) GELU, as BERT's "gelu"
                [f"l{i}_ffn_mm", const(f"l{i}_ffn_in_b", w(p + "intermediate.dense.bias"))],
                [f"l{i}_ffn_act"],
                domain=MS_DOMAIN,
                name=f"l{i}_gelu",
            )
        )
        nodes.append(
            helper.make_node(
                "MatMul",
                [
                    f"l{i}_ffn_act",
                    const(f"l{i}_ffn_out_w", linear_weight(p + "output.dense.weight")),
                ],
                [f"l{i}_ffn_proj"],
                name=f"l{i}_ffn_out",
            )
        )
        nodes.append(
            helper.make_node(
                "SkipLayerNormalization",
                [
                    f"l{i}_ffn_proj",
                    f"l{i}_h",
                    const(f"l{i}_ln2_g", w(p + "output.LayerNorm.weight")),
                    const(f"l{i}_ln2_b", w(p + "output.LayerNorm.bias")),
                    const(f"l{i}_ffn_out_b", w(p + "output.dense.bias")),
                ],
                [f"l{i}_out"],
                domain=MS_DOMAIN,
                epsilon=config.layer_norm_eps,
                name=f"l{i}_ln2",
            )
        )
        x = f"l{i}_out"

    # Mean pooling: sum(hidden * mask) / max(sum(mask), eps), then divide by the L2 norm.
    nodes += [
        helper.make_node("Cast", [ATTENTION_MASK], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node(
            "Unsqueeze", ["mask_f", const("axis_last", np.array([-1], np.int64))], ["mask_3d"]
        ),
        helper.make_node("Mul", [x, "mask_3d"], ["masked"]),
        helper.make_node(
            "ReduceSum",
            ["masked", const("axis_seq", np.array([1], np.int64))],
            ["summed"],
            keepdims=0,
        ),
        helper.make_node("ReduceSum", ["mask_3d", "axis_seq"], ["count"], keepdims=0),
        helper.make_node(
            "Max", ["count", const("count_eps", np.array(1e-9, np.float32))], ["count_safe"]
        ),
        helper.make_node("Div", ["summed", "count_safe"], ["mean"]),
        helper.make_node(
            "ReduceL2", ["mean", const("axis_feat", np.array([1], np.int64))], ["norm"], keepdims=1
        ),
        helper.make_node(
            "Max", ["norm", const("norm_eps", np.array(1e-12, np.float32))], ["norm_safe"]
        ),
        helper.make_node("Div", ["mean", "norm_safe"], [OUTPUT]),
    ]

    graph = helper.make_graph(
        nodes,
        "sentence_encoder",
        inputs=[
            helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT32, ["batch", "seq"]),
            helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT32, ["batch", "seq"]),
        ],
        outputs=[helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", hidden])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)],
        producer_name="llmgenie",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)  # structure only; contrib ops are checked by onnxruntime
    return model
