// The exact number type of the reference library.
//
// Exact is a binary floating-point number with a 320-bit significand and a 32-bit exponent
// (Boost.Multiprecision cpp_bin_float). It is used two ways:
//
//  1. Dyadic values that the profiles build from their inputs are held EXACTLY. The widest one
//     is a product s * w with s = x + r the exact sum of two fp32 values and w an fp32 weight:
//     every fp32 value is a multiple of 2^-149 below 2^128, so s spans at most
//     128 - (-149) + 1 = 278 bits, and s * w at most 278 + 24 = 302 bits <= 320. Products and
//     sums of fp16/bf16 values are narrower still. Rounding such a value with round_to() is
//     therefore a single correct rounding from the true value.
//
//  2. Irrational values (anything involving 1/sqrt) are approximated. Each cpp_bin_float
//     operation is rounded to 320 bits (relative error <= 2^-319 even if only faithfully
//     rounded), so a chain of k operations carries a relative error <= k * 2^-318; the profile
//     code tracks k and CERTIFIES every rounding decision against that error (reference/
//     rmsnorm.h). A decision that the approximation cannot settle - in practice only exact
//     ties - is decided by exact integer arithmetic instead, so no rounding is ever guessed.
//
// Exact supports signed zeros, infinities and NaN with IEEE semantics for +, -, *, /, sqrt.
#pragma once

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cstdint>
#include <string>

namespace kc::ref {

inline constexpr unsigned kExactBits = 320;

using Exact = boost::multiprecision::number<
    boost::multiprecision::backends::cpp_bin_float<
        kExactBits, boost::multiprecision::backends::digit_base_2, void, std::int32_t>,
    boost::multiprecision::et_off>;

// Relative error bound of one rounded Exact operation (one ulp at 320 bits, a safe margin over
// the half ulp that correct rounding gives).
inline const Exact& exact_op_rel_error() {
  static const Exact e = boost::multiprecision::ldexp(Exact(1), -static_cast<int>(kExactBits) + 1);
  return e;
}

// The exact value of a float (every float is representable).
inline Exact exact_of(float f) { return Exact(f); }

// Decimal text with `digits` significant digits (scientific notation), for messages and repros.
std::string to_decimal(const Exact& v, int digits = 40);

}  // namespace kc::ref
