#!/usr/bin/env python3
"""The kernels torch.compile runs for decode shapes of bench/torch_peers.py, for profiling them
beside kconform's (scripts/gpu_run.sh, mode peerncu).

Each SHAPE (op/dtype/TOKENSxHIDDEN, op and dtype named as in torch_peers.py) is compiled the way
torch_peers.py compiles it: a fresh torch.compile with default dynamism, called at the decode
token counts up to TOKENS in order (1 compiles a static kernel, a later count one with a dynamic
token count), so the kernel profiled is the one timed there. Then it runs --iters calls inside an
NVTX range named "kc_profile" (ncu --nvtx --nvtx-include kc_profile/ picks launches there; give
one SHAPE a process when profiling, since ncu's launch counts span the ranges).
Set TORCHINDUCTOR_CACHE_DIR and TRITON_CACHE_DIR to keep the generated Triton source, its
launch metadata (warps, shared memory) and its cubin.

Usage: python3 bench/torch_kernels.py SHAPE [SHAPE ...] [--iters N]
"""
import argparse
import sys

import torch

from torch_peers import OPS

DECODE_TOKENS = [1, 16, 64, 128, 256]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shapes", nargs="+", help="op/dtype/TOKENSxHIDDEN, e.g. rmsnorm.hf/bf16/1x1024")
    ap.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    dev = torch.device("cuda")
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    for shape in args.shapes:
        op, dname, th = shape.split("/")
        tokens, hidden = (int(v) for v in th.split("x"))
        if op not in OPS or dname not in dtypes or tokens not in DECODE_TOKENS:
            print(f"unknown shape {shape}: ops {sorted(OPS)}, dtypes {sorted(dtypes)}, "
                  f"tokens {DECODE_TOKENS}", file=sys.stderr)
            return 2
        fn, n_in, _ = OPS[op]
        dt = dtypes[dname]
        torch._dynamo.reset()
        compiled = torch.compile(fn)
        w = (1 + 0.1 * torch.randn(hidden, device=dev)).to(dt)
        for t in DECODE_TOKENS[:DECODE_TOKENS.index(tokens) + 1]:
            ins = [torch.randn(t, hidden, device=dev).to(dt) for _ in range(n_in)]
            compiled(*ins, w)
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_push("kc_profile")
        for _ in range(args.iters):
            compiled(*ins, w)
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_pop()
        print(f"{shape}: {args.iters} calls profiled", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
