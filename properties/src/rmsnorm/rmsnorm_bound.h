// The error bound of kconform's norm kernels (GPU and twin: bitwise the same) against the
// profile they implement, derived from their arithmetic (kernels/src/rmsnorm/rmsnorm_row.h).
//
// Derivation. u = 2^-24, gamma(k) = k u / (1 - k u), compose(a, b) = a + b + a b (relative
// errors of chained roundings), tiny = 2^-150 (the absolute error of an fp32 rounding that
// underflows). Row of n elements, layout (lanes L, per-lane vectors of vec elements), so the
// longest summation path has m = per_lane * vec fma steps and log2 L tree additions.
//  1. Kernel input z: x exactly (rmsnorm); rn(s) exactly for the rounded-sum profiles (fp32 add
//     then rounding to a 16-bit format cannot double-round: 24 >= 2p + 2 for p = 8, 11, and
//     sums of 16-bit values that land in the fp32 subnormal range are exact); fl(s) = s(1 + e),
//     |e| <= u, for the fp32-sum profiles (theta_z = u on z, 2u + u^2 on z^2).
//  2. Sum of squares (non-negative terms, one rounding per step): relative error
//     theta_ss = gamma(m + log2 L), plus an absolute (n + L) tiny from underflowing steps.
//  3. q = fl(fl(ss / n) + eps): theta_q = compose(theta_ss, theta_z^2, u, u)
//     + ((n + L) tiny / n + 2 tiny) / q.
//  4. sqrt then 1/x, each correctly rounded: theta_sqrt = compose(1 - sqrt(1 - theta_q), u),
//     theta_r = compose(theta_sqrt / (1 - theta_sqrt), u).
//  5. kSingle: b = fl(fl(z r) w'), w' = w or fl(1 + w): theta_b = compose(theta_z, theta_r, u,
//     u, theta_w'), theta_w' = u for the Gemma offset; absolute (|w'| + 1) tiny (1.01 slack).
//     Output y = rn_T(b) with |b - v| <= E = theta_b |v| + abs, so y lies in
//     [rn_T(v - E), rn_T(v + E)] (rn_T is monotone; for fp32 rows rn_T(b) = b).
//  6. kCastBeforeWeight: a = fl(z r) with E_a = compose(theta_z, theta_r, u) |z R| + tiny; the
//     stored xn lies in [rn_T(zR - E_a), rn_T(zR + E_a)]; y = rn_T(fl(w xn)) where w xn is
//     exact in fp32 for 16-bit T (8+8 or 11+11 bits) up to underflow (tiny), and carries u for
//     fp32 rows. The interval is the rounding of the extreme products.
//  7. Residual output rn_T(fl(s)) = rn_T(s) exactly (point 1): it must equal the profile's.
// Regimes of a row (see NormKernelBound::regime):
//  - kBounded: finite inputs, n * q <= 2^126 (no partial sum of squares can overflow) and
//    q >= 2^-100 (the absolute underflow terms stay below 2^-32 relative). Elements with a finite
//    weight get the interval above; an element with a non-finite weight follows IEEE rules
//    exactly (its output is +-inf or NaN on every implementation).
//  - kSpecial: R is NaN, 0 or +inf (a NaN or infinity in the row, or q = 0): every output is
//    fixed by IEEE rules applied to the profile (NaN, signed zeros), so the kernel must match the
//    profile's bits exactly (any NaN for NaN).
//  - kOutOfRange: finite inputs whose fp32 sum of squares overflows or underflows: the bound does
//    not hold and the case is counted as not applicable.
#pragma once

#include <cstdint>
#include <string>

#include "kc/kernels/rmsnorm.h"
#include "kc/props/buffers.h"
#include "kc/ref/certified.h"
#include "kc/ref/rmsnorm.h"

namespace kc::props {

struct Interval {
  std::uint32_t lo = 0;  // bit patterns, lo <= hi by value
  std::uint32_t hi = 0;
};

class NormKernelBound {
 public:
  NormKernelBound(ref::NormProfile profile, DType dtype, std::int64_t hidden);

  enum class Regime { kBounded, kSpecial, kOutOfRange };
  // The regime of a row (see the header comment); *why names the rule for kOutOfRange.
  Regime regime(const ref::NormRowInput& in, const ref::NormRowResult& r, std::string* why) const;
  // In a kBounded row: an element whose weight is not finite, or whose exact value is not
  // (legacy_mixed scales rn(s), which can overflow, by the R of the finite s), follows the exact
  // IEEE rules.
  static bool exact_element(const ref::NormRowInput& in, const ref::NormRowResult& r,
                            std::int64_t i);
  // Exact rule: the same bits, or any NaN for a NaN.
  bool matches_exactly(std::uint32_t expected, std::uint32_t observed) const;

  // Admissible outputs for element i of a kBounded row. For fp32 rows the output is the fp32
  // value b itself, so the interval holds the fp32 values inside [v - E, v + E]; for 16-bit rows
  // it is [rn_T(v - E), rn_T(v + E)].
  Interval y_interval(const ref::NormRowInput& in, const ref::NormRowResult& r,
                      std::int64_t i) const;

  // The parts of a row's intervals that depend on the row: theta_a and theta_b with the
  // absolute underflow term ((n + L) tiny / n + 2 tiny) / q folded into theta_q, q taken as the
  // double nearest to the profile's mean(z^2) + eps (as y_interval always computed them).
  struct RowThetas {
    double ta = 0;
    double tb = 0;
    bool operator==(const RowThetas& o) const { return ta == o.ta && tb == o.tb; }
  };
  RowThetas row_thetas(double q) const;
  // The same from an enclosure of q (that holds the exact path's 320-bit q too): every step is
  // a monotone double operation, so equal thetas at the two ends hold for every double between
  // them, the one nearest to q included. False when the ends differ (a q so small that the
  // underflow term moves them inside the enclosure): then take q from the exact path.
  bool row_thetas(const ref::Enclosure& q, RowThetas* out) const;
  // y_interval from exact values (the exact path): the 320-bit y_exact or u R of the element.
  Interval y_interval(const RowThetas& t, const ref::NormRowInput& in, std::int64_t i,
                      const ref::Exact& y_exact, const ref::Exact& scaled_times_r) const;
  // y_interval from the fast path's enclosures of y and u R (each holding the exact path's
  // 320-bit value as well as the real one). True, with *iv the exact path's interval bit for bit,
  // when every rounding and comparison that computes it is decided from the enclosures (the
  // derivation is in rmsnorm_bound.cpp); false when one is not (the caller takes the exact path
  // for this element). Parts that depend only on decided roundings (the products of the weight
  // with the stored rn(z R) of cast-before-weight profiles) are finished exactly here.
  bool y_interval(const RowThetas& t, const ref::NormRowInput& in, std::int64_t i,
                  const ref::Enclosure& y, const ref::Enclosure& scaled_times_r,
                  Interval* iv) const;

  // Whether y lies in the interval (by value; NaN never does).
  bool admits(const Interval& iv, std::uint32_t y) const;
  // A finite correct rounding rn_T(v) of an element's exact value always lies in its interval
  // (kBounded rows, finite weight and value), so a comparison may skip computing the interval
  // for it (an infinite one need not: fp32 rows admit the fp32 values inside [v - E, v + E]).
  // 16-bit rows: rn_T is monotone and v - E <= v <= v + E; for cast-before-weight, rn(z R) lies in
  // [xlo, xhi], so w rn(z R) between the products, and lo <= that <= hi. fp32 rows: |rn(v) - v| <=
  // max(2^-24 |v|, 2^-150) < E, since E >= 1.01 (theta_b |v| + A) with theta_b >= 2^-24 and A >=
  // 2^-150; for cast-before-weight, t - |t| 2^-24 is increasing in t, so lo <= x - |x| 2^-24 <=
  // rn(x) <= x + |x| 2^-24 <= hi for x = w rn(z R) in [plo, phi]. The 320-bit evaluation of the
  // ends moves them by a relative 2^-290, far inside these margins.

  // The largest ULP error an admissible output can have: the bound reported next to a result.
  double interval_ulps(const Interval& iv, const ref::Exact& v) const;

  // The worst case of interval_ulps over kBounded rows without underflow, in closed form.
  // 16-bit rows: |rn(a) - v| <= ulp(v)/2 + 2 |a - v| for any a, so 5. gives
  // 0.5 + 2 theta_b 2^p (|v| / ulp(v) < 2^p), and 6. gives 0.5 + 2 * 2.01: the stored xn may be
  // one ulp from rn(zR), which moves w xn by less than 2.01 ulp(y). fp32 rows: |y - v| <= E, so
  // theta_b 2^24 (times the 1.01 slack); cast-before-weight adds the product's rounding (u).
  double worst_case_ulps() const;

  // Relative error bounds, for reports.
  double theta_r() const { return theta_r_; }
  double theta_b() const { return theta_b_; }

 private:
  Interval bracket(const ref::Exact& lo, const ref::Exact& hi) const;
  // bracket() for one end from an enclosure of it: false when undecided.
  bool bracket_end(const ref::Enclosure& e, bool upper, std::uint32_t* bits) const;
  // bracket() for one end given exactly as a normalised double-double hi + lo: always decided.
  void bracket_end_dd(double hi, double lo, bool upper, std::uint32_t* bits) const;
  // The cast-before-weight interval from the stored roundings xlo, xhi of z R -+ E_a.
  Interval cast_interval(float w, std::uint32_t xlo, std::uint32_t xhi) const;
  bool cast_interval_fast(float w, std::uint32_t xlo, std::uint32_t xhi, Interval* iv) const;
  std::uint32_t step(std::uint32_t bits, bool up) const;

  ref::NormProfile profile_;
  ref::NormStructure structure_;
  DType dtype_;
  ref::Format format_;
  std::int64_t hidden_;
  RowLayout layout_;
  double theta_z_ = 0;   // relative error of the kernel's z
  double theta_ss_ = 0;  // of the sum of squares (without theta_z)
  double theta_r_ = 0;   // of r, without the row's absolute underflow term
  double theta_b_ = 0;   // of the kSingle pre-rounding value
  double theta_a_ = 0;   // of fl(z r)
};

}  // namespace kc::props
