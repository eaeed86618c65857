#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/rmsnorm_fuzz.cpp (fuzz/corpus/rmsnorm/*.bin), one file per
hand-picked case, in the byte layout decode() reads. Run from the project root."""
import os
import struct

EDGES = [0, 1, 7, 8, 9, 15, 16, 17, 255, 256, 257, 769, 1020, 1024, 4095, 4096, 65536, 65537]
EPS = {"1e-6": 0, "1e-5": 1, "2^-7": 2, "0": 3, "-1e-6": 4}
CLASSES = ["normal", "tiny", "huge", "subnormal", "zero", "constant", "one_hot", "alternating",
           "eps_dominated"]
WEIGHTS = ["normal", "ones", "near_minus_one", "wide"]


def case(profile, dtype, hidden_edge=None, hidden=None, tokens=2, eps="1e-6", in_place=False,
         layouts=None, classes=("normal",), weight="normal", injections=(), seed=1):
    fused = profile >= 3
    tensors = 5 if fused else 3
    out = bytes([profile, dtype])
    h = (0x8000 | EDGES.index(hidden_edge)) if hidden_edge is not None else (hidden - 1)
    out += struct.pack("<H", h)
    out += bytes([tokens, EPS[eps], 1 if in_place else 0])
    layouts = list(layouts or [])
    for t in range(tensors):
        pad, offset = layouts[t] if t < len(layouts) else (0, 0)
        out += bytes([pad, offset])
    out += bytes([len(classes) - 1]) + bytes(CLASSES.index(c) for c in classes)
    out += bytes([WEIGHTS.index(weight), len(injections)])
    for tensor, row, col, kind in injections:
        out += bytes([tensor, row]) + struct.pack("<H", col) + bytes([kind])
    out += struct.pack("<Q", seed)
    return out


SEEDS = {
    "fp32_small": case(0, 0, hidden=8, tokens=1),
    "hf_bf16_769_padded": case(1, 2, hidden_edge=769, tokens=3, layouts=[(0x85, 3), (0, 0), (0x81, 1)]),
    "gemma_near_minus_one": case(2, 1, hidden_edge=1024, weight="near_minus_one", eps="2^-7"),
    "fused_fp32_sum_wide": case(3, 2, hidden=300, tokens=4, classes=("huge", "tiny"), in_place=True),
    "fused_hf_fp16_overflow": case(4, 1, hidden=64, tokens=2, classes=("huge",)),
    "fused_cast_offsets": case(5, 0, hidden=33, tokens=5, layouts=[(0, 7), (0, 3), (0, 0), (0, 1), (0, 15)]),
    "fused_gemma_nan": case(6, 2, hidden=128, tokens=2, injections=[(0, 1, 5, 0), (1, 0, 9, 1)]),
    "inf_rows": case(0, 2, hidden=40, tokens=3, injections=[(0, 2, 3, 2)]),
    "zero_rows_eps0": case(1, 0, hidden=16, tokens=2, classes=("zero",), eps="0"),
    "negative_eps_rejected": case(0, 1, hidden=64, eps="-1e-6"),
    "hidden_too_large": case(0, 2, hidden_edge=65537, tokens=1),
    "hidden_zero": case(3, 2, hidden_edge=0, tokens=3),
    "stride_below_hidden": case(2, 0, hidden=64, tokens=2, layouts=[(0x40, 0)]),
    "subnormal_fp16": case(0, 1, hidden=255, tokens=2, classes=("subnormal", "eps_dominated")),
}

if __name__ == "__main__":
    os.makedirs("fuzz/corpus/rmsnorm", exist_ok=True)
    for name, data in SEEDS.items():
        with open(f"fuzz/corpus/rmsnorm/{name}.bin", "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds")
