// Correct rounding, decoding and ULP error for the storage formats (see format.h).
#include "kc/ref/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>

namespace kc::ref {
namespace mp = boost::multiprecision;

std::string to_decimal(const Exact& v, int digits) {
  std::ostringstream os;
  os.precision(digits);
  os << std::scientific << v;
  return os.str();
}

bool is_nan(const Format& f, std::uint32_t bits) {
  return (bits & f.exponent_mask()) == f.exponent_mask() && (bits & f.fraction_mask()) != 0;
}
bool is_inf(const Format& f, std::uint32_t bits) {
  return (bits & f.exponent_mask()) == f.exponent_mask() && (bits & f.fraction_mask()) == 0;
}
bool is_zero(const Format& f, std::uint32_t bits) {
  return (bits & ~f.sign_mask() & f.all_mask()) == 0;
}
bool sign_bit(const Format& f, std::uint32_t bits) { return (bits & f.sign_mask()) != 0; }

Exact decode(const Format& f, std::uint32_t bits) {
  const bool neg = sign_bit(f, bits);
  const std::uint32_t e = (bits & f.exponent_mask()) >> f.fraction_bits();
  const std::uint32_t frac = bits & f.fraction_mask();
  Exact v;
  if (e == (1u << f.exponent_bits) - 1u) {
    v = frac ? std::numeric_limits<Exact>::quiet_NaN() : std::numeric_limits<Exact>::infinity();
  } else if (e == 0) {
    v = mp::ldexp(Exact(frac), f.emin() - f.fraction_bits());
  } else {
    v = mp::ldexp(Exact((1u << f.fraction_bits()) | frac),
                  static_cast<int>(e) - f.bias() - f.fraction_bits());
  }
  return neg ? Exact(-v) : v;
}

// floor(log2 |v|) for finite nonzero v.
static int floor_log2(const Exact& v) {
  int k = 0;
  (void)mp::frexp(v, &k);  // |v| = m * 2^k, m in [0.5, 1)
  return k - 1;
}

std::uint32_t round_to(const Format& f, const Exact& v) { return round_to(f, v, nullptr); }

std::uint32_t round_to(const Format& f, const Exact& v, Exact* boundary_distance) {
  if (boundary_distance) *boundary_distance = std::numeric_limits<Exact>::infinity();
  if (mp::isnan(v)) return f.canonical_nan();
  const bool neg = mp::signbit(v) != 0;
  const std::uint32_t sign = neg ? f.sign_mask() : 0u;
  if (mp::isinf(v)) return f.infinity(neg);
  if (v == 0) return sign;

  const Exact a = mp::abs(v);
  // Quantum of the binade of a (or of the subnormal range): the spacing of representable values.
  const int q = std::max(floor_log2(a), f.emin()) - f.fraction_bits();
  const Exact m = mp::ldexp(a, -q);  // exact: scaling by a power of two
  const Exact n_floor = mp::floor(m);
  const Exact rest = m - n_floor;  // exact, in [0, 1)
  // n_floor <= 2^p, so it fits a 64-bit integer exactly.
  std::uint64_t n = n_floor.convert_to<std::uint64_t>();
  const int cmp = rest.compare(Exact(0.5));
  if (cmp > 0 || (cmp == 0 && (n & 1u))) ++n;
  if (boundary_distance) {
    *boundary_distance = mp::ldexp(mp::abs(rest - Exact(0.5)), q);
    // Just above a power of two the boundary below it is a quarter quantum lower, at
    // 2^e - (q/2)/2, in the finer binade underneath.
    if (floor_log2(a) > f.emin() && n_floor == Exact(std::uint64_t{1} << f.fraction_bits())) {
      const Exact below = mp::ldexp(rest + Exact(0.25), q);
      if (below < *boundary_distance) *boundary_distance = below;
    }
  }

  // value = n * 2^q. Normalise a carry into the next binade.
  int qq = q;
  if (n == (std::uint64_t{1} << f.precision)) {
    n >>= 1;
    ++qq;
  }
  if (n == 0) return sign;
  if (n < (std::uint64_t{1} << f.fraction_bits())) {
    // Subnormal: q is the subnormal quantum.
    return sign | static_cast<std::uint32_t>(n);
  }
  const int biased = qq + f.fraction_bits() + f.bias();
  if (biased >= (1 << f.exponent_bits) - 1) {
    // Beyond the largest binade the only boundary is the overflow threshold.
    if (boundary_distance) {
      const Exact max = decode(f, f.max_finite());
      *boundary_distance = a - (max + ulp(f, max) / 2);
    }
    return f.infinity(neg);
  }
  return sign | (static_cast<std::uint32_t>(biased) << f.fraction_bits()) |
         (static_cast<std::uint32_t>(n) & f.fraction_mask());
}

float decode_float(const Format& f, std::uint32_t bits) {
  if (f == kFp32 || f == kBf16) {
    // fp32, and bf16 (the top half of an fp32 pattern).
    const std::uint32_t w = f == kFp32 ? bits : bits << 16;
    float v = 0;
    std::memcpy(&v, &w, sizeof v);
    return v;
  }
  const std::uint32_t e = (bits & f.exponent_mask()) >> f.fraction_bits();
  const std::uint32_t frac = bits & f.fraction_mask();
  float v = 0;
  if (e == (1u << f.exponent_bits) - 1u) {
    v = frac ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else if (e == 0) {
    v = std::ldexp(static_cast<float>(frac), f.emin() - f.fraction_bits());
  } else {
    v = std::ldexp(static_cast<float>((1u << f.fraction_bits()) | frac),
                   static_cast<int>(e) - f.bias() - f.fraction_bits());
  }
  return sign_bit(f, bits) ? -v : v;
}

Exact ulp(const Format& f, const Exact& v) {
  if (!mp::isfinite(v)) return std::numeric_limits<Exact>::quiet_NaN();
  if (v == 0) return mp::ldexp(Exact(1), f.emin() - f.fraction_bits());
  return mp::ldexp(Exact(1), std::max(floor_log2(mp::abs(v)), f.emin()) - f.fraction_bits());
}

double ulp_error(const Format& f, std::uint32_t observed, const Exact& v) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const bool obs_nan = is_nan(f, observed);
  if (mp::isnan(v)) return obs_nan ? 0.0 : kInf;
  if (mp::isinf(v)) {
    return is_inf(f, observed) && sign_bit(f, observed) == (mp::signbit(v) != 0) ? 0.0 : kInf;
  }
  if (obs_nan) return kInf;
  Exact y;
  if (is_inf(f, observed)) {
    // A correctly rounded overflow scores 0.5, the most any correct rounding can score.
    if (round_to(f, v) == (observed & f.all_mask())) return 0.5;
    y = mp::ldexp(Exact(1), f.emax() + 1);
    if (sign_bit(f, observed)) y = -y;
  } else {
    y = decode(f, observed);
  }
  const Exact err = mp::abs(y - v) / ulp(f, v);  // ulp is a power of two: exact scaling
  return err.convert_to<double>();
}

Exact midpoint_above(const Format& f, std::uint32_t bits) {
  const Exact a = decode(f, bits);
  const std::uint32_t mag = bits & ~f.sign_mask() & f.all_mask();
  Exact next;
  if (mag == f.max_finite()) {
    next = mp::ldexp(Exact(1), f.emax() + 1);
    if (sign_bit(f, bits)) next = -next;
  } else {
    next = decode(f, bits + 1u);
  }
  return (a + next) / 2;
}

std::string describe_bits(const Format& f, std::uint32_t bits) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%0*x", f.total_bits() / 4, bits);
  const Exact v = decode(f, bits);
  std::string text;
  if (mp::isnan(v)) {
    text = "nan";
  } else if (mp::isinf(v)) {
    text = mp::signbit(v) ? "-inf" : "inf";
  } else {
    std::ostringstream os;
    os.precision(f.precision > 11 ? 9 : 5);
    os << v.convert_to<double>();
    text = (v == 0 && mp::signbit(v)) ? "-0" : os.str();
  }
  return std::string(hex) + " (" + text + ")";
}

}  // namespace kc::ref
