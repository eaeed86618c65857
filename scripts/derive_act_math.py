#!/usr/bin/env python3
"""Derivation of the polynomial coefficients and constants of kernels/src/common/math.h.

Every approximation is a polynomial fitted by Lawson's algorithm (iteratively reweighted least
squares, which converges to the minimax fit) to the RELATIVE error of the target function on the
stated interval, in 50-digit arithmetic (mpmath). Coefficients are then rounded one by one, from
the lowest degree up, each rounding followed by a refit of the higher ones (so the rounding of a
low-order coefficient is absorbed by the others): to fp32 (the Horner part evaluated in fp32) or
to a float-float pair hi + lo (the coefficients of the float-float Horner steps). The script
prints the C++ hex-float literals and the maximum relative error of the rounded polynomial on a
dense grid of the interval (its approximation error alone; the evaluation error in fp32 is
measured by the C++ tests). Constants are correctly rounded (hi = RN(c), lo = RN(c - hi)).
Run: python3 scripts/derive_act_math.py   (needs mpmath; takes about a minute)
"""
import struct

import mpmath as mp

mp.mp.dps = 50


def f32(x):
    """Round to the nearest fp32 (ties to even), as an mpf."""
    return mp.mpf(struct.unpack('<f', struct.pack('<f', float(x)))[0]) if abs(x) < 1e-30 else \
        _rn32(mp.mpf(x))


def _rn32(x):
    if x == 0:
        return mp.mpf(0)
    m, e = mp.frexp(x)  # x = m 2^e, 0.5 <= |m| < 1
    q = mp.ldexp(1, e - 24)
    n = x / q
    fl = mp.floor(n)
    r = n - fl
    if r > 0.5 or (r == 0.5 and int(fl) % 2 == 1):
        fl += 1
    return fl * q


def ff(x):
    hi = _rn32(mp.mpf(x))
    lo = _rn32(mp.mpf(x) - hi)
    return hi, lo


def hexf(x):
    """C++ hex float literal of an fp32 value."""
    x = mp.mpf(x)
    if x == 0:
        return '0.0f'
    s = '-' if x < 0 else ''
    x = abs(x)
    m, e = mp.frexp(x)  # x = m 2^e, m in [0.5, 1)
    m *= 2
    e -= 1
    frac = int(mp.nint((m - 1) * 2**24))  # 24 fraction bits: 23 significant, shifted by 1
    assert frac % 2 == 0
    digits = '%06x' % frac
    digits = digits.rstrip('0')
    return '%s0x1%sp%+df' % (s, ('.' + digits) if digits else '', e)


def cheb_nodes(a, b, n):
    return [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (2 * i + 1) / (2 * n)) for i in range(n)]


def lawson(fs, xs, B, rel_scale, iters=60):
    """Minimax (Lawson) fit of values fs by the basis rows B, error divided by rel_scale."""
    m = len(B[0])
    ws = [mp.mpf(1)] * len(xs)
    errs = None
    for _ in range(iters):
        A = mp.matrix(m, m)
        rhs = mp.matrix(m, 1)
        for i in range(len(xs)):
            wi = ws[i] / (rel_scale[i] ** 2)
            for j in range(m):
                rhs[j] += wi * B[i][j] * fs[i]
                for k in range(m):
                    A[j, k] += wi * B[i][j] * B[i][k]
        c = mp.lu_solve(A, rhs)
        errs = [abs(sum(c[j] * B[i][j] for j in range(m)) - fs[i]) / rel_scale[i]
                for i in range(len(xs))]
        tot = sum(ws[i] * errs[i] for i in range(len(xs)))
        ws = [ws[i] * errs[i] / tot for i in range(len(xs))]
    return [c[j] for j in range(m)], max(errs)


def fit_rounded(f, a, b, deg, kinds, scale=None, n_nodes=None):
    """Fit f(x) ~ sum c_i x^i (i = 0..deg) on [a, b], relative error (relative to scale(x) if
    given). kinds[i] = 'f' (fp32) or 'ff' (hi + lo): the rounding of coefficient i. Returns the
    list of rounded coefficients (mpf or (hi, lo)) and the max relative error on a dense grid."""
    a, b = mp.mpf(a), mp.mpf(b)
    n = n_nodes or 12 * (deg + 1)
    xs = cheb_nodes(a, b, n) + [a, b]
    fx = [f(x) for x in xs]
    sc = [abs(scale(x)) if scale else abs(v) for x, v in zip(xs, fx)]
    fixed = {}
    for i in range(deg + 1):
        free = [j for j in range(deg + 1) if j not in fixed]
        B = [[x ** j for j in free] for x in xs]
        resid = [fx[k] - sum(fixed[j] * xs[k] ** j for j in fixed) for k in range(len(xs))]
        c, _ = lawson(resid, xs, B, sc)
        ci = c[free.index(i)]
        if kinds[i] == 'ff':
            hi, lo = ff(ci)
            fixed[i] = hi + lo
        else:
            fixed[i] = _rn32(ci)
    coeffs = [fixed[i] for i in range(deg + 1)]
    out = [ff(coeffs[i]) if kinds[i] == 'ff' else coeffs[i] for i in range(deg + 1)]
    err = 0
    for k in range(4001):
        x = a + (b - a) * k / 4000
        v = f(x)
        s = abs(scale(x)) if scale else abs(v)
        p = sum(coeffs[i] * x ** i for i in range(deg + 1))
        err = max(err, abs(p - v) / s)
    return out, err


def show(name, coeffs, err, note):
    print('// %s: %s; max relative approximation error 2^%.1f' % (name, note, float(mp.log(err, 2))))
    for i, c in enumerate(coeffs):
        if isinstance(c, tuple):
            print('  c%d = {%s, %s}' % (i, hexf(c[0]), hexf(c[1])))
        else:
            print('  c%d = %s' % (i, hexf(c)))


def main():
    ln2 = mp.log(2)
    print('// constants (hi = RN(c), lo = RN(c - hi))')
    log2e = _rn32(1 / ln2)
    l1, l2 = ff(ln2)
    print('  log2(e) = %s' % hexf(log2e))
    print('  ln2 = {%s, %s}' % (hexf(l1), hexf(l2)))
    print('  ln2 - hi - lo = %s' % mp.nstr(ln2 - l1 - l2, 5))
    s1, s1l = ff(1 / mp.sqrt(2))
    print('  1/sqrt2 = {%s, %s}' % (hexf(s1), hexf(s1l)))
    r2, r2l = ff(mp.sqrt(2))
    print('  sqrt2 = {%s, %s}' % (hexf(r2), hexf(r2l)))
    beta = mp.sqrt(2 / mp.pi)
    kappa = mp.mpf(44715) / 10**6
    print('  sqrt(2/pi) = %s' % hexf(_rn32(beta)))
    c1 = ff(2 * beta)
    c3 = ff(2 * beta * kappa)
    print('  2 sqrt(2/pi) = {%s, %s}' % (hexf(c1[0]), hexf(c1[1])))
    print('  2 sqrt(2/pi) 0.044715 = {%s, %s}' % (hexf(c3[0]), hexf(c3[1])))
    c0 = ff(2 / mp.sqrt(mp.pi))
    print('  2/sqrt(pi) = {%s, %s}' % (hexf(c0[0]), hexf(c0[1])))

    # exp: r = x - k ln2 with k = rint(x log2e): |r| <= ln2/2 plus the rounding of x log2e.
    R = mp.mpf('0.3467')
    q = lambda r: (mp.exp(r) - 1 - r) / r**2 if r != 0 else mp.mpf(1) / 2
    co, e = fit_rounded(q, -R, R, 4, ['f'] * 5)
    show('kExpFast (e^r - 1 - r) / r^2 on [-0.3467, 0.3467]', co, e, 'degree 4')
    A = lambda r: (mp.exp(r) - 1 - r - r * r / 2) / r**3 if r != 0 else mp.mpf(1) / 6
    co, e = fit_rounded(A, -R, R, 5, ['f'] * 6)
    show('kExpA (e^r - 1 - r - r^2/2) / r^3 on [-0.3467, 0.3467]', co, e, 'degree 5')

    # Normal upper tail Q(y) = erfc(y / sqrt 2) / 2 = e^(-y^2/2) t W(t), t = 1 / (1 + P y).
    P = _rn32(mp.mpf('0.35'))
    print('  P = %s' % hexf(P))
    Rn = lambda y: mp.erfc(y / mp.sqrt(2)) / 2 * mp.exp(y * y / 2)

    def Wfun(tc):
        return lambda tau: Rn((1 / (tc + tau) - 1) / P) / (tc + tau)

    tc = mp.mpf('0.5625')
    t_lo = 1 / (1 + 7 * P)
    t_lo13 = 1 / (1 + 13 * P)
    co, e = fit_rounded(Wfun(tc), t_lo13 - tc, 1 - tc, 8, ['f'] * 9)
    show('kTailFast W(tau), tau = t - 0.5625, y in [0, 13]', co, e, 'degree 8')
    co, e = fit_rounded(Wfun(tc), t_lo - tc, 1 - tc, 11, ['ff'] * 3 + ['f'] * 9)
    show('kTailMain W(tau), tau = t - 0.5625, y in [0, 7]', co, e, 'degree 11')
    check_fast_two_sum(co, t_lo - tc, 1 - tc, 3)
    tct = mp.mpf('0.1875')
    t_hi2 = 1 / (1 + 20 * P)
    co, e = fit_rounded(Wfun(tct), t_hi2 - tct, t_lo - tct, 7, ['ff'] * 2 + ['f'] * 6)
    show('kTailFar W(tau), tau = t - 0.1875, y in [7, 20]', co, e, 'degree 7')
    check_fast_two_sum(co, t_hi2 - tct, t_lo - tct, 2)

    # erf(x) = x (2/sqrt(pi) + s S1(s)), s = x^2 <= 0.25
    c0v = 2 / mp.sqrt(mp.pi)
    S1 = lambda s: (mp.erf(mp.sqrt(s)) / mp.sqrt(s) - c0v) / s if s != 0 else -c0v / 3
    Sfull = lambda s: mp.erf(mp.sqrt(s)) / mp.sqrt(s) if s != 0 else c0v
    co, e = fit_rounded(S1, 0, mp.mpf('0.25'), 5, ['f'] * 6,
                        scale=lambda s: Sfull(s) / s if s != 0 else c0v / mp.mpf('1e-30'))
    show('kErfSmall S1(s), erf(x) = x (2/sqrt(pi) + s S1(s)), s = x^2 in [0, 0.25]', co, e,
         'degree 5 (error relative to erf(x)/x, over s)')
    # tanh(x) = x + x s T(s), s = x^2 <= 0.3025
    T = lambda s: (mp.tanh(mp.sqrt(s)) / mp.sqrt(s) - 1) / s if s != 0 else mp.mpf(-1) / 3
    Tfull = lambda s: mp.tanh(mp.sqrt(s)) / mp.sqrt(s) if s != 0 else mp.mpf(1)
    co, e = fit_rounded(T, 0, mp.mpf('0.3025'), 6, ['f'] * 7,
                        scale=lambda s: Tfull(s) / s if s != 0 else mp.mpf('1e30'))
    show('kTanhSmall T(s), tanh(x) = x + x s T(s), s = x^2 in [0, 0.3025]', co, e,
         'degree 6 (error relative to tanh(x)/x, over s)')


def check_fast_two_sum(co, a, b, nff):
    """The float-float Horner steps add c_i + tau * acc with a fast two-sum, which needs
    |c_i| >= |tau * acc| on the whole interval; print the worst ratio."""
    vals = [c[0] + c[1] if isinstance(c, tuple) else c for c in co]
    worst = [0] * nff
    for k in range(2001):
        tau = a + (b - a) * k / 2000
        acc = mp.mpf(0)
        for i in range(len(vals) - 1, -1, -1):
            if i < nff:
                worst[i] = max(worst[i], abs(tau * acc) / abs(vals[i]))
            acc = acc * tau + vals[i]
    print('  max |tau acc| / |c_i| for the float-float steps i = 0..%d: %s' %
          (nff - 1, ' '.join('%.3f' % float(w) for w in worst)))


if __name__ == '__main__':
    main()
