"""Checks that a config can run *here*, made before any data or body is loaded.

:class:`orca.config.OrcaConfig` already refuses unknown keys, wrong types, values out of range and names that
are not registered (objectives, source recipes). What depends on the machine is checked here: whether the
device exists and whether the body can be had (a registered name, a local model folder, or a hub id that is
cached or reachable). Nothing is downloaded, unpacked or converted.
"""

from __future__ import annotations

import torch

from .config import OrcaConfig
from .exceptions import ConfigError


def check_device(device: str) -> None:
    """``device='cuda'`` needs a CUDA device on this machine."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but this machine has no CUDA device; "
                          "use device='auto' (CUDA when available) or device='cpu'")


def check_runnable(config: OrcaConfig, *, body_given: bool = False) -> None:
    """Fail at once, saying what is allowed, if ``config`` cannot run on this machine.

    Parameters
    ----------
    config : OrcaConfig
    body_given : bool
        The caller passes a loaded body, so ``config.body.name`` is a label, not something to load.

    Raises
    ------
    ConfigError
        A device this machine does not have.
    BodyUnavailableError
        A body that is neither registered, nor a model folder, nor a hub id that is cached or reachable.
    """
    from .bodies import resolve

    check_device(config.device)
    if not body_given:
        resolve(config.body.name, fetch=False)
