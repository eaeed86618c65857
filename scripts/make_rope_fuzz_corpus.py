#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/qknorm_rope_fuzz.cpp (fuzz/corpus/qknorm_rope/*.bin), one file
per hand-picked case, in the byte layout decode() reads. Run from the project root."""
import os
import struct

HEAD_EDGES = [0, 1, 2, 62, 63, 64, 80, 96, 112, 128, 160, 192, 256, 512, 514]
ROTARY = {"full": 0, "half": 1, "quarter": 2, "three_quarters": 3, "none": 4, "odd": 5}
BASES = [1e4, 5e5, 1e6, 1.0, 500.0, 0.5, 0.0, -1e4]
EPS = ["1e-6", "1e-5", "0", "-1e-6"]
YARN = ["off", "on", "qwen_40", "low_eq_high", "factor_below_1"]
MODES = ["random", "arange", "shuffled", "repeated", "negative"]
POS_EDGES = [0, 1, 1 << 15, 131071, (1 << 24) - 1, 1 << 24, (1 << 24) + 1, 0x7FFFFFFF, 1 << 40,
             (1 << 63) - 1]
CLASSES = ["normal", "large", "tiny", "subnormal", "zero", "outlier", "huge", "mixed"]
WEIGHTS = ["normal", "ones", "wide", "small"]
DTYPES = ["fp32", "fp16", "bf16"]


def case(dtype, head_edge=None, head_dim=None, heads=(2, 1, 1), rotary="full", interleaved=False,
         base=1e6, eps="1e-6", yarn="off", int32=False, mode="random", pos_edge=None, pos_max=1000,
         tokens=3, in_place=False, layouts=(), classes=("normal",), weight="normal",
         injections=(), seed=1):
    out = bytes([DTYPES.index(dtype)])
    h = (0x8000 | HEAD_EDGES.index(head_edge)) if head_edge is not None else head_dim
    out += struct.pack("<H", h)
    out += bytes(heads)
    out += bytes([ROTARY[rotary] if isinstance(rotary, str) else rotary + 6])
    out += bytes([1 if interleaved else 0, BASES.index(base), EPS.index(eps), YARN.index(yarn),
                  1 if int32 else 0, MODES.index(mode)])
    pm = ((1 << 63) | POS_EDGES.index(pos_edge)) if pos_edge is not None else pos_max
    out += struct.pack("<Q", pm)
    out += bytes([tokens, 1 if in_place else 0])
    layouts = list(layouts)
    for t in range(5):
        pad, offset = layouts[t] if t < len(layouts) else (0, 0)
        out += bytes([pad, offset])
    out += bytes([len(classes) - 1]) + bytes(CLASSES.index(c) for c in classes)
    out += bytes([WEIGHTS.index(weight), len(injections)])
    for tensor, row, col, kind in injections:
        out += bytes([tensor, row]) + struct.pack("<H", col) + bytes([kind])
    out += struct.pack("<Q", seed)
    return out


SEEDS = {
    "qwen3_bf16_131071": case("bf16", head_edge=128, heads=(4, 1, 1), pos_edge=131071),
    "fp16_interleaved_2p24": case("fp16", head_edge=64, interleaved=True, pos_edge=1 << 24,
                                  mode="arange"),
    "fp32_partial_yarn": case("fp32", head_edge=80, rotary="half", yarn="on", base=5e5,
                              pos_max=40000, mode="shuffled"),
    "int64_2p40_repeated": case("bf16", head_edge=96, rotary="quarter", pos_edge=1 << 40,
                                mode="repeated", tokens=6),
    "int32_negative": case("bf16", head_edge=112, int32=True, mode="negative", pos_max=1 << 20),
    "no_k_no_v_in_place": case("fp16", head_edge=256, heads=(3, 0, 0), in_place=True,
                               pos_edge=(1 << 24) - 1),
    "no_q_heads_padded": case("bf16", head_edge=62, heads=(0, 2, 1), rotary="three_quarters",
                              layouts=[(0x85, 3), (0, 2), (0, 1), (0, 0), (0x83, 5)]),
    "head_dim_2_base_1": case("fp32", head_edge=2, base=1.0, pos_max=7, tokens=8),
    "head_dim_512_qwen40": case("bf16", head_edge=512, heads=(1, 1, 0), yarn="qwen_40",
                                pos_edge=(1 << 63) - 1, tokens=1),
    "nan_and_inf_heads": case("bf16", head_edge=64, injections=[(0, 1, 5, 0), (1, 0, 9, 1)],
                              classes=("normal", "huge")),
    "zero_heads_eps0": case("fp16", head_edge=128, eps="0", classes=("zero", "subnormal")),
    "odd_rotary_rejected": case("bf16", head_edge=64, rotary="odd"),
    "head_dim_odd_rejected": case("bf16", head_edge=63),
    "base_below_1_rejected": case("fp32", head_edge=64, base=0.5),
    "positions_padded_rejected": case("bf16", head_edge=64, layouts=[(0, 0), (0x82, 0)]),
    "empty_batch": case("bf16", head_edge=128, tokens=0),
    "low_eq_high_yarn": case("bf16", head_edge=160, yarn="low_eq_high", pos_max=123456,
                             weight="wide"),
    "mixed_small_weights": case("fp32", head_edge=192, rotary=20, classes=("mixed", "outlier"),
                                weight="small", pos_edge=0x7FFFFFFF, int32=True),
}

if __name__ == "__main__":
    os.makedirs("fuzz/corpus/qknorm_rope", exist_ok=True)
    for name, data in SEEDS.items():
        with open(f"fuzz/corpus/qknorm_rope/{name}.bin", "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds")
