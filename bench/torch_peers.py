#!/usr/bin/env python3
"""PyTorch peers of the norm benchmarks: eager and torch.compile, timed the way rmsnorm_bench
times kconform's kernels, written in Google Benchmark's JSON schema so reports merge them.

  - copy: device-to-device copy of 512 MiB (bytes read + written): this run's own ceiling;
  - bandwidth shapes: 1 GB moved per call, L2 flushed (256 MiB memset) before each timed call,
    CUDA events around the call alone;
  - decode shapes (1..256 tokens): a CUDA graph of 20 back-to-back calls, replayed, per-call time
    = replay time / 20 (warm L2).
The functions are HF's (rmsnorm.hf: w * rn(x * r); fused_add_rmsnorm.hf: the residual add in
the model dtype, then the same norm) and the fp32-single-rounding form (rmsnorm.fp32).
Results are checked against a float64 evaluation before timing (relative error < 2^-6 for
16-bit dtypes), so a broken peer is never timed.

Usage: python3 bench/torch_peers.py --out perf_torch.json [--quick]
"""
import argparse
import json
import sys
import time

import torch

REPS = 20
EPS = 1e-6


def rms_hf(x, w):
    h = x.float()
    var = h.pow(2).mean(-1, keepdim=True)
    return w * (h * torch.rsqrt(var + EPS)).to(x.dtype)


def rms_fp32(x, w):
    h = x.float()
    var = h.pow(2).mean(-1, keepdim=True)
    return (h * torch.rsqrt(var + EPS) * w.float()).to(x.dtype)


def fused_hf(x, r, w):
    s = x + r
    return rms_hf(s, w), s


OPS = {
    "rmsnorm.hf": (rms_hf, 1, 2),  # function, extra input tensors, tensors moved per element
    "rmsnorm.fp32": (rms_fp32, 1, 2),
    "fused_add_rmsnorm.hf": (fused_hf, 2, 4),
}


def events_time(fn, flush=None, iters=30):
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(iters):
        if flush is not None:
            flush.zero_()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / 1e3)
    times.sort()
    return times[len(times) // 2]


def check(out, ref):
    out = out[0] if isinstance(out, tuple) else out
    err = ((out.double() - ref).norm() / ref.norm()).item()
    return err < 2 ** -6, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="bf16 only, fewer shapes")
    args = ap.parse_args()
    dev = torch.device("cuda")
    # Three compiles per (op, dtype, hidden) at most, well under the limit; raised anyway so
    # that a peer is never timed as eager under its compiled name.
    for knob in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, 64)
    rows = []
    flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)

    # Copy ceiling, this process.
    a = torch.empty(512 << 20, dtype=torch.uint8, device=dev)
    b = torch.empty_like(a)
    t = events_time(lambda: b.copy_(a), iters=20)
    copy_gbps = 2 * a.numel() / t / 1e9
    rows.append({"name": "torch/copy", "run_type": "iteration", "real_time": t * 1e6,
                 "time_unit": "us", "GBps": copy_gbps, "label": "torch copy_ 512 MiB"})

    dtypes = [torch.bfloat16] if args.quick else [torch.bfloat16, torch.float16]
    hiddens = [1024, 4096, 16384] if args.quick else [1024, 2048, 4096, 8192, 16384]
    decode_tokens = [1, 16, 64, 128, 256]
    for op, (fn, n_in, moved) in OPS.items():
        for dt in dtypes:
            dname = {torch.bfloat16: "bf16", torch.float16: "fp16"}[dt]
            for hidden in hiddens:
                # A fresh compile cache per (op, dtype, hidden): the functions are shared code
                # objects, and past dynamo's recompile limit torch.compile silently runs eager
                # (seen on the GPU host: compiled rows timed as eager from the ninth compile on).
                torch._dynamo.reset()
                # Decode shapes: default dynamism (a static compile for the first shape, then one
                # kernel with a dynamic token count). Bandwidth shape: its own static compile, so
                # torch.compile is measured at its best there, as the published anchors are.
                compiled = torch.compile(fn)
                compiled_static = torch.compile(fn, dynamic=False)
                es = torch.finfo(dt).bits // 8
                bw_tokens = (1 << 30) // (moved * hidden * es)
                shapes = [(t_, "decode") for t_ in decode_tokens] + [(bw_tokens, "bandwidth")]
                for tokens, kind in shapes:
                    torch.manual_seed(0)
                    ins = [torch.randn(tokens, hidden, device=dev).to(dt) for _ in range(n_in)]
                    w = (1 + 0.1 * torch.randn(hidden, device=dev)).to(dt)
                    x64 = ins[0].double() + (ins[1].double() if n_in == 2 else 0)
                    ref = x64 * torch.rsqrt(x64.pow(2).mean(-1, keepdim=True) + EPS) * w.double()
                    nbytes = (moved * tokens + 1) * hidden * es
                    for impl, f in (("eager", fn),
                                    ("torch_compile",
                                     compiled if kind == "decode" else compiled_static)):
                        call = lambda: f(*ins, w)
                        t0 = time.time()
                        try:
                            ok, err = check(call(), ref)
                        except Exception as e:  # noqa: BLE001 - a peer that fails is reported
                            ok, err = False, str(e)[:200]
                        name = f"{impl}/{op}/{dname}/{tokens}x{hidden}/{kind}"
                        if not ok:
                            rows.append({"name": name, "error_occurred": True,
                                         "error_message": f"result check failed: {err}"})
                            continue
                        if kind == "bandwidth":
                            for _ in range(3):
                                call()
                            t = events_time(call, flush=flush)
                        else:
                            s = torch.cuda.Stream()
                            s.wait_stream(torch.cuda.current_stream())
                            with torch.cuda.stream(s):
                                for _ in range(3):
                                    call()
                            torch.cuda.current_stream().wait_stream(s)
                            g = torch.cuda.CUDAGraph()
                            with torch.cuda.graph(g):
                                for _ in range(REPS):
                                    call()
                            g.replay()
                            t = events_time(g.replay, iters=200) / REPS
                        gbps = nbytes / t / 1e9
                        rows.append({"name": name, "run_type": "iteration",
                                     "real_time": t * 1e6, "time_unit": "us",
                                     "us_per_call": t * 1e6, "GBps": gbps,
                                     "pct_copy": 100 * gbps / copy_gbps, "bytes": nbytes,
                                     "label": f"{op} {dname} {tokens}x{hidden} {impl}"
                                              + (" graph" if kind == "decode" else "")})
                        print(f"{name:60s} {t * 1e6:9.2f} us {gbps:8.1f} GB/s "
                              f"({time.time() - t0:.1f} s)", flush=True)
    out = {"context": {"executable": "bench/torch_peers.py", "torch": torch.__version__,
                       "device": torch.cuda.get_device_name(), "copy_GBps": copy_gbps},
           "benchmarks": rows}
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
