"""FSD50K's audio front end: 16-bit WAV reading, 1-second chunks, and the log-mel spectrogram (96 mel bands,
22 050 Hz) the task's inputs are made of, as NAS-Bench-360's ``AudioParser(feature="melspectrogram")`` computes it
(checked against torchaudio's and librosa's own functions in ``tests/test_reference_scoring.py``)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from orca.exceptions import DataError

SR = 22050
N_FFT, WIN, HOP, N_MELS = 1920, 661, 220, 96


def mel_filterbank(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular mel filters (n_mels, n_fft // 2 + 1) on the HTK mel scale, ``2595 log10(1 + f / 700)``, without
    area normalisation, from 0 Hz to ``sr // 2``: what NAS-Bench-360's front end gets from torchaudio's
    ``MelSpectrogram`` defaults (``mel_scale="htk"``, ``norm=None``)."""

    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)

    freqs = np.linspace(0, sr // 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr // 2), n_mels + 2))
    lower = (freqs[None, :] - edges[:-2, None]) / (edges[1:-1] - edges[:-2])[:, None]
    upper = (edges[2:, None] - freqs[None, :]) / (edges[2:] - edges[1:-1])[:, None]
    return np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)


def log_mel(audio: np.ndarray, fb: np.ndarray | None = None) -> np.ndarray:
    """(96, frames) log-mel of a 22 050 Hz signal: centred STFT (n_fft 1920, Hann window 661 zero-padded to
    1920, hop 220), power mel, 10·log10 with a 1e-10 floor and an 80 dB range below the maximum, +75, minus the
    chunk's mean."""
    fb = mel_filterbank() if fb is None else fb
    window = np.zeros(N_FFT)
    lead = (N_FFT - WIN) // 2
    window[lead:lead + WIN] = np.hanning(WIN + 1)[:-1]  # periodic Hann, centred in the FFT frame
    padded = np.pad(np.asarray(audio, dtype=np.float64), N_FFT // 2, mode="reflect")
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]  # (T, n_fft)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2  # (T, n_fft // 2 + 1)
    db = 10.0 * np.log10(np.maximum(fb @ power.T, 1e-10))  # (96, T)
    db = np.maximum(db, db.max() - 80.0) + 75.0
    return (db - db.mean()).astype(np.float32)


def read_wav(path: Path) -> np.ndarray:
    """Mono float samples of a 16-bit PCM WAV at 22 050 Hz (the rate the chunks were written at)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != SR:
            raise DataError(f"{path}: expected 16-bit PCM at {SR} Hz, got {8 * w.getsampwidth()}-bit at "
                            f"{w.getframerate()} Hz")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        return data.reshape(-1, w.getnchannels()).mean(axis=1)


def clip_chunks(audio: np.ndarray, seconds: float = 1.0) -> list[np.ndarray]:
    """Non-overlapping chunks of ``seconds``; a clip shorter than one chunk is tiled to fill it, and a shorter
    last chunk is dropped unless it is the only one."""
    n = int(SR * seconds)
    if len(audio) < n:
        audio = np.tile(audio, int(np.ceil(n / max(1, len(audio)))))[:n]
    return [audio[i:i + n] for i in range(0, len(audio) - n + 1, n)]
