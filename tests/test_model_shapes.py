"""Every embedder x predictor x input rank: output shape, backward, and no unused parameters."""

from __future__ import annotations

import pytest
import torch

from orca import OrcaConfig, Task, build
from orca.embedders import stride_rule
from orca.exceptions import ConfigError


def _check(model, x: torch.Tensor, expected: tuple[int, ...]) -> None:
    out = model(x)
    assert tuple(out.shape) == expected
    out.float().pow(2).mean().backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not unused, f"{len(unused)} parameters were unused: {unused[:5]}"


CASES = [
    # (id, task, input batch shape, output batch shape, head)
    ("table-cls", Task("t", (7,), "classification", (3,)), (4, 7), (4, 3), "linear"),
    ("table-reg", Task("t", (7,), "regression", (2,)), (4, 7), (4, 2), "linear"),
    ("seq-cls", Task("t", (2, 40), "classification", (5,)), (3, 2, 40), (3, 5), "linear"),
    ("seq-multilabel", Task("t", (4, 30), "multilabel", (6,)), (3, 4, 30), (3, 6), "linear"),
    ("seq-dense", Task("t", (1, 37), "dense", (2, 37)), (3, 1, 37), (3, 2, 37), "linear"),
    ("seq-dense-pool", Task("t", (1, 48), "dense", (1, 48)), (3, 1, 48), (3, 1, 48), "pool"),
    ("img-cls", Task("t", (3, 20, 18), "classification", (4,)), (2, 3, 20, 18), (2, 4), "linear"),
    ("img-dense", Task("t", (1, 17, 17), "dense", (1, 17, 17)), (2, 1, 17, 17), (2, 1, 17, 17), "linear"),
    ("img-dense-pool", Task("t", (2, 16, 16), "dense", (3, 16, 16)), (2, 2, 16, 16), (2, 3, 16, 16), "pool"),
]


@pytest.mark.parametrize("family", ["bert", "roberta"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_text_body_every_rank(tiny_body, family, case) -> None:
    _, task, in_shape, out_shape, head = case
    cfg = OrcaConfig().with_overrides({"embedder.target_seq_len": 16, "predictor.head": head})
    model = build(task, cfg, tiny_body(family))
    if task.input_kind == "sequence":
        assert model.embedder.n_tokens <= 16
    _check(model, torch.randn(*in_shape), out_shape)


@pytest.mark.parametrize("mode", ["tokenizer", "paper"])
def test_tabular_with_categoricals_and_missing(tiny_body, mode) -> None:
    task = Task("t", (5,), "classification", (2,), categorical=(1, 3), cardinalities=(3, 4))
    cfg = OrcaConfig().with_overrides({"embedder.tabular_mode": mode})
    model = build(task, cfg, tiny_body("bert"))
    x = torch.randn(6, 5)
    x[:, 1] = torch.tensor([0, 1, 2, 0, 1, float("nan")])
    x[:, 3] = torch.tensor([3, 2, 1, 0, float("nan"), 0])
    x[0, 0] = float("nan")
    _check(model, x, (6, 2))
    expected_tokens = 5  # one per column in both modes once a categorical column exists
    assert model.embedder.n_tokens == expected_tokens


def test_paper_numeric_table_is_one_token(tiny_body) -> None:
    """The reference encoding turns a numeric-only table into F channels of length 1: a single token."""
    task = Task("t", (9,), "classification", (2,))
    model = build(task, OrcaConfig().with_overrides({"embedder.tabular_mode": "paper"}), tiny_body("bert"))
    assert model.embedder.n_tokens == 1
    _check(model, torch.randn(4, 9), (4, 2))


IMAGE_CASES = [c for c in CASES if c[0].startswith("img")]


@pytest.mark.parametrize("family", ["dinov2", "swin"])
@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_vision_body_images(tiny_body, family, case) -> None:
    _, task, in_shape, out_shape, head = case
    model = build(task, OrcaConfig().with_overrides({"predictor.head": head}), tiny_body(family))
    _check(model, torch.randn(*in_shape), out_shape)


def test_vision_body_with_resize(tiny_body) -> None:
    task = Task("t", (3, 50, 60), "dense", (1, 50, 60))
    model = build(task, OrcaConfig().with_overrides({"embedder.resize": 32}), tiny_body("swin"))
    assert model.embedder.grid == (8, 8)
    _check(model, torch.randn(2, 3, 50, 60), (2, 1, 50, 60))


def test_vision_body_rejects_sequences(tiny_body) -> None:
    with pytest.raises(ConfigError, match="need a text body"):
        build(Task("t", (1, 32), "classification", (2,)), OrcaConfig(), tiny_body("dinov2"))


def test_too_many_tokens_is_an_error(tiny_body) -> None:
    task = Task("t", (200,), "classification", (2,))  # 200 features > 128 positions of the tiny BERT
    with pytest.raises(ConfigError, match="positions"):
        build(task, OrcaConfig(), tiny_body("bert"))


@pytest.mark.parametrize("length,target,expected", [
    (1000, 64, (20, 1000)),   # ECG in the paper: 50 tokens
    (1000, 512, (2, 1000)),   # DeepSEA: 500 tokens
    (46, 512, (1, 46)),       # Satellite: every value a token
    (3072, 128, (24, 3072)),  # 1D CFD
    (1009, 64, (16, 1024)),   # prime length: padded to 64 tokens instead of 1 token of stride 1009
    (1, 128, (1, 1)),         # the paper's numeric table
])
def test_stride_rule(length, target, expected) -> None:
    assert stride_rule(length, target) == expected


def test_stride_rule_without_padding_keeps_the_paper_rule() -> None:
    assert stride_rule(1009, 64, pad_awkward=False) == (1009, 1009)


def test_embedder_initialised_from_text_body(tiny_body) -> None:
    body = tiny_body("roberta")
    model = build(Task("t", (1, 12), "classification", (2,)), OrcaConfig(), body)
    emb = body.original_embeddings
    n = model.embedder.n_tokens
    # RoBERTa positions start at padding_idx + 1 = 2; BERT-style token type 0 is folded in
    expected = emb.position_embeddings.weight[2 : 2 + n] + emb.token_type_embeddings.weight[0]
    torch.testing.assert_close(model.embedder.tail.pos.data, expected)
    torch.testing.assert_close(model.embedder.tail.norm.weight.data, emb.LayerNorm.weight)


def test_image_kernel_tiled_from_vision_body(tiny_body) -> None:
    body = tiny_body("swin")
    model = build(Task("t", (5, 16, 16), "classification", (2,)), OrcaConfig(), body)
    w = body.original_embeddings.patch_embeddings.projection.weight  # (D, 3, P, P)
    conv = model.embedder.conv.weight  # (D, 5, P, P): channels 0,1,2,0,1
    torch.testing.assert_close(conv[:, :3], w)
    torch.testing.assert_close(conv[:, 3:5], w[:, :2])


@pytest.mark.parametrize("out_shape", [(2, 50), (2, 20, 18)])
def test_seam_smoother_starts_as_the_plain_head_and_learns(out_shape) -> None:
    """``predictor.smooth = 3``: at initialisation the head's output equals the head without it (same token
    weights), the convolution receives gradients, and once its taps average neighbours the jump at a patch seam
    shrinks. ``smooth = 0`` adds no parameters, so model files written before the setting existed still load."""
    from orca.config import PredictorConfig
    from orca.predictors import build_predictor

    task = Task("field", (2, *out_shape[1:]), "dense", out_shape)
    grid = (4, 3) if len(out_shape) == 3 else None
    tokens = 12 if grid else 10
    torch.manual_seed(0)
    plain = build_predictor(task, 16, tokens, grid, PredictorConfig())
    smooth = build_predictor(task, 16, tokens, grid, PredictorConfig(smooth=3))
    assert set(plain.state_dict()) == {"values.linear.weight", "values.linear.bias"}
    smooth.values.load_state_dict(plain.values.state_dict())
    hidden = torch.randn(3, tokens, 16)
    out = smooth(hidden, grid)
    assert out.shape == (3, *out_shape)
    assert torch.allclose(out, plain(hidden, grid), atol=1e-6)  # the identity at the start
    out.square().sum().backward()
    assert smooth.smooth.weight.grad is not None and smooth.smooth.weight.grad.abs().sum() > 0
    with torch.no_grad():  # a box filter: the largest jump between neighbouring outputs falls
        smooth.smooth.weight.zero_()
        for c in range(out_shape[0]):
            smooth.smooth.weight[c, c] = 1.0 / smooth.smooth.weight[c, c].numel()
    jump = lambda y: (y[..., 1:] - y[..., :-1]).abs().max()  # noqa: E731
    assert jump(smooth(hidden, grid)) < jump(plain(hidden, grid))


@pytest.mark.parametrize("bad", [1, 2, 4, -3, True, 3.0])
def test_predictor_smooth_must_be_an_odd_kernel(bad) -> None:
    with pytest.raises(ConfigError, match=r"predictor.smooth=.*expected (0 \(none\) or an odd kernel size >= 3|int)"):
        OrcaConfig().with_overrides({"predictor.smooth": bad})
