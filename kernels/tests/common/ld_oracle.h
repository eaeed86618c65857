// The kernels tests' oracle for elementary functions: x86 `long double` (64-bit significand)
// libm (expl, erfcl, erfl, tanhl: about 1 ulp of long double, 2^-63 relative) and exact
// rounding of a long double to fp32/fp16/bf16. The kernels layer may not use the reference
// library; long double is enough to score fp32 errors and to decide 16-bit roundings except
// within about 2^-60 of a midpoint: such values are flagged (rn_ld's `near_tie`) and the caller
// decides them by an exact argument or reports them.
#pragma once

#include <cmath>
#include <cstdint>

#include "kc/kernels/dtype.h"

namespace kc::test {

using LD = long double;

inline const LD kSqrt2OverPiLd = sqrtl(2.0L / 3.141592653589793238462643383279502884L);

// Precision (with the implicit bit) and exponent range of a format.
struct FormatInfo {
  int p, emin, emax;
};
constexpr FormatInfo format_info(DType d) {
  return d == DType::kFp32   ? FormatInfo{24, -126, 127}
         : d == DType::kFp16 ? FormatInfo{11, -14, 15}
                             : FormatInfo{8, -126, 127};
}

// The spacing of format values at |v| (its ulp; the subnormal spacing below the normal range).
inline LD ulp_of(DType d, LD v) {
  const FormatInfo f = format_info(d);
  const LD a = fabsl(v);
  int e = a == 0 ? f.emin : ilogbl(a);
  if (e < f.emin) e = f.emin;
  return ldexpl(1.0L, e - f.p + 1);
}

// rn(v) to the format, round to nearest even, as a long double value (+-inf past the overflow
// threshold, signed zero kept). `dir` breaks an exact tie of v the way the true value (v plus an
// infinitesimal) goes: +1 above v, -1 below, 0 for v exact. `near_tie` (optional) is set when v
// lies within 2^-60 |v| of a midpoint: then the oracle's own error may have decided it.
inline LD rn_ld(DType d, LD v, int dir = 0, bool* near_tie = nullptr) {
  const FormatInfo f = format_info(d);
  if (near_tie) *near_tie = false;
  if (v != v || v == 0 || std::isinf(v)) return v;
  const LD a = fabsl(v);
  const LD q = ulp_of(d, a);
  LD n = floorl(a / q);
  const LD rest = a / q - n;  // exact: q is a power of two
  if (near_tie && fabsl(rest - 0.5L) * q <= ldexpl(a, -60)) *near_tie = true;
  const int mdir = std::signbit(v) ? -dir : dir;  // direction in magnitude
  if (rest > 0.5L || (rest == 0.5L && (mdir > 0 || (mdir == 0 && fmodl(n, 2.0L) == 1.0L)))) {
    n += 1;
  }
  LD r = n * q;
  if (r >= ldexpl(1.0L, f.emax + 1)) r = INFINITY;
  return std::signbit(v) ? -r : r;
}

// Error of y against the true value t in units of the format's ulp at t.
inline LD ulp_error(DType d, LD y, LD t) { return fabsl(y - t) / ulp_of(d, t); }

// The activations, cancellation-free forms evaluated in long double.
inline LD logistic_times_ld(LD g, LD w) {
  return w >= 0 ? g / (1 + expl(-w)) : g * expl(w) / (1 + expl(w));
}
inline LD silu_ld(LD g) { return logistic_times_ld(g, g); }
inline LD gelu_ld(LD g) { return g / 2 * erfcl(-g / sqrtl(2.0L)); }
inline LD gelu_tanh_ld(LD g) {
  return logistic_times_ld(g, 2 * kSqrt2OverPiLd * (g + 0.044715L * g * g * g));
}
// The normal upper tail Q(y) = erfc(y / sqrt 2) / 2.
inline LD normal_tail_ld(LD y) { return erfcl(y / sqrtl(2.0L)) / 2; }

}  // namespace kc::test
