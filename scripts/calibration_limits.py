#!/usr/bin/env python3
"""Derives the calibration test's per-mutant case limits (properties/tests/calibration_test.cpp).

For a defect that shows only on some cases, p(s) is the probability that a case generated at
RapidCheck size s exposes it, computed from the generator's weights (properties/src/
generators.cpp). The calibration test runs the property with exactly `limit` cases (the quick
budget's sizes, its case count replaced), and RapidCheck's size schedule depends on that count
(size_for below, measured on the installed RapidCheck: a run of n cases gives floor(n / 101)
full runs of sizes 0..100, then spreads the remaining m cases evenly over 0..100, j * 100 //
(m - 1); so 18 cases have sizes 0, 5, 11, ..., 100, and 120 cases 0..100 then 0, 5, 11, ...).
The limit is the first case count k whose own run catches the defect with probability
P = 1 - prod_{i<k} (1 - p(size_for(k, i))) >= 0.999. The quick budget (budget_for in
properties/src/core/check.cpp: 1200 cases for the reference properties, 150 for the others)
must hold every limit, so that a quick run of a subject with such a defect would catch it too.
Run: python3 scripts/calibration_limits.py
"""
import math

MAX_HIDDEN = 65536
CAP_MAX = 16384


def cap(size):  # gen_case: the largest supported hidden at this size
    return max(64, min(CAP_MAX, 64 + (CAP_MAX - 64) * size // 100))


def edges(c):
    e = []
    p = 16
    while p <= c:
        e += [p - 1, p, p + 1]
        p *= 2
    e += [h for h in (769, 3584, 3420, 5120, 7168, 16385) if h <= c + 1]
    return e


def p_hidden(pred, size, unsupported=False):
    """P(pred(hidden)) under gen_hidden(cap(size), unsupported)."""
    c = cap(size)
    top = max(c, 16)
    w = {"uniform": 4, "edges": 4, "mult8": 2, "unsup": 1 if unsupported else 0}
    total = sum(w.values())
    uni = sum(1 for h in range(1, top + 1) if pred(h)) / top
    ed = edges(c)
    edg = sum(1 for h in ed if pred(h)) / len(ed)
    ms = range(2, max(top // 8, 3))
    m8 = sum(1 for m in ms if pred(m * 8 + 4)) / len(ms)
    un = sum(1 for h in (0, MAX_HIDDEN + 1, MAX_HIDDEN + 8) if pred(h)) / 3
    return (w["uniform"] * uni + w["edges"] * edg + w["mult8"] * m8 + w["unsup"] * un) / total


def size_for(n, i, max_size=100):
    """RapidCheck's size of case i in a run of n cases."""
    full = n // (max_size + 1) * (max_size + 1)
    if i < full:
        return i % (max_size + 1)
    m = n - full
    return 0 if m == 1 else (i - full) * max_size // (m - 1)


def limit(p_of_size, cases=3000, confidence=0.999):
    for k in range(1, cases + 1):
        miss = 1.0
        for i in range(k):
            miss *= 1 - p_of_size(size_for(k, i))
        if 1 - miss >= confidence:
            return k
    return None


QUICK_CASES = {"bounded_error": 1200, "special_values": 1200}  # else 150


def report(name, p_of_size, prop="bounded_error"):
    k = limit(p_of_size)
    budget = QUICK_CASES.get(prop, 150)
    print(f"{name:28s} {prop:16s} 99.9% within {k} cases (quick budget {budget}: "
          f"{'holds it' if k <= budget else 'TOO SMALL'}); p at size 60: {p_of_size(60):.4f}")


def tokens_at_least_2(size):
    """P(num_tokens >= 2) for bounded_error (gen_tokens without empty batches): weights
    1:3, 2..9:4, edges:2, uniform(1..most):2; the uniform part is 1 only with prob 1/most."""
    return (4 + 2 + 2 * 0.9) / 11


def p_padded_input(tensors):
    """P(at least one of `tensors` row strides is padded): each padded with prob 3/9."""
    return 1 - (6 / 9) ** tensors


if __name__ == "__main__":
    third = 1 / 3
    # Conservative per-case exposure probabilities for the defects most cases show; each
    # counts only the cases named in its comment.
    # fp16 accumulation: any fp32-output row with hidden > 4 (the fp16-rounded sum is off by far
    # more than the fp32 bound's ~40 ulps).
    report("fp16_accumulation", lambda s: third * p_hidden(lambda h: h > 4, s))
    # eps outside the sqrt: every row with eps = 2^-7 (1 case in 3): r is off by ~eps/2.
    report("eps_outside_sqrt", lambda s: third)
    # legacy mixed / rounded sum as fp32 sum: 16-bit rows (2 in 3) whose normal-class sums need
    # more bits than the format has, in a row of more than 8 elements (the rows' first class is
    # normal with prob 8/14 per class draw).
    report("legacy_mixed_as_fp32_sum", lambda s: 2 * third * (8 / 14) * p_hidden(lambda h: h > 8, s))
    report("rounded_sum_as_fp32_sum", lambda s: 2 * third * (8 / 14) * p_hidden(lambda h: h > 8, s))
    # single rounding as hf: ~1% of 16-bit normal elements round differently: rows of more than
    # 512 elements (P(no hit) < 0.01^...) in a 16-bit dtype with a normal first row.
    report("single_rounding_as_hf", lambda s: 2 * third * (8 / 14) * p_hidden(lambda h: h > 512, s))
    # missing tail: hidden % 8 != 0, out of place (1 in 2; in place the tail keeps x, which the
    # bound also rejects for rows of normal data, not counted).
    report("missing_tail", lambda s: 0.5 * p_hidden(lambda h: h % 8 != 0, s))
    # row stride ignored (fused: input and residual strides): two or more rows and a padded one.
    report("row_stride_ignored", lambda s: tokens_at_least_2(s) * p_padded_input(2))
    # out of bounds write: every case (the last row's extra element is a guard byte).
    report("out_of_bounds_write", lambda s: 1.0)
    # bounded_error exposes it whenever hidden > 8000 (every dtype, any row).
    report("last_element_above_8000", lambda s: p_hidden(lambda h: h > 8000, s))
    # bounded_error exposes it whenever hidden == 256 (the output stays poison): a single size,
    # one edge of ~35, so it needs a longer run.
    report("noop_at_hidden_256", lambda s: p_hidden(lambda h: h == 256, s))
    # support_agrees (unsupported sizes allowed) exposes it when 65536 < hidden <= 131072.
    report("check_accepts_too_large",
           lambda s: p_hidden(lambda h: MAX_HIDDEN < h <= 2 * MAX_HIDDEN, s, unsupported=True),
           "support_agrees")
    # batch_invariant: the resized batch is one of {1, N+1, 2N+3, 257, 133}; it crosses 256
    # tokens at least when it is 257 (1 in 5) and N < 256; the row must have >= 2 lanes
    # (hidden > 4 vectors) and the changed reduction order must change an output: certain for
    # fp32 outputs at these sizes (1 dtype in 3), ignored for 16-bit ones (conservative).
    report("batch_dependent_lanes",
           lambda s: (1 / 5) * (1 / 3) * p_hidden(lambda h: h > 32, s), "batch_invariant")
