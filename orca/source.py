"""Source ("in-modality") features for stage 2: labelled data of the body's pretraining modality, passed
through the body's *own* embedding layer and mean-pooled over tokens, as the paper does.

=================  =======  ========  =================================================================
recipe             body     network   data
=================  =======  ========  =================================================================
``pydoc-topics``   text     offline   English prose of the Python documentation in the standard library's
                                      ``pydoc_data.topics``: sentences of the 10 largest topics, labelled by
                                      topic (always present with Python, licence PSF, no download)
``conll2003``      text     online    CoNLL-2003 entity chunks labelled by entity type (PER, ORG, LOC, MISC)
                                      plus single 'O' tokens, via Hugging Face ``datasets`` (the paper used
                                      CoNLL chunks through interpret_bert)
``skimage-crops``  vision   offline   random crops of 10 natural images bundled with scikit-image, labelled by
                                      source image, resized to the body's input size, no augmentation
``cifar10``        vision   online    CIFAR-10 training images (no train-time augmentation, unlike the
                                      reference code), via Hugging Face ``datasets``
=================  =======  ========  =================================================================

Features are cached on disk under a key of (body weights, recipe, sample count, seed, recipe version), so a
second run reuses them (``SourceFeatures.from_cache``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import numpy as np
import torch

from .align import SourceFeatures
from .bodies import Body, cache_root
from .exceptions import ConfigError, DataError, require
from .io import torch_save

RECIPE_VERSION = 1
SKIMAGE_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "camera", "hubble_deep_field", "retina",
                  "immunohistochemistry", "coins", "moon")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ---- text ---------------------------------------------------------------------------------------------------
def pydoc_topic_sentences(n_classes: int = 10, min_words: int = 5) -> tuple[list[str], np.ndarray]:
    """Sentences of the ``n_classes`` largest topics of ``pydoc_data.topics``, labelled by topic."""
    from pydoc_data.topics import topics

    largest = sorted(topics, key=lambda k: len(topics[k]), reverse=True)[:n_classes]
    texts, labels = [], []
    for label, name in enumerate(sorted(largest)):
        body = re.sub(r"\s+", " ", topics[name])
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            if len(sentence.split()) >= min_words:
                texts.append(sentence.strip())
                labels.append(label)
    return texts, np.asarray(labels)


def conll2003_chunks() -> tuple[list[str], np.ndarray]:  # pragma: no cover - needs the network
    """Entity chunks of CoNLL-2003 (train) labelled by type, plus 'O' tokens as a fifth class."""
    datasets = require("datasets", "online", "The conll2003 source recipe")
    data = datasets.load_dataset("conll2003", split="train")
    names = data.features["ner_tags"].feature.names
    types = ["PER", "ORG", "LOC", "MISC", "O"]
    texts, labels = [], []
    for tokens, tags in zip(data["tokens"], data["ner_tags"]):
        current, kind = [], None
        for token, tag in zip(tokens, (names[t] for t in tags)):
            if tag.startswith("B-") or tag == "O" or (tag.startswith("I-") and tag[2:] != kind):
                if current:
                    texts.append(" ".join(current)), labels.append(types.index(kind))
                current, kind = ([token], tag[2:]) if tag != "O" else ([], None)
                if tag == "O":
                    texts.append(token), labels.append(types.index("O"))
            else:
                current.append(token)
        if current:
            texts.append(" ".join(current)), labels.append(types.index(kind))
    return texts, np.asarray(labels)


@torch.no_grad()
def embed_texts(body: Body, texts: list[str], batch_size: int = 64, max_tokens: int = 64) -> torch.Tensor:
    """Mean over non-padding tokens of the body's own embedding layer (positions included): ``(N, d)``."""
    from transformers import AutoTokenizer

    path = body.path
    if path is None:
        raise ConfigError(f"text source features need body {body.name!r}'s tokenizer, but the body was built "
                          "in memory with no folder; give source features yourself, or use align.objective='none'")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"text source features need body {body.name!r}'s tokenizer, and none loads from {path} "
                          f"({type(exc).__name__}); give source features yourself, or use align.objective='none'"
                          ) from exc
    emb = body.original_embeddings
    out = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(texts[start : start + batch_size], padding=True, truncation=True, max_length=max_tokens,
                        return_tensors="pt")
        vocab = emb.word_embeddings.num_embeddings
        if int(enc["input_ids"].max()) >= vocab:
            raise ConfigError(f"the tokenizer at {path} emits ids beyond the body's vocabulary of {vocab}")
        tokens = emb(input_ids=enc["input_ids"])  # (B, T, d)
        mask = enc["attention_mask"].unsqueeze(-1).to(tokens.dtype)  # (B, T, 1)
        out.append((tokens * mask).sum(1) / mask.sum(1))
    return torch.cat(out)


# ---- images -------------------------------------------------------------------------------------------------
def skimage_crops(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random square crops (side 30-60 % of the shorter image side) of the bundled images, resized to
    ``size``, as float32 ``(n, 3, size, size)`` in [0, 1], labelled by image."""
    data = require("skimage.data", "vision", "The skimage-crops source recipe")
    transform = require("skimage.transform", "vision", "The skimage-crops source recipe")
    rng = np.random.default_rng(seed)
    images = []
    for name in SKIMAGE_IMAGES:
        im = getattr(data, name)().astype(np.float32)
        im = im / 255.0 if im.max() > 1 else im
        images.append(np.repeat(im[..., None], 3, axis=2) if im.ndim == 2 else im[..., :3])
    labels = np.arange(n) % len(images)
    crops = np.empty((n, 3, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        im = images[label]
        side = int(min(im.shape[:2]) * rng.uniform(0.3, 0.6))
        top = rng.integers(0, im.shape[0] - side + 1)
        left = rng.integers(0, im.shape[1] - side + 1)
        crop = transform.resize(im[top : top + side, left : left + side], (size, size), anti_aliasing=True)
        crops[i] = crop.transpose(2, 0, 1)  # (H, W, 3) -> (3, H, W)
    return crops, labels


def cifar10_images(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - online
    datasets = require("datasets", "online", "The cifar10 source recipe")
    data = datasets.load_dataset("cifar10", split="train").shuffle(seed=seed).select(range(n))
    images = np.stack([np.asarray(im, dtype=np.float32) / 255.0 for im in data["img"]]).transpose(0, 3, 1, 2)
    images = torch.nn.functional.interpolate(torch.from_numpy(images), size=(size, size), mode="bilinear",
                                             align_corners=False).numpy()
    return images, np.asarray(data["label"])


@torch.no_grad()
def embed_images(body: Body, images: np.ndarray, batch_size: int = 32) -> torch.Tensor:
    """Mean over tokens of the body's own patch embedding of ImageNet-normalised images: ``(N, d)``."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    out = []
    for start in range(0, len(images), batch_size):
        x = (torch.from_numpy(images[start : start + batch_size]) - mean) / std
        tokens = body.original_embeddings(x)
        tokens = tokens[0] if isinstance(tokens, tuple) else tokens  # Swin returns (tokens, grid)
        out.append(tokens.mean(1))
    return torch.cat(out)


def _image_size(body: Body) -> int:
    size = getattr(body.model.config, "image_size", 224)
    size = size[0] if isinstance(size, (list, tuple)) else int(size)
    return min(size, 224)


# ---- recipes and the cache ----------------------------------------------------------------------------------
def _text_recipe(loader: Callable[[], tuple[list[str], np.ndarray]]):
    def build(body: Body, n: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
        texts, labels = loader()
        idx = _balanced(labels, n, seed)
        return embed_texts(body, [texts[i] for i in idx]), labels[idx]

    return build


def _image_recipe(loader: Callable[[int, int, int], tuple[np.ndarray, np.ndarray]]):
    def build(body: Body, n: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
        images, labels = loader(n, _image_size(body), seed)
        return embed_images(body, images), labels

    return build


RECIPES = {
    "pydoc-topics": ("text", True, _text_recipe(pydoc_topic_sentences)),
    "conll2003": ("text", False, _text_recipe(conll2003_chunks)),
    "skimage-crops": ("vision", True, _image_recipe(skimage_crops)),
    "cifar10": ("vision", False, _image_recipe(cifar10_images)),
}
DEFAULT_RECIPE = {"text": "pydoc-topics", "vision": "skimage-crops"}


def _balanced(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` indices, as equal per class as the data allow, seeded."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_class = {c: rng.permutation(np.flatnonzero(labels == c)) for c in classes}
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n and any(depth < len(v) for v in per_class.values()):
        chosen.extend(int(v[depth]) for v in per_class.values() if depth < len(v))
        depth += 1
    return np.sort(np.asarray(chosen[:n]))


def body_fingerprint(body: Body) -> str:
    """Hash of the body's embedding-layer weights: what source features depend on."""
    digest = hashlib.sha256(body.family.encode())
    for name, tensor in sorted(body.original_embeddings.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def source_features(body: Body, recipe: str = "auto", n_samples: int = 2000, seed: int = 0,
                    use_cache: bool = True) -> SourceFeatures:
    """Labelled source features ``(M, d_in)`` for ``body``, built once and cached on disk.

    Raises
    ------
    ConfigError
        For an unknown recipe or one of the other modality than the body's.
    """
    if recipe == "auto":
        recipe = DEFAULT_RECIPE[body.modality]
    if recipe not in RECIPES:
        raise ConfigError(f"unknown source recipe {recipe!r}; expected one of {sorted(RECIPES)} or 'auto'")
    modality, offline, build = RECIPES[recipe]
    if modality != body.modality:
        raise ConfigError(f"source recipe {recipe!r} is for {modality} bodies; body {body.name!r} is {body.modality}")
    key = f"{recipe}-n{n_samples}-s{seed}-v{RECIPE_VERSION}-{body_fingerprint(body)}"
    path = cache_root() / "source" / f"{key}.pt"
    if use_cache and path.is_file():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        return SourceFeatures(saved["features"], saved["labels"], recipe, from_cache=True, cache_path=str(path))
    features, labels = build(body, n_samples, seed)
    features = features.float()
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if not torch.isfinite(features).all():
        raise DataError(f"source recipe {recipe!r} produced non-finite features")
    if use_cache:
        torch_save(path, {"features": features, "labels": labels_t, "recipe": recipe, "offline": offline})
    return SourceFeatures(features, labels_t, recipe, from_cache=False, cache_path=str(path) if use_cache else None)
