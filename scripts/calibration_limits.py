#!/usr/bin/env python3
"""Derives the calibration limits of the norm family's mutants and the quick level's coverage.

The case distribution is the generators' (properties/src/core/generators.cpp: dtype, the shape
-- rows first or, one case in four, a big batch 2^e + {-1, 0, 1} first --, num_tokens;
properties/src/rmsnorm/rmsnorm_family.cpp: hidden and eps; properties/src/core/properties.cpp:
batch_invariant's resized batch), computed exactly from their weights, not sampled.

Sizes: RapidCheck gives case i of a run with maxSuccess n the size sizeFor(n, i) (its
src/detail/Testing.cpp: the first floor(n / 101) * 101 cases cycle through 0..100, the rest are
spread evenly over 0..100). The family scales its uniform and edge hidden sizes with the size.

Calibration limits: for a defect that shows on a case with probability p(size), the calibration
test runs the property with maxSuccess = limit; the limit is the smallest k with
P(caught within k) = 1 - prod_{i<k} (1 - p(sizeFor(k, i))) >= 0.999. GPU mutants share the host
mutants' limits: each is the larger of the limits under the host and the GPU budgets.

Coverage: for every power-of-two threshold T of num_tokens (to 2^17) and of hidden (to the
claimed maximum, 65536), the case count by which a quick run (its own maxSuccess: 1200 cases for
the norm family's reference properties, 120 times REFERENCE_BUDGET_SCALE in general, 150 for the
others) reaches a case with num_tokens >= T (hidden >= T)
with probability 0.999; for batch_invariant, a pair of batches on both sides of T (one below T,
the other at or above it). "-" where the quick run does not get there with that probability
(its probability within the quick budget is given).

Run: python3 scripts/calibration_limits.py [--coverage]   (the coverage table takes minutes)
"""
import functools
import math
import sys

MAX_HIDDEN = 65536            # kMaxHidden, the norm family's claim
MAX_TOKENS = 1 << 31          # the norm family's claimed max_tokens
RESIZE_ELEMENTS = 1 << 22     # batch_invariant: resized batch x token elements
RESIZE_MAX_TOKENS = 1 << 18   # batch_invariant: the largest resized batch
CONFIDENCE = 0.999

# The generators' weights (rmsnorm_family.cpp gen_hidden; generators.cpp gen_case).
W_UNIFORM, W_EDGES, W_OCTAVE, W_TOP, W_MULT8, W_UNSUPPORTED = 4, 4, 2, 1, 2, 1
P_BATCH_FIRST = 0.25          # one case in four is drawn batch first
BATCH_ROW_SHARE = 1           # a big batch's rows get max_elements / (batch * this)
DENSE_MAX = 16384             # uniform and 8m + 4 sizes at most this (the rest reach the claim)

# Budgets (check.cpp, budget_for): quick cases and max_elements.
REF = dict(cases=120, max_elements=1 << 15)
# The reference properties' quick cases are 120 times the family's reference_budget_scale()
# (Family, properties/include/kc/props/family.h): the norm family's certified fast path affords
# ten times as many; act_and_mul and qknorm_rope keep 120.
REFERENCE_BUDGET_SCALE = {"rmsnorm": 10, "act_and_mul": 1, "qknorm_rope": 1}
NORM_REF = dict(REF, cases=REF["cases"] * REFERENCE_BUDGET_SCALE["rmsnorm"])
HOST = dict(cases=150, max_elements=1 << 16)
GPU = dict(cases=150, max_elements=1 << 18)


def size_for(max_success, i, max_size=100):
    num_sizes = max_size + 1
    num_regular = (max_success // num_sizes) * num_sizes
    if i < num_regular:
        return i % num_sizes
    num_rest = max_success - num_regular
    if num_rest == 1:
        return 0
    return ((i % num_sizes) * max_size) // (num_rest - 1)


def floor_log2(v):
    return v.bit_length() - 1


# ------------------------------------------------------------------ hidden (rmsnorm_family.cpp)

def edges(cap):
    e = set()
    p = 2
    while p // 2 <= cap:
        for d in (-1, 0, 1):
            if 1 <= p + d <= cap:
                e.add(p + d)
        p *= 2
    for h in (769, 3420, 3584, 5120, 7168, 16385):
        if h <= cap:
            e.add(h)
    return sorted(e)


@functools.lru_cache(maxsize=None)
def hidden_dist(size, top, claim, unsupported):
    """[(probability, lo, hi)]: hidden uniform on [lo, hi] with that probability."""
    cap = min(top, max(64, 64 + (top - 64) * size // 100))
    parts = []  # (weight, [(p, lo, hi)])
    dense = min(cap, DENSE_MAX)
    parts.append((W_UNIFORM, [(1.0, 1, dense)]))
    ed = edges(cap)
    parts.append((W_EDGES, [(1.0 / len(ed), h, h) for h in ed]))
    octaves = 0
    while (1 << octaves) < top:
        octaves += 1
    octs = []
    for k in range(octaves + 1):
        hi = min(1 << k, top)
        lo = 1 if k == 0 else (1 << (k - 1)) + 1
        octs.append((1.0 / (octaves + 1), min(lo, hi), hi))
    parts.append((W_OCTAVE, octs))
    parts.append((W_TOP, [(1.0, top, top)]))
    if dense >= 12:
        n = (dense - 4) // 8
        parts.append((W_MULT8, [(1.0 / n, m * 8 + 4, m * 8 + 4) for m in range(1, n + 1)]))
    if unsupported:
        parts.append((W_UNSUPPORTED, [(1 / 3, 0, 0), (1 / 3, claim + 1, claim + 1), (1 / 3, claim + 8, claim + 8)]))
    total = sum(w for w, _ in parts)
    out = []
    for w, items in parts:
        for p, lo, hi in items:
            out.append((w / total * p, lo, hi))
    return out


def count_in(lo, hi, pred):
    """Integers h in [lo, hi] with pred(h); pred is a Pred."""
    if hi < lo:
        return 0
    return pred.count(lo, hi)


class Pred:
    def __init__(self, fn, count=None):
        self.fn = fn
        self._count = count

    def count(self, lo, hi):
        if self._count is not None:
            return self._count(lo, hi)
        return sum(1 for h in range(lo, hi + 1) if self.fn(h))


def gt(t):
    return Pred(lambda h: h > t, lambda lo, hi: max(0, hi - max(lo, t + 1) + 1))


def ge(t):
    return gt(t - 1)


def eq(v):
    return Pred(lambda h: h == v, lambda lo, hi: 1 if lo <= v <= hi else 0)


def in_range(a, b):
    return Pred(lambda h: a <= h <= b, lambda lo, hi: max(0, min(hi, b) - max(lo, a) + 1))


def not_mult8():
    def cnt(lo, hi):
        mult = hi // 8 - (lo - 1) // 8
        return (hi - lo + 1) - mult
    return Pred(lambda h: h % 8 != 0, cnt)


# ------------------------------------------------------------------ tokens (generators.cpp)

@functools.lru_cache(maxsize=None)
def tokens_dist(te, max_elements, empty, max_tokens=MAX_TOKENS):
    most = max(1, min(max_tokens, max_elements // max(te, 1)))
    fit = lambda t: min(t, most)
    parts = []
    parts.append((3, [(1.0, 1, 1)]))
    parts.append((4, [(1 / 8, fit(t), fit(t)) for t in range(2, 10)]))
    parts.append((2, [(1 / 7, fit(t), fit(t)) for t in (127, 131, 132, 133, 255, 256, 257)]))
    parts.append((2, [(1.0, 1, most)]))
    powers = []
    p = 2
    while p <= most:
        for d in (-1, 0, 1):
            if p + d <= most:
                powers.append(p + d)
        p *= 2
    if not powers:
        powers = [1]
    parts.append((2, [(1 / len(powers), t, t) for t in powers]))
    if empty:
        parts.append((1, [(1.0, 0, 0)]))
    total = sum(w for w, _ in parts)
    return [(w / total * p, lo, hi) for w, items in parts for p, lo, hi in items]


def case_atoms(size, budget, unsupported, empty, claim=MAX_HIDDEN, max_tokens=MAX_TOKENS):
    """The joint distribution of (hidden, tokens) of a case at `size`, as atoms
    (p, h_lo, h_hi, token_dist or fixed tokens), where token_dist depends on hidden only through
    max_elements // hidden (the callers split hidden ranges where that changes)."""
    me = budget["max_elements"]
    top_e = floor_log2(min(max_tokens, me))
    atoms = []
    p_batch = P_BATCH_FIRST if top_e >= 7 else 0.0
    for p, lo, hi in hidden_dist(size, claim, claim, unsupported):
        atoms.append((p * (1 - p_batch), lo, hi, ("rows", me, empty, max_tokens)))
    if p_batch > 0:
        es = list(range(7, top_e + 1))
        for e in es:
            for j in (-1, 0, 1):
                batch = min((1 << e) + j, max_tokens)
                bud = max(1, me // (batch * BATCH_ROW_SHARE))
                top = max(1, min(claim, bud))
                for p, lo, hi in hidden_dist(size, top, claim, unsupported):
                    atoms.append((p_batch / len(es) / 3 * p, lo, hi, ("batch", batch, bud, me)))
    return atoms


def token_pieces(kind, h):
    """[(p, t_lo, t_hi)] of num_tokens for hidden h."""
    if kind[0] == "rows":
        _, me, empty, max_tokens = kind
        return tokens_dist(max(h, 1), me, empty, max_tokens)
    _, batch, bud, me = kind
    if h <= bud:
        return [(1.0, batch, batch)]
    t = max(1, min(batch, me // max(h, 1)))
    return [(1.0, t, t)]


def blocks(lo, hi, divisors, cuts=()):
    """Split [lo, hi] into blocks on which d // max(h, 1) is constant for every d in divisors,
    also cut after every value in cuts."""
    out = []
    a = lo
    while a <= hi:
        b = hi
        hh = max(a, 1)
        for d in divisors:
            q = d // hh
            if q > 0:
                b = min(b, d // q)
        for c in cuts:
            if a <= c < b:
                b = c
        b = max(a, b)
        out.append((a, b))
        a = b + 1
    return out


def kind_key(kind, h):
    """What the token distribution of hidden h depends on."""
    if kind[0] == "rows":
        _, me, empty, max_tokens = kind
        return ("rows", max(1, min(max_tokens, me // max(h, 1))), empty)
    _, batch, bud, me = kind
    return ("batch", batch if h <= bud else max(1, min(batch, me // max(h, 1))))


def kind_divisors(kind):
    return (kind[1],) if kind[0] == "rows" else (kind[3],)


def kind_cuts(kind):
    return () if kind[0] == "rows" else (kind[2],)


_q_cache = {}


def event_q(kind, h, event, event_id):
    key = (kind_key(kind, h), event_id)
    if key not in _q_cache:
        _q_cache[key] = sum(pt * event(h, tl, th) for pt, tl, th in token_pieces(kind, h))
    return _q_cache[key]


_rows_tables = {}


def rows_table(kind, event, event_id, claim=MAX_HIDDEN):
    """Prefix sums over hidden = 0..claim+8 of the event's probability for rows-first cases
    (their token distribution depends on hidden only), so that a hidden range costs O(1)."""
    key = (kind, event_id)
    if key not in _rows_tables:
        n = claim + 9
        cum = [0.0] * (n + 1)
        acc = 0.0
        for a, b in blocks(0, n - 1, (kind[1], RESIZE_ELEMENTS)):
            q = event(kind, a)
            for h in range(a, b + 1):
                acc += q
                cum[h + 1] = acc
        _rows_tables[key] = cum
    return _rows_tables[key]


def prob_event(size, budget, unsupported, empty, event, event_id, h_pred=None):
    """P(h_pred(hidden) and event), event(kind, h) the probability given hidden h (it depends on
    h only through the token distribution and the resize cap)."""
    total = 0.0
    for p, lo, hi, kind in case_atoms(size, budget, unsupported, empty):
        n = hi - lo + 1
        if kind[0] == "rows" and h_pred is None:
            cum = rows_table(kind, event, event_id)
            if hi + 1 < len(cum):
                total += p * (cum[hi + 1] - cum[lo]) / n
                continue
        for a, b in blocks(lo, hi, kind_divisors(kind) + (RESIZE_ELEMENTS,), kind_cuts(kind)):
            k = count_in(a, b, h_pred) if h_pred is not None else b - a + 1
            if k:
                total += p * k / n * event(kind, a)
    return total


def prob(size, budget, unsupported, empty, h_pred=None, t_event=None, t_id=None):
    """P(h_pred(hidden) and t_event(tokens range))."""
    if t_event is None:
        total = 0.0
        for p, lo, hi, kind in case_atoms(size, budget, unsupported, empty):
            total += p * count_in(lo, hi, h_pred) / (hi - lo + 1)
        return total

    def event(kind, h):
        return event_q(kind, h, lambda hh, tl, th: t_event(tl, th), t_id)

    return prob_event(size, budget, unsupported, empty, event, ("t",) + tuple([t_id]), h_pred)


def t_at_least(t):
    return lambda tl, th: max(0, th - max(tl, t) + 1) / (th - tl + 1)


# ------------------------------------------------------------------ batch_invariant's resize

def resize_cap(h, max_tokens=MAX_TOKENS):
    return max(1, min(max_tokens, RESIZE_MAX_TOKENS, RESIZE_ELEMENTS // max(h, 1)))


def p_cross(n, cap, t):
    """P over the resize choice that exactly one of n and the resized batch is >= t."""
    top = floor_log2(cap)
    largest = (1 << top) + 1 if (1 << top) + 1 <= cap else 1 << top

    def crosses(m):
        m = n + 1 if m == n else max(m, 1)
        return (n >= t) != (m >= t)

    s = 0.0
    s += crosses(1)
    s += crosses(n + 1)
    s += crosses(min(2 * n + 3, cap))
    s += crosses(min(257, cap))
    s += crosses(min(133, cap))
    if top >= 1:
        acc = 0.0
        for e in range(1, top + 1):
            p = 1 << e
            if n < p:
                acc += 0.5 * crosses(min(p, cap)) + 0.5 * crosses(min(p + 1, cap))
            else:
                acc += crosses(p - 1)
        s += acc / top
    else:
        s += crosses(n + 1)
    s += 2 * crosses(largest)
    return s / 8


def p_cross_range(tl, th, cap, t):
    """Mean of p_cross over n in [tl, th] (n = 0: an empty batch, not applicable)."""
    if th < 1:
        return 0.0
    if th - tl + 1 <= 64:
        return sum(p_cross(n, cap, t) for n in range(max(tl, 1), th + 1)) / (th - tl + 1)
    # p_cross is piecewise constant in n between these breakpoints.
    brk = {tl, th + 1, t, t + 1, t - 1, (t - 3) // 2, (t - 3) // 2 + 1, cap, cap + 1,
           (cap - 3) // 2, (cap - 3) // 2 + 1, 257, 258, 133, 134}
    e = 1
    while (1 << e) <= th + 2:
        brk |= {1 << e, (1 << e) + 1, (1 << e) - 1}
        e += 1
    pts = sorted(x for x in brk if tl <= x <= th + 1)
    acc = 0.0
    for x, y in zip(pts, pts[1:]):
        if x >= 1:
            acc += (y - x) * p_cross(x, cap, t)
    return acc / (th - tl + 1)


def prob_cross(size, budget, t, h_pred=None, empty=True):
    """P(batch_invariant's two batches straddle t, and h_pred(hidden))."""
    def event(kind, h):
        cap = resize_cap(h)
        return event_q(kind, h, lambda hh, tl, th: p_cross_range(tl, th, cap, t),
                       ("cross", t, cap))

    return prob_event(size, budget, False, empty, event, ("cross", t), h_pred)


# ------------------------------------------------------------------ limits

def limit(p_of_size, max_k=3000):
    """Smallest k: P(caught within k cases of a run with maxSuccess k) >= CONFIDENCE."""
    ps = [p_of_size(s) for s in range(101)]
    for k in range(1, max_k + 1):
        miss = 1.0
        for i in range(k):
            miss *= 1 - ps[size_for(k, i)]
        if 1 - miss >= CONFIDENCE:
            return k
    return None


def quick_reach(p_of_size, cases):
    """(first n <= cases with P(reached within n) >= CONFIDENCE or None, P within cases)."""
    ps = [p_of_size(s) for s in range(101)]
    miss = 1.0
    first = None
    for i in range(cases):
        miss *= 1 - ps[size_for(cases, i)]
        if first is None and 1 - miss >= CONFIDENCE:
            first = i + 1
    return first, 1 - miss


def p_size(fn):
    return functools.lru_cache(maxsize=None)(fn)


def mutant_limits():
    third = 1 / 3
    normal_first = 8 / 14  # a row's class is normal: 8 of 14 (rmsnorm_family.cpp)
    eps_big = 8 / 9 * third  # eps = 2^-7 (bounded_error: no unsupported eps)
    rows = {}

    def both(name, p_fn, gpu_p_fn=None, note=""):
        host = limit(p_fn)
        gpu = limit(gpu_p_fn) if gpu_p_fn else host
        rows[name] = (max(host, gpu), host, gpu, p_fn(60), note)

    def ref(h_pred=None, t=None):
        ev = t_at_least(t) if t is not None else None
        return p_size(lambda s: prob(s, REF, False, False, h_pred=h_pred, t_event=ev,
                                     t_id=("ge", t)))

    both("fp16_accumulation", lambda s: third * ref(gt(4))(s), note="fp32 rows of more than 4")
    both("eps_outside_sqrt", lambda s: eps_big, note="eps = 2^-7")
    p8 = ref(gt(8))
    both("legacy_mixed_as_fp32_sum", lambda s: 2 * third * normal_first * p8(s),
         note="16-bit normal rows > 8")
    both("rounded_sum_as_fp32_sum", lambda s: 2 * third * normal_first * p8(s),
         note="16-bit normal rows > 8")
    p512 = ref(gt(512))
    both("single_rounding_as_hf", lambda s: 2 * third * normal_first * p512(s),
         note="16-bit normal rows > 512")
    pm8 = ref(not_mult8())
    both("missing_tail", lambda s: 0.5 * pm8(s), note="hidden % 8 != 0, out of place")
    p2 = ref(t=2)
    both("row_stride_ignored", lambda s: p2(s) * (1 - (6 / 9) ** 2),
         note="two rows and a padded input stride")
    both("out_of_bounds_write", lambda s: 1.0, note="every case")
    both("last_element_above_8000", ref(gt(8000)), note="hidden > 8000")
    both("noop_at_hidden_256", ref(eq(256)), note="hidden == 256")
    sup = lambda b: p_size(lambda s: prob(s, b, True, True,
                                          h_pred=in_range(MAX_HIDDEN + 1, 2 * MAX_HIDDEN)))
    both("check_accepts_too_large", sup(HOST), sup(GPU), note="65536 < hidden <= 131072")
    # The moved row's class must have random magnitudes (normal, tiny, huge, eps_dominated):
    # zero, one-hot, constant, alternating and subnormal rows can sum the same in any order.
    random_row = 8 / 14 + 6 / 14 * 3 / 8
    lanes = lambda b, t: p_size(lambda s: third * random_row * prob_cross(s, b, t, h_pred=gt(32)))
    both("batch_dependent_lanes", lanes(HOST, 256), lanes(GPU, 256),
         note="fp32 random rows > 32 in batches on both sides of 256")
    both("rows_past_4096_unwritten", ref(t=4097), note="num_tokens > 4096")
    lanes32 = lambda b, t: p_size(lambda s: random_row * prob_cross(s, b, t, h_pred=gt(32)))
    both("batch_dependent_lanes_from_3000", lanes32(HOST, 3000), lanes32(GPU, 3000),
         note="(an fp32-only subject) random rows > 32 in batches on both sides of 3000")
    both("noop_above_hidden_32768", ref(gt(32768)), note="hidden > 32768")
    return rows


def coverage():
    print("\ncoverage at the quick level: cases by which a run crosses the threshold with "
          "probability 0.999 (- : not within the quick run; P within it in brackets)")
    print(f"{'threshold':>16} | {'bounded_error':>15} | {'bitwise (host)':>15} | "
          f"{'bitwise (GPU)':>15} | {'batch_inv (host)':>17} | {'batch_inv (GPU)':>16}")

    def cell(p_fn, cases):
        first, p = quick_reach(p_fn, cases)
        return f"{first}" if first is not None else f"- ({math.floor(p * 1000) / 1000:.3f})"

    for k in range(1, 18):
        t = 1 << k
        ev = t_at_least(t)
        be = cell(p_size(lambda s: prob(s, REF, False, False, t_event=ev, t_id=("ge", t))),
                  NORM_REF["cases"])
        bh = cell(p_size(lambda s: prob(s, HOST, False, True, t_event=ev, t_id=("ge", t))),
                  HOST["cases"])
        bg = cell(p_size(lambda s: prob(s, GPU, False, True, t_event=ev, t_id=("ge", t))),
                  GPU["cases"])
        ih = cell(p_size(lambda s: prob_cross(s, HOST, t)), HOST["cases"])
        ig = cell(p_size(lambda s: prob_cross(s, GPU, t)), GPU["cases"])
        print(f"{'tokens >= 2^%d' % k:>16} | {be:>15} | {bh:>15} | {bg:>15} | {ih:>17} | {ig:>16}")
    for k in range(1, 17):
        t = 1 << k
        be = cell(p_size(lambda s: prob(s, REF, False, False, h_pred=ge(t))), NORM_REF["cases"])
        bh = cell(p_size(lambda s: prob(s, HOST, False, True, h_pred=ge(t))), HOST["cases"])
        bg = cell(p_size(lambda s: prob(s, GPU, False, True, h_pred=ge(t))), GPU["cases"])
        print(f"{'hidden >= 2^%d' % k:>16} | {be:>15} | {bh:>15} | {bg:>15} |")


# ---- act_and_mul (properties/src/act_and_mul/act_and_mul_family.cpp, act_and_mul_mutants.cpp)
# d is drawn by gen_d(cap, claim): uniform 4, edges 4, 8m + 4 2, unsupported (0 or claim + 1) 1;
# cap scales with the size from 64 to min(claim, 32768, the elements a token may cost / 3): a
# big batch drawn first (generators.cpp, one case in four) leaves rows of few elements.
ACT_MAX_D = 1 << 20
ACT_CAP_MAX = 32768


def act_cap(size, mte):
    top = min(ACT_MAX_D, ACT_CAP_MAX, mte // 3)
    return max(1, min(top, max(64, 64 + (top - 64) * size // 100)))


def act_edges(c, claim=ACT_MAX_D):
    e = list(range(1, 17))
    p = 32
    while p <= c:
        e += [p - 1, p, p + 1]
        p *= 2
    e += [d for d in (3420, 11008, 13824, 14336, 18944, 28672) if d <= c]
    return [d for d in e if d <= claim]


def p_d_cap(pred, c, unsupported, claim=ACT_MAX_D):
    """P(pred(d)) under gen_d(c, claim, unsupported)."""
    top = min(max(c, 16), claim)
    w = {"uniform": 4, "edges": 4, "mult8": 2, "unsup": 1 if unsupported else 0}
    uni = sum(1 for d in range(1, top + 1) if pred(d)) / top
    ed = act_edges(c, claim)
    edg = sum(1 for d in ed if pred(d)) / len(ed)
    ms = range(1, max(top // 8, 2))
    m8 = sum(1 for m in ms if pred(min(m * 8 + 4, claim))) / len(ms)
    un = sum(1 for d in (0, claim + 1) if pred(d)) / 2
    return (w["uniform"] * uni + w["edges"] * edg + w["mult8"] * m8 + w["unsup"] * un) / sum(
        w.values())


def p_d(pred, size, budget, unsupported=False, batch_pred=None):
    """P(pred(d)) of a case at `size` under `budget`: rows first (3 in 4, any row size) or a
    big batch first (2^e + {-1, 0, 1} tokens, e in [7, log2 max_elements]); batch_pred(d, batch,
    max_elements), when given, also counts only batch-first cases it accepts."""
    me = budget["max_elements"]
    top_e = floor_log2(min(MAX_TOKENS, me))
    pb = P_BATCH_FIRST if top_e >= 7 else 0.0
    total = (1 - pb) * p_d_cap(pred, act_cap(size, 1 << 62), unsupported)
    es = list(range(7, top_e + 1))
    for e in es:
        for j in (-1, 0, 1):
            batch = (1 << e) + j
            q = (lambda d: pred(d) and batch_pred(d, batch, me)) if batch_pred else pred
            total += pb / len(es) / 3 * p_d_cap(q, act_cap(size, max(1, me // batch)),
                                                  unsupported)
    return total


# The first row class of a case (gen_row_class without specials): normal 8, tail 3, and one of
# large, subnormal, tiny, huge, zero, mixed 6 (1 each), of 17.
NORMAL, TAIL, ONE_OTHER = 8 / 17, 3 / 17, 1 / 17


def act_limits():
    third = 1 / 3
    rows = {}

    def row(name, p_fn, note, gpu_p_fn=None):
        host = limit(p_size(p_fn))
        gpu = limit(p_size(gpu_p_fn)) if gpu_p_fn else host
        rows[name] = (max(host, gpu), host, gpu, p_fn(60), note)

    d16 = p_size(lambda s: p_d(lambda d: d >= 16, s, REF))
    # torch as single / single as torch: about a quarter of 16-bit outputs of normal rows differ
    # between the two roundings (wave2-semantics.md section 2); counted only for 16-bit normal
    # rows of d >= 16 (P(no differing element) < 0.75^16 = 0.01, taken as caught).
    row("act.torch_as_single", lambda s: 2 * third * NORMAL * d16(s), "16-bit normal rows, d >= 16")
    row("act.single_as_torch", lambda s: 2 * third * NORMAL * d16(s), "16-bit normal rows, d >= 16")
    # fast exp (silu): e^-g overflows fp32 for g < -88.72, leaving -0 where the exact value is a
    # nonzero bf16 (g > -97.5: 29 % of the tail range [-110, -80]) or fp32 (all of it: the
    # argument's rounding alone is ~88 2^-24 relative, > 80 fp32 ulp); counted: silu tail rows
    # (first class tail) of bf16 or fp32 with d >= 16 (P(no hit) < 0.71^16 = 0.004).
    row("act.fast_exp", lambda s: 2 * third * TAIL * d16(s), "silu tail rows, d >= 16")
    # tanh form as erf: the two GELUs differ by ~1e-4 relative near |g| ~ 1 (far above fp32's
    # 2^-24): fp32 normal rows of any d; 16-bit rows not counted.
    row("act.tanh_form_as_erf", lambda s: third * NORMAL, "fp32 normal rows")
    # tail cancellation: 1 + erf(g / sqrt 2) rounds to 0 from g ~ -5.5 and loses its relative
    # accuracy above: every element of a gelu tail row ([-14, -4]) in fp32 and 90 % in bf16 is
    # wrong; counted: bf16/fp32 tail rows of d >= 4.
    d4 = p_size(lambda s: p_d(lambda d: d >= 4, s, REF))
    row("act.tail_cancellation", lambda s: 2 * third * TAIL * d4(s), "gelu tail rows, d >= 4")
    # missing tail: d % 8 != 0 (the unwritten outputs stay poison): any case.
    row("act.missing_tail", p_size(lambda s: p_d(lambda d: d % 8 != 0, s, REF)), "d % 8 != 0")
    # output stride ignored: two or more rows and a padded output stride (3 in 9). Rows first:
    # num_tokens is fitted to 2^15 / (3d) tokens, at least 2 for d <= 5461, and then >= 2 with
    # probability >= 8/13 (gen_tokens: 1 has weight 3 of 13, and at most half of the uniform and
    # of the powers choices when two tokens fit); batch first: the batch, or the batch fitted to
    # the budget, >= 2 for d <= 5461 too.
    small = lambda d: 3 * d * 2 <= REF["max_elements"]
    rows_first = p_size(lambda s: p_d(small, s, REF, batch_pred=lambda d, b, me: False))
    batch_first = p_size(lambda s: p_d(small, s, REF) - rows_first(s))
    row("act.output_stride_ignored",
        lambda s: (8 / 13 * rows_first(s) + batch_first(s)) / 3,
        "two rows (d <= 5461) and a padded output stride")
    # gate/up swapped: act(u) g != act(g) u for almost every element of a normal row.
    row("act.gate_up_swapped", lambda s: NORMAL, "normal rows")
    # ftz gates: bf16 or fp32 rows whose first class is subnormal (every gate an fp32 subnormal;
    # the exact outputs ~g u / 2 are nonzero in both formats), or mixed with d >= 16 (each gate
    # subnormal with prob 1/7: P(none) = (6/7)^16 = 0.085).
    row("act.ftz_gates", lambda s: 2 * third * (ONE_OTHER + ONE_OTHER * 0.915 * d16(s)),
        "subnormal gates (or mixed, d >= 16)")
    # support_agrees draws unsupported sizes: d == 0 with weight 1/2 of 1 in 11 (host and GPU
    # budgets: the GPU mutant shares the limit).
    zero = lambda b: p_size(lambda s: p_d(lambda d: d == 0, s, b, unsupported=True))
    row("act.check_accepts_zero_d", zero(HOST), "d == 0 (unsupported sizes drawn)", zero(GPU))
    return rows


def act_report():
    for name, (lim, host, gpu, p60, note) in act_limits().items():
        print(f"{name:34s} limit {lim:5d}  (host {host}, gpu {gpu}); p at size 60: {p60:.4f}; "
              f"{note}")


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
    k = limit(lambda s: p)
    print(f"{name:34s} limit {k:5d}  (p = {p:.4f}, the same at every size)")


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
    for name, (lim, host, gpu, p60, note) in mutant_limits().items():
        print(f"{name:34s} limit {lim:5d}  (host {host}, gpu {gpu}); p at size 60: {p60:.4f}; "
              f"{note}")
    act_report()
    qk_calibration_report()
    if "--coverage" in sys.argv[1:]:
        coverage()
