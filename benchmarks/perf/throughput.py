"""Refine-step throughput of a body (MiniLM by default; ``--body mpnet`` for the RoBERTa-sized one), compared with
a plain fp32 matrix product in the same process.

One refine step = forward, backward and AdamW update of the whole model (embedder, 6-layer MiniLM body, head)
at batch 32 x 128 tokens. Achieved GFLOP/s counts the transformer's matrix work analytically
(per token and layer: 24 d^2 for projections and FFN plus 4 n d for attention, forward; backward twice that).
The reference is a (B*n x d) @ (d x 4d) fp32 matmul, the body's largest GEMM shape, timed in the same process
right after, so machine noise affects both alike. Goal: ratio >= 0.5 and peak memory under 4 GB. Two
configurations are measured in the same run: orca's default (attention dropout off, ``body.attention_dropout=0``,
which lets the fused attention kernel run; hidden dropout as pretrained) and the pretrained dropout everywhere
(attention dropout 0.1).

Further variants in the same run: AdamW's fused CPU kernel (``fused``) and bf16 autocast of the forward pass
(``bf16``, what ``refine.mixed_precision=bf16`` does), both with attention dropout off.

    python -m benchmarks.perf.throughput [--body minilm|mpnet] [--steps 5] [--batch 32] [--tokens 128] [--json out.json]
"""

from __future__ import annotations

import argparse
import time

import torch

from orca import OrcaConfig, Task, build
from orca.bodies import load_body
from orca.io import write_json
from orca.provenance import environment, peak_memory_mb


def model_flops(batch: int, tokens: int, width: int, layers: int) -> float:
    """Floating-point operations of one forward + backward pass through the encoder layers."""
    per_token_layer = 24 * width**2 + 4 * tokens * width
    return 3.0 * batch * tokens * layers * per_token_layer


def time_matmul(rows: int, width: int, repeats: int = 20) -> float:
    """GFLOP/s of a fp32 (rows x width) @ (width x 4 width) product (median of ``repeats``)."""
    a, b = torch.randn(rows, width), torch.randn(width, 4 * width)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    times.sort()
    return 2.0 * rows * width * 4 * width / times[len(times) // 2] / 1e9


def time_steps(model, batch: int, tokens: int, steps: int, fused: bool = False, bf16: bool = False) -> float:
    """Median seconds of ``steps`` training steps (forward, backward, AdamW) after one warm-up step."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=fused or None)
    x = torch.randn(batch, 1, tokens)
    y = torch.randint(0, 2, (batch,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = torch.nn.functional.cross_entropy(out.float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up (allocations, optimiser state)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--body", default="minilm", help="a registered body (minilm, mpnet, ...)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    args = parser.parse_args(argv)

    width = load_body(args.body).model.config.hidden_size
    reference = time_matmul(args.batch * args.tokens, width)
    results = {}
    variants = (("default (attn. 0)", 0.0, False, False), ("pretrained (attn. 0.1)", None, False, False),
                ("fused AdamW", 0.0, True, False), ("bf16 autocast", 0.0, False, True))
    for label, attention_dropout, fused, bf16 in variants:
        body = load_body(args.body, attention_dropout=attention_dropout)
        task = Task("throughput", (1, args.tokens), "classification", (2,))
        model = build(task, OrcaConfig().with_overrides({"embedder.target_seq_len": args.tokens}), body)
        assert model.embedder.n_tokens == args.tokens
        seconds = time_steps(model, args.batch, args.tokens, args.steps, fused=fused, bf16=bf16)
        cfg = body.model.config
        achieved = model_flops(args.batch, args.tokens, cfg.hidden_size, cfg.num_hidden_layers) / seconds / 1e9
        results[label] = {"step_seconds_median": seconds, "tokens_per_second": args.batch * args.tokens / seconds,
                          "achieved_gflops": achieved, "ratio": achieved / reference}
    reference = max(reference, time_matmul(args.batch * args.tokens, width))  # again, after: the faster of two
    peak_gb = peak_memory_mb() / 1024
    print(f"{args.body} refine step (fwd + bwd + AdamW), batch {args.batch} x {args.tokens} tokens, "
          f"{torch.get_num_threads()} threads; fp32 matmul {reference:.1f} GFLOP/s "
          f"({args.batch * args.tokens}x{width} @ {width}x{4 * width}, best of two measurements):")
    for label, r in results.items():
        r["ratio"] = r["achieved_gflops"] / reference
        print(f"  {label:22s} {r['step_seconds_median']:.3f} s/step  {r['tokens_per_second']:6.0f} tokens/s  "
              f"{r['achieved_gflops']:6.1f} GFLOP/s  ratio {r['ratio']:.2f} (goal >= 0.5)")
    print(f"  peak memory          {peak_gb:.2f} GB (goal < 4 GB)")
    result = {"body": args.body, "batch": args.batch, "tokens": args.tokens, "matmul_gflops": reference,
              "peak_memory_gb": peak_gb,
              "threads": torch.get_num_threads(), "configurations": results}
    if args.json:
        write_json(args.json, {**result, "environment": environment()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
