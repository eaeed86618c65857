#!/usr/bin/env python3
"""PyTorch peers of kconform's benchmarks: eager, torch.compile static (one compile per shape)
and torch.compile dynamic (one compile per family shape with a symbolic token count), timed the
way kconform times its kernels (bench/support/bench_support.h), and written in Google Benchmark's
JSON schema with the same structured row labels (kc/results/perf.h), so reports merge them.

  - copy: device-to-device copy of 512 MiB (bytes read + written): this run's own ceiling;
  - bandwidth shapes: about 1 GiB moved per call, L2 flushed (256 MiB memset) before each timed
    call, CUDA events around the call alone;
  - decode shapes: a CUDA graph of 20 back-to-back calls, replayed, per-call time = replay time /
    20 (warm L2). No PDL (PyTorch launches none).
  - with --do-bench: the decode shapes of torch.compile static also timed by
    triton.testing.do_bench_cudagraph, as rows of kind "decode_do_bench" (the report compares
    only like with like; the README sets the two methods side by side).
Each family's peers are bench/<family>_peers.py (functions, shapes, a float64 reference);
results are checked against the reference before timing (relative error < 2^-6 for 16-bit
dtypes), so a broken peer is never timed.

Usage: python3 bench/torch_peers.py --out perf_torch.json --families rmsnorm [--quick] [--do-bench]
       [--profiles P..] [--decode-tokens N..] [--decode-only] [--match hidden=1024,4096]
"""
import argparse
import importlib
import json
import os
import sys
import time

import torch

REPS = 20


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


def graph_time(call):
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
    return events_time(g.replay, iters=200) / REPS


def check(out, ref):
    out = out[0] if isinstance(out, tuple) else out
    err = ((out.double() - ref).norm() / ref.norm()).item()
    return err < 2 ** -6, err


def label(source, family, op, profile, dtype, kind, shape):
    return json.dumps({"source": source, "family": family, "op": op, "profile": profile,
                       "dtype": dtype, "kind": kind, "pdl": False, "shape": shape},
                      separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--families", nargs="+", default=["rmsnorm"])
    ap.add_argument("--quick", action="store_true", help="bf16 only, fewer shapes")
    ap.add_argument("--do-bench", action="store_true",
                    help="also time decode shapes with triton.testing.do_bench_cudagraph")
    ap.add_argument("--profiles", nargs="+", default=None, help="only these profiles")
    ap.add_argument("--decode-tokens", nargs="+", type=int, default=None,
                    help="only these decode token counts (default: the family's)")
    ap.add_argument("--decode-only", action="store_true", help="no bandwidth rows")
    ap.add_argument("--match", nargs="+", default=[],
                    help="only family shapes with these values, KEY=V1,V2 (e.g. hidden=1024,4096)")
    args = ap.parse_args()
    wanted = {k: set(v.split(",")) for k, v in (m.split("=", 1) for m in args.match)}
    dev = torch.device("cuda")
    for knob in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, 64)
    rows = []
    flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)
    a = torch.empty(512 << 20, dtype=torch.uint8, device=dev)
    b = torch.empty_like(a)
    t = events_time(lambda: b.copy_(a), iters=20)
    copy_gbps = 2 * a.numel() / t / 1e9
    del a, b
    rows.append({"name": "torch/copy", "run_type": "iteration", "real_time": t * 1e6,
                 "time_unit": "us", "GBps": copy_gbps,
                 "label": label("torch", "", "", "", "", "copy", {"bytes": 1 << 30})})
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    dtypes = [torch.bfloat16] if args.quick else [torch.bfloat16, torch.float16]

    def emit(name, source, fam, op, profile, dname, kind, shape, t, nbytes, t0):
        gbps = nbytes / t / 1e9
        rows.append({"name": name, "run_type": "iteration", "real_time": t * 1e6,
                     "time_unit": "us", "us_per_call": t * 1e6, "GBps": gbps,
                     "pct_copy": 100 * gbps / copy_gbps, "bytes": nbytes,
                     "label": label(source, fam, op, profile, dname, kind, shape)})
        print(f"{name:72s} {t * 1e6:9.2f} us {gbps:8.1f} GB/s ({time.time() - t0:.1f} s)",
              flush=True)

    for family in args.families:
        try:
            mod = importlib.import_module(f"{family}_peers")
        except ImportError:
            print(f"family {family}: no bench/{family}_peers.py, no PyTorch peers", flush=True)
            continue
        family_shapes, decode_tokens = mod.shapes(args.quick)
        family_shapes = [f for f in family_shapes
                         if all(str(f.get(k)) in v for k, v in wanted.items())]
        if args.decode_tokens:
            decode_tokens = args.decode_tokens
        for profile, spec in mod.PEERS.items():
            if args.profiles and profile not in args.profiles:
                continue
            op, fn = spec[0], spec[1]
            for dt in dtypes:
                dname = {torch.bfloat16: "bf16", torch.float16: "fp16"}[dt]
                for fshape in family_shapes:
                    # A fresh compile cache per (profile, dtype, family shape): the functions are
                    # shared code objects, and past dynamo's recompile limit torch.compile
                    # silently runs eager (seen on the GPU host).
                    torch._dynamo.reset()
                    dynamic = torch.compile(fn, dynamic=None)
                    plan = [(n, "decode") for n in decode_tokens]
                    if not args.decode_only:
                        plan.append((mod.bandwidth_tokens(profile, fshape, dt), "bandwidth"))
                    for tokens, kind in plan:
                        ins, nbytes, ref = mod.case(profile, tokens, fshape, dt, dev)
                        shape = {"tokens": tokens, **fshape}
                        shape_text = "x".join(str(v) for v in shape.values())
                        # Static: its own compile for this exact shape. Dynamic: the token
                        # dimension marked dynamic, one compile reused across token counts.
                        static = torch.compile(fn, dynamic=False)
                        dyn_ins = [x.clone() for x in ins]
                        fixed = getattr(mod, "FIXED_INPUTS", 1)  # trailing, no token dimension
                        for x in dyn_ins[:len(dyn_ins) - fixed]:
                            torch._dynamo.mark_dynamic(x, 0)
                        impls = [("torch eager", fn, ins), ("torch.compile static", static, ins)]
                        if kind == "decode":
                            impls.append(("torch.compile dynamic", dynamic, dyn_ins))
                        for source, f, xs in impls:
                            call = lambda f=f, xs=xs: f(*xs)
                            t0 = time.time()
                            name = f"{source}/{profile}/{dname}/{shape_text}/{kind}"
                            try:
                                ok, err = check(call(), ref)
                            except Exception as e:  # noqa: BLE001 - a failing peer is reported
                                ok, err = False, str(e)[:200]
                            if not ok:
                                rows.append({"name": name, "error_occurred": True,
                                             "error_message": f"result check failed: {err}",
                                             "label": label(source, family, op, profile, dname,
                                                            kind, shape)})
                                continue
                            if kind == "bandwidth":
                                for _ in range(3):
                                    call()
                                t = events_time(call, flush=flush)
                            else:
                                t = graph_time(call)
                            emit(name, source, family, op, profile, dname, kind, shape, t,
                                 nbytes, t0)
                            if args.do_bench and kind == "decode" and source.endswith("static"):
                                import triton.testing as tt
                                ms = tt.do_bench_cudagraph(call, rep=100)
                                emit(name + "/do_bench", "torch.compile static", family, op,
                                     profile, dname, "decode_do_bench", shape, ms / 1e3, nbytes,
                                     t0)
    out = {"context": {"executable": "bench/torch_peers.py", "torch": torch.__version__,
                       "device": torch.cuda.get_device_name(), "copy_GBps": copy_gbps},
           "benchmarks": rows}
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
