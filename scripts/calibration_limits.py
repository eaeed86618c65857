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
properties/src/core/check.cpp: 120 cases for the reference properties times the family's
reference_budget_scale(), REFERENCE_BUDGET_SCALE below; 150 for the others) should hold every
limit, so that a quick run of a subject with such a defect catches it too; where it does not,
the line says so and gives the probability that a quick run catches it.
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


# budget_for: the reference properties run 120 quick cases times the family's
# reference_budget_scale() (Family in properties/include/kc/props/family.h), the others 150.
REFERENCE_PROPERTIES = ("bounded_error", "special_values")
REFERENCE_BUDGET_SCALE = {"rmsnorm": 10, "act_and_mul": 1, "qknorm_rope": 1}


def quick_budget(prop, family):
    return 120 * REFERENCE_BUDGET_SCALE[family] if prop in REFERENCE_PROPERTIES else 150


def budget_note(k, prop, family, p_of_size):
    budget = quick_budget(prop, family)
    if k is not None and k <= budget:
        return f"quick budget {budget}: holds it"
    miss = 1.0
    for i in range(budget):
        miss *= 1 - p_of_size(size_for(budget, i))
    return f"quick budget {budget}: TOO SMALL, catches it with probability {1 - miss:.4f}"


def report(name, p_of_size, prop="bounded_error", family="rmsnorm"):
    k = limit(p_of_size)
    print(f"{name:28s} {prop:16s} 99.9% within {k} cases "
          f"({budget_note(k, prop, family, p_of_size)}); p at size 60: {p_of_size(60):.4f}")


def tokens_at_least_2(size):
    """P(num_tokens >= 2) for bounded_error (gen_tokens without empty batches): weights
    1:3, 2..9:4, edges:2, uniform(1..most):2; the uniform part is 1 only with prob 1/most."""
    return (4 + 2 + 2 * 0.9) / 11


def p_padded_input(tensors):
    """P(at least one of `tensors` row strides is padded): each padded with prob 3/9."""
    return 1 - (6 / 9) ** tensors


# ---- act_and_mul (properties/src/act_and_mul/act_and_mul_family.cpp, act_and_mul_mutants.cpp)
ACT_MAX_D = 1 << 20
ACT_CAP_MAX = 32768
REF_MAX_ELEMENTS = 1 << 15  # budget_for: reference properties (bounded_error) at quick level


def act_cap(size):  # ActFamily::gen_params: the largest generated d at this size
    return max(64, min(ACT_CAP_MAX, 64 + (ACT_CAP_MAX - 64) * size // 100))


def act_edges(c):
    e = list(range(1, 17))
    p = 32
    while p <= c:
        e += [p - 1, p, p + 1]
        p *= 2
    e += [d for d in (3420, 11008, 13824, 14336, 18944, 28672) if d <= c]
    return e


def p_d(pred, size, unsupported=False):
    """P(pred(d)) under gen_d(act_cap(size), unsupported): uniform 4, edges 4, 8m + 4 2,
    unsupported (0 or ACT_MAX_D + 1) 1."""
    c = act_cap(size)
    top = max(c, 16)
    w = {"uniform": 4, "edges": 4, "mult8": 2, "unsup": 1 if unsupported else 0}
    uni = sum(1 for d in range(1, top + 1) if pred(d)) / top
    ed = act_edges(c)
    edg = sum(1 for d in ed if pred(d)) / len(ed)
    ms = range(1, max(top // 8, 2))
    m8 = sum(1 for m in ms if pred(m * 8 + 4)) / len(ms)
    un = sum(1 for d in (0, ACT_MAX_D + 1) if pred(d)) / 2
    return (w["uniform"] * uni + w["edges"] * edg + w["mult8"] * m8 + w["unsup"] * un) / sum(
        w.values())


# The first row class of a case (gen_row_class without specials): normal 8, tail 3, and one of
# large, subnormal, tiny, huge, zero, mixed 6 (1 each), of 17.
NORMAL, TAIL, ONE_OTHER = 8 / 17, 3 / 17, 1 / 17


def act(name, p_of_size, prop="bounded_error"):
    report(name, p_of_size, prop, "act_and_mul")


def act_report():
    third = 1 / 3
    # torch as single / single as torch: about a quarter of 16-bit outputs of normal rows differ
    # between the two roundings (wave2-semantics.md section 2); counted only for 16-bit normal
    # rows of d >= 16 (P(no differing element) < 0.75^16 = 0.01, taken as caught).
    p = lambda s: 2 * third * NORMAL * p_d(lambda d: d >= 16, s)
    act("act.torch_as_single", p)
    act("act.single_as_torch", p)
    # fast exp (silu): e^-g overflows fp32 for g < -88.72, leaving -0 where the exact value is a
    # nonzero bf16 (g > -97.5: 29 % of the tail range [-110, -80]) or fp32 (all of it: the
    # argument's rounding alone is ~88 2^-24 relative, > 80 fp32 ulp); counted: silu tail rows
    # (first class tail) of bf16 or fp32 with d >= 16 (P(no hit) < 0.71^16 = 0.004).
    act("act.fast_exp", lambda s: 2 * third * TAIL * p_d(lambda d: d >= 16, s))
    # tanh form as erf: the two GELUs differ by ~1e-4 relative near |g| ~ 1 (far above fp32's
    # 2^-24): fp32 normal rows of any d; 16-bit rows not counted.
    act("act.tanh_form_as_erf", lambda s: third * NORMAL)
    # tail cancellation: 1 + erf(g / sqrt 2) rounds to 0 from g ~ -5.5 and loses its relative
    # accuracy above: every element of a gelu tail row ([-14, -4]) in fp32 and 90 % in bf16 is
    # wrong; counted: bf16/fp32 tail rows of d >= 4.
    act("act.tail_cancellation", lambda s: 2 * third * TAIL * p_d(lambda d: d >= 4, s))
    # missing tail: d % 8 != 0 (the unwritten outputs stay poison): any case.
    act("act.missing_tail", lambda s: p_d(lambda d: d % 8 != 0, s))
    # output stride ignored: two or more rows (gen_tokens, fitted to 2^15 / (3d) tokens: d <=
    # 5461) and a padded output stride (3 in 9).
    act("act.output_stride_ignored",
           lambda s: tokens_at_least_2(s) * p_d(lambda d: 3 * d * 2 <= REF_MAX_ELEMENTS, s) / 3)
    # gate/up swapped: act(u) g != act(g) u for almost every element of a normal row.
    act("act.gate_up_swapped", lambda s: NORMAL)
    # ftz gates: bf16 or fp32 rows whose first class is subnormal (every gate an fp32 subnormal;
    # the exact outputs ~g u / 2 are nonzero in both formats), or mixed with d >= 16 (each gate
    # subnormal with prob 1/7: P(none) = (6/7)^16 = 0.085).
    act("act.ftz_gates",
           lambda s: 2 * third * (ONE_OTHER + ONE_OTHER * 0.915 * p_d(lambda d: d >= 16, s)))
    # support_agrees draws unsupported sizes: d == 0 with weight 1/2 of 1 in 11.
    act("act.check_accepts_zero_d", lambda s: p_d(lambda d: d == 0, s, unsupported=True),
           "support_agrees")


# ---- qknorm_rope (properties/src/qknorm_rope/qknorm_rope_family.cpp, qknorm_rope_mutants.cpp)
# The family's caps do not depend on RapidCheck's size, so each defect's exposure probability p
# is one number; it is estimated from the generator's weights by sampling the generator's model
# below (a fixed seed, 200000 draws: the estimate's standard error is below 0.002) and counting
# only the cases each comment names (a conservative predicate on the case's parameters, its
# first row class and weight class). Limit: the first k with 1 - (1 - p)^k >= 0.999.
QK_HEAD_EDGES = [2, 62, 64, 80, 96, 112, 128, 160, 192, 256, 512]
QK_MODELS = [(32, 8, 8), (64, 4, 4), (16, 8, 8), (8, 1, 1), (40, 8, 8)]


def qk_pick(rng, choices):
    total = sum(w for w, _ in choices)
    x = rng.random() * total
    for w, f in choices:
        x -= w
        if x < 0:
            return f()
    return choices[-1][1]()


def qk_sample(rng, unsupported=False):
    """One case's parameters as QkFamily::gen_params draws them (and the first row/weight class)."""
    hd_choices = [(6, lambda: rng.choice(QK_HEAD_EDGES)), (3, lambda: rng.choice([64, 128, 256])),
                  (2, lambda: 2 * rng.randint(1, 256))]
    if unsupported:
        hd_choices.append((1, lambda: rng.choice([0, 63, 514])))
    hd = qk_pick(rng, hd_choices)
    heads = qk_pick(rng, [
        (4, lambda: (rng.randint(1, 4), rng.randint(0, 2), rng.randint(0, 2))),
        (2, lambda: rng.choice(QK_MODELS)),
        (1, lambda: (0, rng.randint(0, 2), rng.randint(0, 2))),
        (1, lambda: (rng.randint(1, 4), 0, 0))])
    h = max(hd, 2)
    ev = lambda v: v - v % 2
    rd_choices = [(3, lambda: h), (2, lambda: ev(h // 2)), (2, lambda: ev(h // 4)),
                  (1, lambda: ev(3 * h // 4)), (2, lambda: 2 * rng.randint(0, h // 2)),
                  (1, lambda: 0)]
    if unsupported:
        rd_choices.append((1, lambda: rng.choice([h - 1, h + 2])))
    rd = qk_pick(rng, rd_choices)
    yarn_on = rng.random() < 2 / 6
    af = rng.choice([0.9, 1.0, 1.3, 1.36888795]) if yarn_on else 1.0
    int64 = rng.random() < 0.5
    mode = qk_pick(rng, [(4, lambda: "random"), (2, lambda: "arange"), (2, lambda: "shuffled"),
                         (1, lambda: "repeated"), (1, lambda: "negative")])
    logu = lambda lo, hi: (lambda e: (1 << e) + rng.randrange(1 << e))(rng.randrange(lo, hi))
    pm = [(2, lambda: rng.randrange(0, 1 << 10)), (1, lambda: logu(10, 14)),
          (5, lambda: logu(14, 24)),
          (2, lambda: rng.choice([1 << 15, 131071, (1 << 24) - 1, 1 << 24, (1 << 24) + 1,
                                  (1 << 24) + 3]))]
    if int64:
        pm.append((3, lambda: logu(24, 62)))
    pos_max = qk_pick(rng, pm)
    if not int64:
        pos_max = min(pos_max, (1 << 31) - 1)
    dtype = rng.choice(["fp32", "fp16", "bf16"])
    row = qk_pick(rng, [(8, lambda: "normal"), (2, lambda: "outlier"), (2, lambda: "mixed"),
                        (4, lambda: rng.choice(["large", "tiny", "subnormal", "zero"]))])
    weight = qk_pick(rng, [(6, lambda: "normal"), (1, lambda: "ones"), (2, lambda: "wide"),
                           (1, lambda: "small")])
    return dict(hd=hd, nq=heads[0], nk=heads[1], nv=heads[2], rd=rd, af=af, int64=int64,
                mode=mode, pos_max=pos_max, dtype=dtype, row=row, weight=weight)


def qk_p(pred, unsupported=False, draws=200000):
    import random
    rng = random.Random(16)
    return sum(1 for _ in range(draws) if pred(qk_sample(rng, unsupported))) / draws


def qk_report(name, pred, unsupported=False):
    p = qk_p(pred, unsupported)
    k = limit(lambda s: p, cases=2000)
    prop = "support_agrees" if unsupported else "bounded_error"
    print(f"{name:28s} {prop:16s} 99.9% within {k} cases "
          f"({budget_note(k, prop, 'qknorm_rope', lambda s: p)}); p = {p:.4f}")


def qk_calibration_report():
    good_row = lambda c: c["row"] in ("normal", "outlier", "mixed")
    qk_heads = lambda c: c["nq"] + c["nk"] > 0
    rotates = lambda c: c["rd"] >= 2 and qk_heads(c) and good_row(c)
    # The tokens' positions: random (half uniform in [0, pos_max], half within 255 of it),
    # consecutive or repeated ending at pos_max, negative uniform; "large" below asks pos_max
    # >= 2^17 and a mode other than negative (whose positions are uniform, counted out).
    large = lambda c: c["pos_max"] >= 1 << 17 and c["mode"] != "negative"
    # __sincosf reduction: at |p| >= 2^16 the rounded constant alone moves pair 0's angle by
    # 4e-8 |p| >= 2.6e-3 rad and the fp32 angle by up to |p| 2^-24: above a bf16 half ulp's
    # relative 2^-9 for many of pair 0's outputs; fp32 outputs always.
    qk_report("rope.sincosf_reduction", lambda c: rotates(c) and large(c))
    # __powf frequency: y = rn32(log2 b e) carries ~20 2^-24 absolute, so f_1 is off by 2^-20
    # relative and pair 1's angle (|p| f_1 >= 2^17 / 1.2) by >= 0.1 rad: needs rd >= 4.
    qk_report("rope.powf_frequency", lambda c: rotates(c) and c["rd"] >= 4 and large(c))
    # cos/sin rounded to bf16: 2^-9 relative error in each, far above the kernel's bound, for
    # every pair at a nonzero angle (fp32: every output; 16-bit: most outputs of a pair).
    qk_report("rope.bf16_cos_sin", lambda c: rotates(c) and c["pos_max"] >= 2 and
              c["mode"] != "negative")
    # norm rounded first: 16-bit rows: the rotation of rounded values is off by up to half an
    # ulp of each term, a different rounding for a large share of outputs (fp32 not counted).
    qk_report("rope.norm_rounded_first",
              lambda c: c["dtype"] != "fp32" and qk_heads(c) and good_row(c) and c["rd"] >= 2 and
              c["hd"] >= 8)
    # pairing swapped: different partners need rd >= 4, and a rotation (positions != 0).
    qk_report("rope.pairing_swapped", lambda c: rotates(c) and c["rd"] >= 4 and large(c))
    # rotary_dim ignored: rd < head_dim (pass-through elements rotated, NeoX partners moved).
    qk_report("rope.rotary_dim_ignored", lambda c: rotates(c) and c["rd"] < c["hd"] and large(c))
    # pass-through scaled: rd < head_dim and af != 1 (YaRN on with af in {0.9, 1.3, 1.369}).
    qk_report("rope.passthrough_scaled",
              lambda c: qk_heads(c) and good_row(c) and c["rd"] < c["hd"] and c["af"] != 1.0)
    # k with q's weight: k heads, weights not ones (two independent draws differ).
    qk_report("rope.k_with_q_weight",
              lambda c: c["nk"] > 0 and good_row(c) and c["weight"] != "ones")
    # positions through fp32: pos_max >= 2^26 (random positions have > 24 significant bits with
    # probability >= 3/4) with a rotation.
    qk_report("rope.positions_through_fp32",
              lambda c: rotates(c) and c["pos_max"] >= 1 << 26 and c["mode"] != "negative")
    # check accepts odd rotary_dim: support_agrees draws unsupported values; rd = head_dim - 1.
    qk_report("rope.check_accepts_odd_rotary",
              lambda c: c["rd"] % 2 == 1 and 0 < c["rd"] < c["hd"], unsupported=True)


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
    act_report()
    qk_calibration_report()
