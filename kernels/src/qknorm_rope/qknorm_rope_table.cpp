// The per-pair frequency constants of a qknorm_rope call (qknorm_rope_job.h: rope_table):
// c_j = f_j / (2 pi) mod 1 as a 128-bit fixed-point fraction, f_j = base^(-2j / rd) g_j, g_j the
// YaRN blend ramp_j / factor + (1 - ramp_j), ramp_j = clamp((j - low) / (high' - low), 0, 1).
// Host code run once a call; kernel and twin read the same table, so it never breaks the
// bitwise promise, only the accuracy depends on it.
//
// Double-double (dd) arithmetic: a value hi + lo of two doubles, about 106 bits. Every dd
// operation below has a relative error below 2^-102 (two_sum/two_prod are exact; the low-order
// terms are rounded once or twice). Evaluation and its error:
//  - L = ln(base): the double log, then two Newton steps y += base e^-y - 1 (quadratic
//    convergence from 2^-50: the second step is limited by exp's error), |L' / L - 1| < 2^-98.
//  - x = -(2j / rd) L: the ratio in dd (one division), |x| <= L <= 88.1 (base <= 2^127); its
//    absolute error is below 88.1 2^-97 < 2^-90.5.
//  - e^x: x = k ln2 + r (ln 2 in dd, |r| <= 0.35), r' = r / 32, the Taylor series to r'^16
//    (truncation below 2^-140), squared five times (the relative error doubles at each
//    squaring: 32 2^-101 = 2^-96), times 2^k (exact). Relative error of f_j: 2^-90.5 from x
//    plus 2^-96, below 2^-90.
//  - g_j: three dd operations, 1/(2 pi) as dd (|error| < 2^-107 relative): c_j's relative error
//    stays below 2^-89.9, its absolute error below 2^-92.5 (c_j < 1 / (2 pi) for base >= 1 and
//    factor >= 1).
//  - Rounding to 128 bits: 2^-128.
// So p c_j mod 1 is known to |p| 2^-92.5 + 2^-64 (the kernel's dropped low word): below 2^-61
// turns for |p| < 2^31 and below 2^-29.5 turns for every int64 (qknorm_rope_row.h carries it on).
#include <cmath>
#include <cstdint>

#include "qknorm_rope/qknorm_rope_job.h"

namespace kc::detail {
namespace {

struct Dd {
  double hi;
  double lo;
};

Dd two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
Dd fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}
Dd dd_add(Dd x, Dd y) {
  const Dd s = two_sum(x.hi, y.hi);
  const Dd t = two_sum(x.lo, y.lo);
  Dd r = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(r.hi, r.lo + t.lo);
}
Dd dd_neg(Dd x) { return {-x.hi, -x.lo}; }
Dd dd_mul(Dd x, Dd y) {
  const double p = x.hi * y.hi;
  double e = std::fma(x.hi, y.hi, -p);
  e += x.hi * y.lo + x.lo * y.hi;
  return fast_two_sum(p, e);
}
Dd dd_mul_d(Dd x, double d) { return dd_mul(x, {d, 0.0}); }
Dd dd_div(Dd x, Dd y) {
  const double q1 = x.hi / y.hi;
  Dd r = dd_add(x, dd_neg(dd_mul_d(y, q1)));
  const double q2 = r.hi / y.hi;
  r = dd_add(r, dd_neg(dd_mul_d(y, q2)));
  const double q3 = r.hi / y.hi;
  return dd_add(fast_two_sum(q1, q2), {q3, 0.0});
}

constexpr Dd kLn2 = {0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};
constexpr Dd kInvTwoPi = {0x1.45f306dc9c883p-3, -0x1.6b01ec5417056p-57};

Dd dd_exp(Dd x) {
  const double k = std::nearbyint(x.hi / kLn2.hi);
  const Dd r = dd_add(x, dd_neg(dd_mul_d(kLn2, k)));
  const Dd rs = {std::ldexp(r.hi, -5), std::ldexp(r.lo, -5)};
  Dd s = {1.0, 0.0};
  for (int n = 16; n >= 1; --n) {
    s = dd_add({1.0, 0.0}, dd_div(dd_mul(rs, s), {static_cast<double>(n), 0.0}));
  }
  for (int i = 0; i < 5; ++i) s = dd_mul(s, s);
  const int ki = static_cast<int>(k);
  return {std::ldexp(s.hi, ki), std::ldexp(s.lo, ki)};
}

Dd dd_log(double b) {
  Dd y = {std::log(b), 0.0};
  for (int i = 0; i < 2; ++i) {
    const Dd t = dd_mul_d(dd_exp(dd_neg(y)), b);
    y = dd_add(y, dd_add(t, {-1.0, 0.0}));
  }
  return y;
}

// The low 128 bits of round(v 2^128) for 0 <= v (dd, hi >= 0), as (hi 64, lo 64): v mod 1.
__extension__ typedef unsigned __int128 U128;
U128 to_fixed(double d) {
  if (d == 0.0) return 0;
  int e = 0;
  const double m = std::frexp(d, &e);                            // d = m 2^e, 0.5 <= |m| < 1
  const auto mi = static_cast<std::int64_t>(std::ldexp(m, 53));  // exact
  const int sh = e - 53 + 128;                                   // d 2^128 = mi 2^sh
  const bool neg = mi < 0;
  U128 mag = static_cast<U128>(neg ? -mi : mi);
  if (sh >= 128) {
    mag = 0;
  } else if (sh >= 0) {
    mag <<= sh;
  } else if (sh > -128) {
    mag >>= -sh;
  } else {
    mag = 0;
  }
  return neg ? static_cast<U128>(0) - mag : mag;
}

}  // namespace

void rope_table(const QkNormRopeArgs& a, RopeTable* out) {
  const std::int64_t pairs = a.rotary_dim / 2;
  if (pairs == 0) return;
  const Dd ln_base = dd_log(a.base);
  const bool yarn = a.yarn.factor != 1.0f;
  float high = a.yarn.high;
  if (yarn) {
    const float diff = a.yarn.low - a.yarn.high;  // SGLang's guard, in its fp32 operations
    if (diff <= 1e-6f && diff >= -1e-6f) high = a.yarn.high + 0.001f;
  }
  const double low = a.yarn.low;
  for (std::int64_t j = 0; j < pairs; ++j) {
    const Dd ratio =
        dd_div({static_cast<double>(2 * j), 0.0}, {static_cast<double>(a.rotary_dim), 0.0});
    Dd f = dd_exp(dd_neg(dd_mul(ratio, ln_base)));
    if (yarn) {
      // ramp = clamp((j - low) / (high - low), 0, 1): j - low and high - low exact in dd.
      const Dd num = two_sum(static_cast<double>(j), -low);
      const Dd den = two_sum(static_cast<double>(high), -low);
      Dd ramp = dd_div(num, den);
      if (ramp.hi < 0.0) ramp = {0.0, 0.0};
      if (ramp.hi > 1.0 || (ramp.hi == 1.0 && ramp.lo > 0.0)) ramp = {1.0, 0.0};
      const Dd interp = dd_div(ramp, {static_cast<double>(a.yarn.factor), 0.0});
      const Dd g = dd_add(interp, dd_add({1.0, 0.0}, dd_neg(ramp)));
      f = dd_mul(f, g);
    }
    const Dd c = dd_mul(f, kInvTwoPi);
    const U128 v = to_fixed(c.hi) + to_fixed(c.lo);
    out->c[j] = RopeConst{static_cast<std::uint64_t>(v >> 64), static_cast<std::uint64_t>(v)};
  }
}

}  // namespace kc::detail
