"""Exception types. Each subclasses the built-in that callers would otherwise catch."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SkNotFittedError


class OrcaError(Exception):
    """Base class of every orca error."""


class UnknownNameError(OrcaError, ValueError):
    """A registry name (task, body, objective, metric, ...) that does not exist."""


class ConfigError(OrcaError, ValueError):
    """A configuration that is malformed: unknown key, wrong type, value out of range."""


class DataError(OrcaError, ValueError):
    """Input data of the wrong rank, shape, dtype or content (NaN, unseen labels, empty classes)."""


class BodyUnavailableError(OrcaError, OSError):
    """A pretrained body that cannot be loaded here (no network, missing package or file)."""


class MissingDependencyError(OrcaError, ImportError):
    """An optional dependency that is not installed; the message says which extra provides it."""


class DivergenceError(OrcaError, FloatingPointError):
    """Training produced a non-finite loss, gradient or weight; the message names the setting to change."""


class NotFittedError(OrcaError, _SkNotFittedError):
    """An estimator used before ``fit``."""


def require(module: str, extra: str, purpose: str):
    """Import an optional module or raise :class:`MissingDependencyError` with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional package '{module}'; install it with: pip install 'orca-xmodal[{extra}]'"
        ) from exc
