// Certified values: evaluate in double with a derived error bound, decide each rounding only
// where the bound proves it, and compare ULP errors against a bound without ever guessing.
//
// Every family's fast path (norms now; activations and RoPE as they arrive) is built the same
// way: compute a double `mid` and a rigorous radius `rad` with the exact real value v in
// [mid - rad, mid + rad] (an Enclosure); decide_rounding() then returns the correct rounding
// of v when no rounding boundary of the target format lies in that closed interval, and says
// "undecided" otherwise, so the caller falls back to the exact (Boost.Multiprecision) path for
// that value. A decided rounding is therefore always the correct one; the fast path is only
// ever faster, never less certain.
//
// Scope: formats with precision <= 24 and at most 8 exponent bits (fp32, fp16, bf16, the fp8
// formats): every value, midpoint and overflow threshold of such a format is a double. The
// functions here accept any double; a fast path that derives an error bound with relative
// rounding errors must keep its own values away from double over- and underflow and say why
// (the norm path's lie within 2^-600 .. 2^600).
//
// Exactness of the ULP-error comparison (DESIGN.md section 4, ulp_error): ulp_error() returns
// the exact fraction as a double, so `ulp_error(...) <= bound` misjudges errors that round onto
// the bound (an output one ulp off from a value 2^-70 ulp below a midpoint scores 0.5 and
// passes a 0.5 bound). The functions below decide `|y - v| <= bound * ulp(f, v)` exactly:
// ulp_error_within() for an Exact v taken as exact, compare_ulp_error() for an enclosure of v.
// When v is itself an approximation of an irrational value (a 320-bit evaluation with a
// tracked relative error, e.g. NormRowResult::approx_rel_error), "exactly" means: decided for
// every real in v's error interval. A comparison that this interval cannot settle returns
// kUndecided; it must go to a wider evaluation or be reported as undecided, never be guessed.
#pragma once

#include <cstdint>
#include <functional>

#include "kc/ref/exact.h"
#include "kc/ref/format.h"

namespace kc::ref {

// The exact real value lies in [mid - rad, mid + rad] (real endpoints, never rounded).
// rad = 0: the value is exactly mid, signed zeros included. Special values: a non-finite mid IS
// the value (NaN, or an infinity of mid's sign) and rad is ignored (set it to 0).
struct Enclosure {
  double mid = 0;
  double rad = 0;
};

// Correct rounding (round_to) of the exact value of a double; of the exact sum hi + lo of a
// normalised double-double (|lo| <= half an ulp of hi, as TwoSum returns; a zero lo leaves hi,
// signed zero included, as TwoSum(-0, -0) = (-0, +0) requires). NaN -> canonical NaN.
std::uint32_t round_double(const Format& f, double v);
std::uint32_t round_double(const Format& f, double hi, double lo);

// The exact value of a pattern as a double (every value of an in-scope format is a double).
double decode_double(const Format& f, std::uint32_t bits);

// True, with *bits the correct rounding of the enclosed value, when no rounding boundary of f
// lies in the closed enclosure: no midpoint between neighbours, not the overflow threshold, and
// not zero unless the value is exactly zero (the sign of the result must be settled). False,
// *bits unspecified, otherwise, and also when the enclosure misses a boundary by less than
// one double rounding (the distance exceeds rad by less than 2^-50 rad, or by one subnormal
// step where rad scaled to the format's quantum underflows; the test holds it to that).
// rad = 0 and non-finite mid are always decided (exact values; an exact tie rounds to even).
// Rigorous under double rounding: the derivation is next to the implementation
// (src/certified_core.h); the enclosure's endpoints are never formed.
bool decide_rounding(const Format& f, const Enclosure& e, std::uint32_t* bits);

// The same decision for a 320-bit value: the exact value lies within rad (>= 0) of mid.
bool decide_rounding(const Format& f, const Exact& mid, const Exact& rad, std::uint32_t* bits);

// An enclosure of an Exact value known to within rad (>= 0): mid = the nearest double, rad
// rounded up to cover |v - mid| + rad. Non-finite v gives {v, 0}. Needs |v| < 2^1000.
Enclosure enclose(const Exact& v, const Exact& rad);

// Certified bounds of the ULP error ulp_error(f, y, v) (format.h rules, special values
// included) over every v in the enclosure: lo <= ulp_error(f, y, v) <= hi. Where the enclosure
// straddles a power of two ulp(f, v) is ambiguous; the bounds then use the smaller ulp for hi
// and the larger for lo (ulp is monotone in |v|). Outward rounding is done step by step, so
// the bounds may be a few double ulps wider than the exact extremes.
struct UlpErrorBounds {
  double lo = 0;
  double hi = 0;
};
UlpErrorBounds ulp_error_bounds(const Format& f, std::uint32_t y, const Enclosure& v);

// Three-valued `ulp_error(f, y, v) <= bound` over every v of the enclosure. A point enclosure
// (rad = 0) is always decided, exactly (an error of exactly `bound` is within). kUndecided:
// the enclosure is too wide for this bound; evaluate v more precisely (ulp_error_within).
// A NaN bound admits nothing.
enum class UlpCompare : std::uint8_t { kWithin, kBeyond, kUndecided };
UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const Enclosure& v, double bound);

// Exact decision of ulp_error(f, y, v) <= bound with v taken as exact: |y - v| <= bound *
// ulp(f, v) in exact arithmetic (a 320-bit comparison, then exact integer arithmetic when the
// 320-bit difference lands on the bound). For an approximated v use the overload below.
bool ulp_error_within(const Format& f, std::uint32_t y, const Exact& v, double bound);

// ulp_error(f, y, v') <= bound for every v' within rad (>= 0) of v: kWithin / kBeyond when the
// whole interval decides the same way, kUndecided when a decision needs v more precisely than
// rad (the caller widens the evaluation or reports it). rad = 0 is ulp_error_within().
UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const Exact& v, const Exact& rad,
                             double bound);

// ---- Comparisons that fall back to exact values only where they must (issue 13).
//
// A family's fast comparison holds an enclosure of each expected value (evaluated in double)
// and can produce the exact path's value on demand: a 320-bit approximation within a radius
// (the value NormRowResult and similar results hold), and sometimes an exact comparison of the
// real value with dyadic numbers (the norm family's comparison of squares). The functions below
// decide from the cheapest that settles the question, so every answer is the exact path's.

// The exact value behind an enclosure: a 320-bit approximation within rad (>= 0) of it.
struct ExactValue {
  Exact v;
  Exact rad;
};
// The exact sign (-1, 0, 1) of the real value minus a finite dyadic d.
using ExactSign = std::function<int(const Exact& d)>;

// ulp_error(f, y, v) as ulp_error() returns it (a double) for a double v taken as exact (a point
// enclosure): the same number as ulp_error(f, y, Exact(v)), computed in double where the
// difference y - v is exact as a double-double and fits in 320 bits, else by ulp_error().
double ulp_error_of_double(const Format& f, std::uint32_t y, double v);

// The enclosure widened by rel (>= 0) of its magnitude, rounded up: an enclosure of the exact
// path's approximation of the value as well (rel covers that approximation's relative error).
// Points and non-finite mids are returned as they are (the exact path holds them exactly).
Enclosure widen_relative(const Enclosure& e, double rel);

// Decisions about the double nearest to the enclosed value (how a value converted with
// convert_to<double>() compares with a double threshold), true when the enclosure settles it:
// *below = rn(|v|) < t, for t > 0. Only monotonicity of rounding is used: rn(|v|) <= U < t for
// a double U >= |v|, and rn(|v|) >= L >= t for a double L <= |v|.
bool decide_magnitude_below(const Enclosure& e, double t, bool* below);
// *sign = the sign of v - g for a finite double g outside the closed enclosure.
bool decide_sign(const Enclosure& e, double g, int* sign);

// ulp_error(f, y, v) <= bound for the real value v, decided from the 320-bit value and its
// radius (compare_ulp_error above), and where that cannot tell, exactly by `sign` (when given):
// v's binade from comparisons with powers of two, then y - B <= v <= y + B with B = bound *
// ulp(f, v). kUndecided only without `sign`, for an infinite y, or for a bound so small that
// y +- B does not fit in 320 bits.
UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const ExactValue& v, double bound,
                             const ExactSign& sign);
// The same, trying the enclosure first: `exact` and `sign` run only when it cannot tell.
UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const Enclosure& e, double bound,
                             const std::function<ExactValue()>& exact, const ExactSign& sign);

}  // namespace kc::ref
