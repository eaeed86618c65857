// Exact sums of doubles (internal to the reference library): a fixed-point accumulator over the
// whole double range, so that a row's sum of squares can be formed exactly in a few nanoseconds
// an element instead of a 320-bit operation per element.
//
// Layout: the value is sum_k c[k] 2^(32 k - 1074), one signed 64-bit chunk per 32 bits of the
// double range (2^-1074 .. 2^1024: 66 chunks, plus two for the carries of the top ones). A finite
// double d = +-m 2^(E - 1075), m < 2^53 (E the biased exponent, 1 for subnormals), starts at bit
// p = E - 1 of that range: chunk k = p / 32, shift s = p % 32, so m 2^s < 2^84 spans chunks k,
// k + 1 and k + 2, each receiving less than 2^32 in magnitude. A chunk therefore holds any
// 2^30 additions without overflow (2^62 < 2^63); the callers add at most 6 * 2^24 < 2^27 terms.
// Normalising propagates the carries from the bottom (c[k] in [0, 2^32), floor division), which
// leaves the exact integer sum in base 2^32 when the sum is non-negative.
//
// to_exact() converts a non-negative sum whose significant bits span at most kExactBits: Horner
// from the top chunk down; every intermediate is a truncation of the sum (its bits a subset of
// the sum's), so it spans no more bits than the sum and each Exact operation is exact.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "kc/ref/exact.h"

namespace kc::ref::detail {

class ExactSum {
 public:
  // d finite.
  void add(double d) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    std::uint64_t m = b & ((std::uint64_t{1} << 52) - 1);
    int e = static_cast<int>((b >> 52) & 0x7ff);
    if (e != 0) {
      m |= std::uint64_t{1} << 52;
    } else {
      e = 1;
    }
    if (m == 0) return;
    const int p = e - 1;
    const int k = p >> 5;
    const int s = p & 31;
    const std::uint64_t shifted = m << s;  // bits 0..63 of m 2^s
    const auto c0 = static_cast<std::int64_t>(shifted & 0xffffffffu);
    const auto c1 = static_cast<std::int64_t>(shifted >> 32);
    const auto c2 = static_cast<std::int64_t>(s == 0 ? 0 : m >> (64 - s));
    if (b >> 63) {
      c_[k] -= c0;
      c_[k + 1] -= c1;
      c_[k + 2] -= c2;
    } else {
      c_[k] += c0;
      c_[k + 1] += c1;
      c_[k + 2] += c2;
    }
  }

  // The sum as an Exact, true when it is non-negative and its significant bits span at most
  // kExactBits (then *out is exact); false otherwise (*out unspecified).
  bool to_exact(Exact* out) const {
    std::array<std::int64_t, kChunks> c = c_;
    std::int64_t carry = 0;
    for (std::int64_t& v : c) {
      const std::int64_t t = v + carry;
      v = t & 0xffffffff;
      carry = t >> 32;  // arithmetic shift: floor division by 2^32
    }
    if (carry != 0) return false;  // negative (or beyond the range: impossible for doubles)
    int top = kChunks - 1;
    while (top >= 0 && c[static_cast<std::size_t>(top)] == 0) --top;
    if (top < 0) {
      *out = 0;
      return true;
    }
    int bottom = 0;
    while (c[static_cast<std::size_t>(bottom)] == 0) ++bottom;
    const int top_bit = 32 * top + 63 - __builtin_clzll(static_cast<std::uint64_t>(c[top]));
    const int low_bit =
        32 * bottom +
        __builtin_ctzll(static_cast<std::uint64_t>(c[static_cast<std::size_t>(bottom)]));
    if (top_bit - low_bit + 1 > static_cast<int>(kExactBits)) return false;
    Exact acc = 0;
    for (int k = top; k >= bottom; --k) {
      acc = boost::multiprecision::ldexp(acc, 32) + Exact(c[static_cast<std::size_t>(k)]);
    }
    *out = boost::multiprecision::ldexp(acc, 32 * bottom - 1074);
    return true;
  }

 private:
  static constexpr int kChunks = 68;
  std::array<std::int64_t, kChunks> c_{};
};

}  // namespace kc::ref::detail
