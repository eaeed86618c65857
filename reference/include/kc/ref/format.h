// Binary floating-point storage formats, correct rounding and ULP error.
//
// A Format is described by its exponent width and its precision p (significand bits, the
// implicit leading bit included): fp32 = (8, 24), fp16 = (5, 11), bf16 = (8, 8). Values are
// passed around as bit patterns in the low bits of a uint32_t.
//
// Definitions (DESIGN.md section 4):
//  - round_to(F, v): round-to-nearest, ties-to-even, straight from the exact value v, once,
//    with subnormals, overflow to +-inf (|v| >= 2^(emax+1) - ulp/2 rounds to inf), the sign of
//    zero kept, and NaN to the canonical quiet NaN of F (sign 0, top fraction bit set).
//  - ulp(F, v) = 2^(max(floor(log2|v|), emin) - p + 1); ulp(F, 0) = the smallest subnormal.
//  - ulp_error(F, y, v) = |y - v| / ulp(F, v), computed exactly and returned as a double.
//    Rules: v NaN -> 0 if y is NaN, else +inf. v = +-inf -> 0 if y is the same infinity, else
//    +inf. v finite -> +inf if y is NaN; y = +-inf scores 0.5 when it is the correct rounding
//    of v (|v| at or beyond the overflow threshold) and otherwise counts as +-2^(emax+1), the
//    value at which round-to-nearest overflows. The two zeros are equal (|+0 - -0| = 0);
//    sign-of-zero agreement is a bitwise question, not an error.
#pragma once

#include <cstdint>
#include <string>

#include "kc/ref/exact.h"

namespace kc::ref {

struct Format {
  const char* name;
  int exponent_bits;
  int precision;  // significand bits including the implicit one

  constexpr int total_bits() const { return exponent_bits + precision; }  // sign + exp + frac
  constexpr int fraction_bits() const { return precision - 1; }
  constexpr int bias() const { return (1 << (exponent_bits - 1)) - 1; }
  constexpr int emin() const { return 1 - bias(); }
  constexpr int emax() const { return bias(); }
  constexpr std::uint32_t sign_mask() const { return 1u << (total_bits() - 1); }
  constexpr std::uint32_t exponent_mask() const {
    return ((1u << exponent_bits) - 1u) << fraction_bits();
  }
  constexpr std::uint32_t fraction_mask() const { return (1u << fraction_bits()) - 1u; }
  constexpr std::uint32_t all_mask() const {
    return total_bits() == 32 ? 0xffffffffu : (1u << total_bits()) - 1u;
  }
  constexpr std::uint32_t canonical_nan() const {
    return exponent_mask() | (1u << (fraction_bits() - 1));
  }
  constexpr std::uint32_t infinity(bool negative) const {
    return exponent_mask() | (negative ? sign_mask() : 0u);
  }
  constexpr std::uint32_t max_finite() const {
    return (exponent_mask() - (1u << fraction_bits())) | fraction_mask();
  }
};

inline constexpr Format kFp32{"fp32", 8, 24};
inline constexpr Format kFp16{"fp16", 5, 11};
inline constexpr Format kBf16{"bf16", 8, 8};

constexpr bool operator==(const Format& a, const Format& b) {
  return a.exponent_bits == b.exponent_bits && a.precision == b.precision;
}
constexpr bool operator!=(const Format& a, const Format& b) { return !(a == b); }

// Bit-pattern classification.
bool is_nan(const Format& f, std::uint32_t bits);
bool is_inf(const Format& f, std::uint32_t bits);
bool is_zero(const Format& f, std::uint32_t bits);
bool sign_bit(const Format& f, std::uint32_t bits);

// The exact value of a bit pattern (NaN patterns decode to a quiet NaN; -0 stays -0).
Exact decode(const Format& f, std::uint32_t bits);

// Correct rounding (see the header comment). Returns the bit pattern.
std::uint32_t round_to(const Format& f, const Exact& v);

// round_to() that also reports how far v lies from the nearest rounding boundary (a midpoint
// between neighbours, or the overflow threshold): a caller that knows v only to within +-e may
// trust the result when *boundary_distance > e. Non-finite and zero v report +inf.
std::uint32_t round_to(const Format& f, const Exact& v, Exact* boundary_distance);

// The value of a bit pattern as a float (every fp16/bf16/fp32 value is one; NaN patterns give a
// quiet NaN, whose payload is not kept).
float decode_float(const Format& f, std::uint32_t bits);

// Unit in the last place of v in format f (see the header comment). NaN for non-finite v.
Exact ulp(const Format& f, const Exact& v);

// Fractional ULP error of the bit pattern `observed` against the exact value v.
double ulp_error(const Format& f, std::uint32_t observed, const Exact& v);

// The exact midpoint between bit pattern `bits` (finite, not the largest magnitude) and its
// successor away from zero; for the largest finite it is the overflow threshold max + ulp/2.
Exact midpoint_above(const Format& f, std::uint32_t bits);

// "0x3f80 (1.0)" style text of a bit pattern, for messages and repros.
std::string describe_bits(const Format& f, std::uint32_t bits);

}  // namespace kc::ref
