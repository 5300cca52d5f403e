"""A linear map between fields on their lowest Fourier modes: the predictor's optional input skip.

``predictor.skip_modes = m`` adds to a dense head's output ``S(x)``, where ``x`` is the model's input field and
``S`` multiplies the lowest ``m`` Fourier modes of each input channel (per axis; in 2D both signs of the first
axis' frequency, as FNO's spectral convolution keeps them) by learned complex ``C_in x C_out`` matrices, transforms
back and adds a learned bias field; every other mode of the linear part is zero. Weights and bias start at zero;
:meth:`SpectralSkip.fit_least_squares` sets them to the ridge least-squares affine map from the training inputs'
low modes to the targets', which the pipeline does before stage 3 (a linear warm start: the predictor's learning
rate would need about a thousand steps to grow a unit weight from zero). A dense head with the skip starts its own
linear map at zero, so stage 3 begins from exactly that fit.

Why: the error analysis of the PDE tasks (docs/pdebench.md) puts most of ORCA's error in the low Fourier band, the
solution's large-scale shape, which a patch-per-token head must assemble through attention; a linear operator on
the low modes represents such maps directly (for advection, a shift, exactly). The skip is linear, so whatever ORCA
gains over the skip alone (the PDE suite's ``spectral-linear`` baseline) is the body's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class SpectralSkip(nn.Module):
    """``(B, C_in, *space) -> (B, C_out, *space)``: a linear map on the lowest ``modes`` Fourier modes.

    Parameters
    ----------
    in_channels, out_channels : int
    space : tuple of int
        The spatial shape (1 or 2 axes) shared by input and output.
    modes : int
        Modes kept per axis (fewer where the grid has fewer: ``L // 2 + 1`` on the last axis, ``H // 2`` per
        sign on the first axis of a 2D field).
    """

    def __init__(self, in_channels: int, out_channels: int, space: tuple[int, ...], modes: int) -> None:
        super().__init__()
        if len(space) not in (1, 2):
            raise ValueError(f"a spectral skip needs 1 or 2 spatial axes, got the shape {tuple(space)}")
        if modes < 1:
            raise ValueError(f"modes={modes}; expected at least 1")
        self.space = tuple(int(s) for s in space)
        self.m_last = min(modes, self.space[-1] // 2 + 1)
        self.m_first = min(modes, self.space[0] // 2) if len(space) == 2 else 0
        if len(space) == 2 and self.m_first < 1:
            raise ValueError(f"a 2D spectral skip needs at least 2 points on the first axis, got {self.space}")
        blocks = (2, self.m_first) if len(space) == 2 else ()  # 2D: positive and negative first-axis frequencies
        # real view of complex weights (..., 2): optimisers and checkpoints see plain float tensors
        self.weight = nn.Parameter(torch.zeros(in_channels, out_channels, *blocks, self.m_last, 2))
        self.bias = nn.Parameter(torch.zeros(out_channels, *self.space))  # a field added to the output

    def low_modes(self, x: torch.Tensor) -> torch.Tensor:
        """The kept Fourier modes of fields ``(B, C, *space)``: ``(B, C, m)`` in 1D, ``(B, C, 2, m1, m)`` in 2D
        (block 0: the first axis' non-negative frequencies, block 1: its negative ones)."""
        if tuple(x.shape[2:]) != self.space:
            raise ValueError(f"the spectral skip was built for fields of shape {self.space}, got {tuple(x.shape[2:])}")
        xf = torch.fft.rfftn(x, dim=tuple(range(2, x.ndim)), norm="ortho")  # (B, C, [H,] L // 2 + 1)
        m = self.m_last
        if x.ndim == 3:
            return xf[..., :m]
        m1 = self.m_first
        return torch.stack([xf[:, :, :m1, :m], xf[:, :, -m1:, :m]], dim=2)  # (B, C, 2, m1, m)

    def from_low_modes(self, zf: torch.Tensor) -> torch.Tensor:
        """Fields ``(B, C, *space)`` whose kept modes are ``zf`` (shaped as :meth:`low_modes` returns) and whose
        other modes are zero."""
        full = (*zf.shape[:2], *self.space[:-1], self.space[-1] // 2 + 1)
        out = zf.new_zeros(full)  # (B, C, [H,] L // 2 + 1)
        m = self.m_last
        if zf.ndim == 3:
            out[..., :m] = zf
        else:
            m1 = self.m_first
            out[:, :, :m1, :m] = zf[:, :, 0]
            out[:, :, -m1:, :m] = zf[:, :, 1]
        return torch.fft.irfftn(out, s=self.space, dim=tuple(range(2, out.ndim)), norm="ortho")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = self.low_modes(x.float())  # (B, C_in, [2, m1,] m); FFTs in fp32, also under bf16 autocast
        w = torch.view_as_complex(self.weight)  # (C_in, C_out, [2, m1,] m)
        return self.from_low_modes(torch.einsum("bi...,io...->bo...", xf, w)) + self.bias

    def warm_start(self, X: np.ndarray, y: np.ndarray) -> None:
        """The pipeline's warm start before stage 3: :meth:`fit_least_squares` with its defaults."""
        self.fit_least_squares(X, y)

    @torch.no_grad()
    def fit_least_squares(self, X: np.ndarray, y: np.ndarray, ridge: float = 1e-4, batch_size: int = 256) -> None:
        """Set the weights to the ridge least-squares map from the kept modes of ``X`` to those of ``y`` (both
        centred on their training means), one ``C_in x C_out`` complex system per mode, and the bias to the
        intercept field ``mean(y) - S(mean(X))``: the best affine operator on the low band for these fields.

        Parameters
        ----------
        X : ndarray, shape (N, C_in, *space)
        y : ndarray, shape (N, C_out, *space)
        ridge : float
            Added to each mode's Gram matrix as ``ridge`` times its mean diagonal (plus 1e-12), so that modes the
            inputs barely excite get small weights rather than large ones.
        batch_size : int
            Fields transformed at a time (the Gram matrices are accumulated).
        """
        if len(X) != len(y) or tuple(X.shape[2:]) != self.space or tuple(y.shape[2:]) != self.space:
            raise ValueError(f"expected X (N, C_in, *{self.space}) and y (N, C_out, *{self.space}), got "
                             f"{tuple(X.shape)} and {tuple(y.shape)}")
        x_mean = torch.as_tensor(np.mean(X, axis=0, dtype=np.float64))[None]  # (1, C_in, *space)
        y_mean = torch.as_tensor(np.mean(y, axis=0, dtype=np.float64))[None]  # (1, C_out, *space)
        gram = cross = None
        for i in range(0, len(X), batch_size):
            xf = self.low_modes(torch.as_tensor(X[i:i + batch_size], dtype=torch.float64) - x_mean)  # (B, C_in, *m)
            yf = self.low_modes(torch.as_tensor(y[i:i + batch_size], dtype=torch.float64) - y_mean)  # (B, C_out, *m)
            xm, ym = xf.movedim((0, 1), (-2, -1)), yf.movedim((0, 1), (-2, -1))  # (*modes, B, C)
            g, c = xm.mH @ xm, xm.mH @ ym  # (*modes, C_in, C_in), (*modes, C_in, C_out)
            gram, cross = (g, c) if gram is None else (gram + g, cross + c)
        eye = torch.eye(gram.shape[-1], dtype=gram.dtype)
        scale = gram.diagonal(dim1=-2, dim2=-1).real.mean(-1)[..., None, None]  # (*modes, 1, 1)
        w = torch.linalg.solve(gram + (ridge * scale + 1e-12) * eye, cross)  # (*modes, C_in, C_out)
        w = w.movedim((-2, -1), (0, 1)).to(torch.cfloat)  # (C_in, C_out, *modes)
        self.weight.copy_(torch.view_as_real(w))
        self.bias.zero_()
        self.bias.copy_((y_mean - self(x_mean.float())).squeeze(0))
