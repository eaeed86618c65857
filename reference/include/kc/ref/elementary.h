// Certified elementary functions: f evaluated at a fixed binary precision P with a rigorous
// relative error bound, and the Ziv rounding decision built on such bounds.
//
// Why not Boost.Math: its special functions on cpp_bin_float are accurate in practice but carry
// no stated bound, and a reference that decides roundings needs one. Everything here is built
// from +, -, *, / and sqrt of cpp_bin_float, which this library assumes to be faithfully rounded
// (relative error at most one unit u = 2^(1-P), twice the half unit that correct rounding gives;
// the same assumption as exact.h). Each function derives, next to its code, how those unit
// errors and the truncation of its series add up, and the code computes the resulting bound.
//
// Approx<P>: a value v and a bound e, in units u_P = 2^(1-P): the true value lies in
// [v - e u |v|, v + e u |v|]. Bounds are kept as doubles in units (so 2^-1023 never underflows);
// an Approx is usable only while e u <= 2^-20, which lets every combination below absorb its
// second-order terms into the factor kSecondOrder = 1 + 2^-18 (derivation at err_mul). A level
// that cannot meet a bound returns e = +inf: the caller widens (next Ziv level) instead.
//
// Ziv levels: 128, 320 and 1024 bits (kLevelBits). A decision that needs more than 1024 bits is
// reported as undecided by the caller, never guessed.
//
// What is here: the constants ln 2 (split for exact argument reduction), 1/sqrt(2), 1/sqrt(pi),
// sqrt(2/pi); exp(x) for |x| <= 2^24; erfc(x) for 0 <= x <= 2^15; round_certified(). The RoPE
// family will add sin/cos at this layer with the same Approx contract.
#pragma once

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cstdint>
#include <limits>

#include "kc/ref/format.h"

namespace kc::ref {

template <unsigned P>
using Real = boost::multiprecision::number<
    boost::multiprecision::backends::cpp_bin_float<P, boost::multiprecision::backends::digit_base_2,
                                                   void, std::int32_t>,
    boost::multiprecision::et_off>;

// The Ziv precision levels, in bits.
inline constexpr unsigned kLevelBits[] = {128, 320, 1024};

// Relative error factor that absorbs second-order terms (see err_mul).
inline constexpr double kSecondOrder = 1.0 + 0x1p-18;

template <unsigned P>
struct Approx {
  Real<P> value;
  double err = 0;  // |true - value| <= err * 2^(1-P) * |value|; +inf: no bound

  // Largest err this layer works with: err * u <= 2^-20.
  static constexpr double max_err() {
    double m = 1;
    for (unsigned i = 21; i < P; ++i) m *= 2;
    return m;  // 2^(P-21)
  }
  bool usable() const { return err <= max_err(); }
};

// Error combination, in units of u_P. Each returns +inf when an input is unusable.
//
// err_mul: true a = a'(1 + alpha), b = b'(1 + beta) with |alpha| <= ea u, |beta| <= eb u,
// computed c = a' b' (1 + gamma), |gamma| <= u. Then a b = c (1 + alpha)(1 + beta) / (1 + gamma)
// and |(1 + alpha)(1 + beta)/(1 + gamma) - 1| <= ((ea + eb + 1) u + ea eb u^2) / (1 - u).
// With (ea + eb + 1) u <= 2^-20: ea eb u^2 <= 2^-20 (ea + eb + 1) u and 1/(1 - u) <= 1 + 2u,
// so the bound is (ea + eb + 1) u (1 + 2^-19) <= (ea + eb + 1) u kSecondOrder. Division: the
// same with 1/(1 + beta) in place of (1 + beta), |1/(1 + beta) - 1| <= eb u (1 + 2^-19).
// An exact operand has e = 0; an exact operation (scaling by 2^k) adds nothing.
template <unsigned P>
double err_mul(double ea, double eb) {
  const double e = (ea + eb + 1) * kSecondOrder;
  return e <= Approx<P>::max_err() ? e : std::numeric_limits<double>::infinity();
}
// err_add_same_sign: a and b of one sign: |a alpha + b beta| <= max(ea, eb) u |a + b|, then one
// rounding of the sum: (max(ea, eb) + 1) u kSecondOrder as above.
template <unsigned P>
double err_add_same_sign(double ea, double eb) {
  const double e = ((ea > eb ? ea : eb) + 1) * kSecondOrder;
  return e <= Approx<P>::max_err() ? e : std::numeric_limits<double>::infinity();
}
// err_compose: a value computed with relative error ea from an input that itself carries the
// relative error eb (already translated into output units): (1 + ea u)(1 + eb u) - 1.
template <unsigned P>
double err_compose(double ea, double eb) {
  const double e = (ea + eb) * kSecondOrder;
  return e <= Approx<P>::max_err() ? e : std::numeric_limits<double>::infinity();
}

// Constants, each correct to within err units of level P. They are computed once per level with
// 64 guard bits (Real<P + 64>) and rounded to P bits; the derivations are in elementary.cpp.
template <unsigned P>
struct CertifiedConstants {
  // ln 2 = ln2_hi + ln2_lo + eta exactly, with ln2_hi of at most P - 26 significant bits (so
  // k ln2_hi is exact for |k| < 2^25), ln2_lo of at most 90 bits, and |eta| <= ln2_eta.
  Real<P> ln2_hi;
  Real<P> ln2_lo;
  Real<P> ln2_eta;
  Approx<P> inv_sqrt2;     // 1/sqrt(2)
  Approx<P> inv_sqrt_pi;   // 1/sqrt(pi)
  Approx<P> sqrt_2_by_pi;  // sqrt(2/pi)
};
template <unsigned P>
const CertifiedConstants<P>& certified_constants();

// exp(x) for an exact x with |x| <= 2^24 (err = +inf beyond).
template <unsigned P>
Approx<P> certified_exp(const Real<P>& x);

// erfc(x) for an exact 0 <= x <= 2^15 (err = +inf outside). Relative error bound, also in the
// far tail (no cancellation there: a continued fraction, not 1 - erf).
template <unsigned P>
Approx<P> certified_erfc(const Real<P>& x);

// Ziv's decision: the correct rounding to f of every real in the enclosure of a (nonzero, finite,
// usable), when the enclosure holds no rounding boundary of f (a midpoint between neighbours, or
// the overflow threshold; a boundary on the enclosure's edge counts as inside). Returns false
// when undecided at this precision. Signed zero results keep the sign of a.
template <unsigned P>
bool round_certified(const Format& f, const Approx<P>& a, std::uint32_t* bits);

#define KC_REF_ELEMENTARY_LEVEL(P)                                       \
  extern template const CertifiedConstants<P>& certified_constants<P>(); \
  extern template Approx<P> certified_exp<P>(const Real<P>&);            \
  extern template Approx<P> certified_erfc<P>(const Real<P>&);           \
  extern template bool round_certified<P>(const Format&, const Approx<P>&, std::uint32_t*);
KC_REF_ELEMENTARY_LEVEL(128)
KC_REF_ELEMENTARY_LEVEL(320)
KC_REF_ELEMENTARY_LEVEL(1024)
#undef KC_REF_ELEMENTARY_LEVEL

}  // namespace kc::ref
