// act_and_mul profiles (act_and_mul.h): act(g) classified and approximated once per gate (a
// "core"), then each profile's roundings decided from it.
//
// Throughput: fp16/bf16 gates have 2^16 values, so their cores live in one table per (act,
// format), filled lazily (an entry is computed on first use, by one thread, once per process;
// others wait for it). A warm 16-bit element then costs a table read, two products in double and
// two bit-level roundings (round_double): the core keeps act(g)'s level-1 enclosure as two
// doubles with 42-bit significands, rounded outward, so its products with a 16-bit u (at most 11
// significant bits) are exact in double and the rounding is decided when both ends round alike.
// When they do not (a boundary within the enclosure, or u not a 16-bit value) the full Ziv path
// runs. fp32 gates have no table: each element computes its core.
//
// Determinism: every field of a core is a function of (act, format, g) alone, and `widened`
// counts the levels recorded in it, so results never depend on what is cached.
#include "kc/ref/act_and_mul.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "kc/ref/certified.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Magnitudes below 2^kTinyLog2 are not approximated (header: reported as signed zeros).
constexpr double kTinyLog2 = -1048576.0;
// act_exact comes from the first level whose relative bound is <= 2^-101 (err <= 2^(P-102)
// units), so that y_exact = act_exact u (one more rounding to 320 bits, 2^-319) stays within
// 2^kActExactRelErrorLog2 = 2^-100.
template <unsigned P>
bool exact_enough(const Approx<P>& a) {
  return a.usable() && a.err <= std::ldexp(1.0, static_cast<int>(P) - 102);
}

template <unsigned P>
Approx<P> no_bound() {
  Approx<P> a;
  a.value = 0;
  a.err = kInf;
  return a;
}

template <unsigned P>
double to_double(const Real<P>& v) {
  return v.template convert_to<double>();
}

// silu(g) = g / (1 + e^-g): E = e^-g certified at the exact -g; D = 1 + E sums positive terms,
// e(D) = e(E) + 1; the quotient by D rounds once more, g exact.
template <unsigned P>
Approx<P> silu_approx(const Real<P>& g) {
  const Approx<P> e = certified_exp<P>(Real<P>(-g));
  Approx<P> a;
  a.value = g / (1 + e.value);
  a.err = err_mul<P>(0, err_add_same_sign<P>(e.err, 0));
  return a;
}

// gelu_tanh(g) = g / (1 + e^(-2z)), z = sqrt(2/pi) w, w = g + 0.044715 g^3.
// g^3 is exact (72 bits <= P), so is g^3 * 44715 (88 bits); the division by 10^6 rounds once
// (1 u); g and 0.044715 g^3 share a sign, so w = g + that has e(w) = 2 (err_add_same_sign).
// z = sqrt(2/pi) w: err_mul; x = -2z: exact scaling. E = e^x' is certified at the computed x';
// the true exponent differs by d <= e(x) u |x'|, which moves e^x by a factor within
// 1.01 d (|e^d - 1| <= |d| e^|d| and d <= 2^-20 while usable). Then as silu.
template <unsigned P>
Approx<P> gelu_tanh_approx(const Real<P>& g) {
  const CertifiedConstants<P>& c = certified_constants<P>();
  const Real<P> cube_k = g * g * g * 44715;
  const Real<P> w = g + cube_k / 1000000;
  const double e_w = err_add_same_sign<P>(0, 1);
  const Real<P> x = mp::ldexp(c.sqrt_2_by_pi.value * w, 1);
  const double e_x = err_mul<P>(c.sqrt_2_by_pi.err, e_w);
  Approx<P> e = certified_exp<P>(Real<P>(-x));
  e.err = err_compose<P>(e.err, 1.01 * std::fabs(to_double(x)) * 1.0001 * e_x);
  Approx<P> a;
  a.value = g / (1 + e.value);
  a.err = err_mul<P>(0, err_add_same_sign<P>(e.err, 0));
  return a;
}

// gelu(g) = (g/2) erfc(-g / sqrt 2). t = |g| / sqrt 2 = |g| inv_sqrt2 (err_mul). C = erfc(t')
// is certified at the computed t'; the true t differs by <= e(t) u t'. By DLMF 7.8.2,
// erfc(t) > (2/sqrt(pi)) e^(-t^2) / (t + sqrt(t^2 + 2)), so |d ln erfc(t) / dt| < t + sqrt(t^2 +
// 2) <= 2t + 1.42, and ln erfc moves by at most (2 t_max + 1.42) t' e(t) u with t_max =
// t'(1 + 2^-20): a factor within 1.01 times that.
// g < 0: act = g C / 2 (one rounding). g > 0: Phi(g) = 1 - erfc(t)/2 = (2 - C)/2 with C < 1, so
// H = 2 - C lies in (1, 2) and its error is at most C e(C) / H + 1 <= e(C) + 1 units; then the
// product with g.
template <unsigned P>
Approx<P> gelu_approx(const Real<P>& g) {
  const CertifiedConstants<P>& c = certified_constants<P>();
  const Real<P> t = mp::abs(g) * c.inv_sqrt2.value;
  const double e_t = err_mul<P>(c.inv_sqrt2.err, 0);
  const double td = to_double(t) * (1 + 0x1p-20);
  Approx<P> cc = certified_erfc<P>(t);
  cc.err = err_compose<P>(cc.err, 1.01 * (2 * td + 1.42) * td * e_t);
  Approx<P> a;
  if (g < 0) {
    a.value = mp::ldexp(g * cc.value, -1);
    a.err = err_mul<P>(0, cc.err);
  } else {
    const Real<P> h = 2 - cc.value;
    a.value = mp::ldexp(g * h, -1);
    a.err = err_mul<P>(0, err_add_same_sign<P>(cc.err, 0));
  }
  return a;
}

// Rigorous upper bound of log2 |act(g)| for finite g != 0, in doubles. g > 0: act(g) < g < 2^eg.
// g < 0 (a = |g|): |silu(g)| < a e^-a; |gelu(g)| = a Phi(-a) < phi(a) < e^(-a^2/2) (Mills'
// ratio: Phi(-a) < phi(a)/a); |gelu_tanh(g)| < a e^(-2|z|), 2|z| = 2 sqrt(2/pi)(a + 0.044715 a^3).
// The subtracted magnitudes use constants rounded down (log2 e, sqrt(2/pi), 0.044715) and a
// factor 1 - 1e-12, far more than the double roundings (< 1e-15 relative), plus one bit.
double log2_upper_bound(ActFunction f, float g) {
  int eg = 0;
  (void)std::frexp(g, &eg);  // |g| < 2^eg
  if (g > 0) return eg;
  const double a = -static_cast<double>(g);
  const double log2e_down = 1.4426950408889634 * (1 - 1e-12);
  switch (f) {
    case ActFunction::kSilu:
      return eg - a * log2e_down + 1;
    case ActFunction::kGelu:
      return -(a * a / 2) * log2e_down + 1;
    case ActFunction::kGeluTanh:
      return eg - 2 * 0.79788456 * (a + 0.0447149 * a * a * a) * log2e_down + 1;
  }
  return kInf;
}

// The extreme regions where act(g) = X (1 + dir delta), 0 < delta < 2^-110 (header): returns
// whether g is in one, with X = g/2 (half) or g, dir = +1 when |act| > |X|.
//  - |g| < 2^-126 (the subnormals of bf16 and fp32; none in fp16): act = (g/2)(1 + T), |T| <=
//    |g|, T of the sign of g: silu: T = tanh(g/2);
//    gelu: T = erf(g/sqrt 2), |T| <= sqrt(2/pi)|g|; gelu_tanh: T = tanh(z), |z| <= 0.8|g|.
//  - silu, g >= 80: delta = e^-g / (1 + e^-g) < e^-80 < 2^-115.
//  - gelu, g >= 13: delta = Phi(-g) < phi(g)/g < e^-84.5 < 2^-121.
//  - gelu_tanh, g >= 10: delta < e^(-2z), 2z >= 1.595 (10 + 44.7) > 87, e^-87 < 2^-125.
bool nudge_region(ActFunction f, float g, bool* half, std::int8_t* dir) {
  if (std::fabs(g) < 0x1p-126f) {
    *half = true;
    *dir = g > 0 ? 1 : -1;
    return true;
  }
  const float big = f == ActFunction::kSilu ? 80.0f : f == ActFunction::kGelu ? 13.0f : 10.0f;
  if (g >= big) {
    *half = false;
    *dir = -1;
    return true;
  }
  return false;
}

// X (1 + dir 2^-100), exact in Exact (X has at most 48 significant bits).
Exact nudged(const Exact& x, int dir) { return x + mp::ldexp(x, -100) * dir; }

// v rounded outward to a 42-bit significand as a double (false outside [2^-900, 2^900]).
bool directed42(const Real<128>& v, bool up, double* out) {
  int e = 0;
  const Real<128> m = mp::frexp(v, &e);
  if (e < -900 || e > 900) return false;
  Real<128> s = mp::ldexp(m, 42);
  s = up ? mp::ceil(s) : mp::floor(s);
  *out = std::ldexp(to_double(s), e - 42);
  return true;
}

enum class CoreKind : std::uint8_t { kNan, kInf, kZero, kNudge, kGeneral };

// Everything the profiles need about act(g) for one gate (about 130 bytes: a full table is
// 8.5 MB).
struct Core {
  CoreKind kind = CoreKind::kNan;
  bool negative = false;       // sign of act(g) (kInf, kZero, kNudge, kGeneral)
  bool half = false;           // kNudge: X = g/2 (else g)
  std::int8_t dir = 0;         // kNudge: +1 |act| > |X|, -1 |act| < |X|
  bool tiny = false;           // kGeneral: |act| < 2^kTinyLog2, not approximated
  bool fast = false;           // kGeneral, 16-bit: lo <= act(g) <= hi, 42-bit significands
  std::uint8_t act_level = 1;  // level that decided act_bits: 1..3, 4 = undecided
  float g = 0;
  std::uint32_t act_bits = 0;  // rn(act(g))
  double log2_upper = 0;       // kGeneral
  // kGeneral: the level-1 approximation is (exact, a1_err) when a1_err is finite (exact then
  // holds a 128-bit value); +inf when level 1 was not accurate enough for act_exact (not seen
  // in the tests), so that every decision starts at level 2.
  double a1_err = kInf;
  double lo = 0;
  double hi = 0;
  Exact exact;  // act_exact
};

bool is_sixteen(const Format& fmt) { return fmt == kFp16 || fmt == kBf16; }

Approx<128> level1(const Core& c) {
  Approx<128> a;
  a.value = Real<128>(c.exact);
  a.err = c.a1_err;
  return a;
}

struct Scale {
  bool identity;  // rn(act(g)) alone
  float u;        // else rn(act(g) u)
};

// a times the exact u (one more rounding).
template <unsigned P>
Approx<P> scaled(Approx<P> a, const Scale& s) {
  if (!s.identity) {
    a.value *= Real<P>(s.u);
    a.err = err_mul<P>(a.err, 0);
  }
  return a;
}

// Ziv's loop for rn(act(g)) or rn(act(g) u): level 1 from a1, then 320 and 1024 bits. Returns
// the deciding level, 4 when undecided (bits: the rounding of the best approximation).
std::uint8_t ziv(const Format& fmt, ActFunction f, float g, const Approx<128>& a1,
                 const Scale& scale, std::uint32_t* bits) {
  const Approx<128> b1 = scaled(a1, scale);
  if (round_certified(fmt, b1, bits)) return 1;
  const Approx<320> b2 = scaled(act_approx<320>(f, g), scale);
  if (round_certified(fmt, b2, bits)) return 2;
  const Approx<1024> b3 = scaled(act_approx<1024>(f, g), scale);
  if (round_certified(fmt, b3, bits)) return 3;
  if (b3.usable()) {
    *bits = round_to(fmt, Exact(b3.value));
  } else if (b2.usable()) {
    *bits = round_to(fmt, Exact(b2.value));
  } else {
    *bits = round_to(fmt, Exact(b1.value));
  }
  return 4;
}

Core make_core(ActFunction f, const Format& fmt, float g) {
  Core c;
  c.g = g;
  if (std::isnan(g) || (std::isinf(g) && g < 0)) {  // act(NaN) = NaN, act(-inf) = NaN
    c.kind = CoreKind::kNan;
    c.exact = std::numeric_limits<Exact>::quiet_NaN();
    c.act_bits = fmt.canonical_nan();
    return c;
  }
  c.negative = std::signbit(g);
  if (std::isinf(g)) {  // act(+inf) = +inf
    c.kind = CoreKind::kInf;
    c.exact = std::numeric_limits<Exact>::infinity();
    c.act_bits = fmt.infinity(false);
    return c;
  }
  if (g == 0) {  // act(+-0) = +-0
    c.kind = CoreKind::kZero;
    c.exact = Exact(g);
    c.act_bits = c.negative ? fmt.sign_mask() : 0u;
    return c;
  }
  if (nudge_region(f, g, &c.half, &c.dir)) {
    c.kind = CoreKind::kNudge;
    c.exact = c.half ? Exact(mp::ldexp(Exact(g), -1)) : Exact(g);
    c.act_bits = round_to(fmt, nudged(c.exact, c.dir));
    return c;
  }
  c.kind = CoreKind::kGeneral;
  c.log2_upper = log2_upper_bound(f, g);
  const std::uint32_t zero = c.negative ? fmt.sign_mask() : 0u;
  if (c.log2_upper < kTinyLog2) {
    c.tiny = true;
    c.exact = Exact(c.negative ? -0.0 : 0.0);
    c.act_bits = zero;
    return c;
  }
  const Approx<128> a1 = act_approx<128>(f, g);
  if (exact_enough(a1)) {
    c.exact = Exact(a1.value);
    c.a1_err = a1.err;
  } else {
    // Not reached on any 16-bit gate nor on the sampled fp32 ones (the cross-level tests check
    // the level-1 bounds); the 1024-bit value is the last resort.
    const Approx<320> a2 = act_approx<320>(f, g);
    c.exact = exact_enough(a2) ? a2.value : Exact(act_approx<1024>(f, g).value);
  }
  // rn(act(g)): zero when the bound is below 2^(emin - p - 1) (under half the smallest
  // subnormal), else Ziv.
  if (c.log2_upper <= fmt.emin() - fmt.precision - 1) {
    c.act_bits = zero;
  } else {
    c.act_level = ziv(fmt, f, g, level1(c), Scale{true, 1.0f}, &c.act_bits);
  }
  if (is_sixteen(fmt) && c.a1_err < kInf) {
    // The enclosure of round_certified (err + 4 units), rounded outward.
    const Real<128> rel = mp::ldexp(Real<128>(c.a1_err + 4), -127);
    const Real<128> mag = mp::abs(a1.value);
    c.fast = directed42(a1.value - mag * rel, false, &c.lo) &&
             directed42(a1.value + mag * rel, true, &c.hi);
  }
  return c;
}

// Lazily filled cores of all 2^16 patterns of one 16-bit format for one act.
class CoreTable {
 public:
  CoreTable(ActFunction f, const Format& fmt)
      : f_(f), fmt_(fmt), cores_(new Core[65536]), state_(new std::atomic<std::uint8_t>[65536]) {
    for (int i = 0; i < 65536; ++i) state_[i].store(kEmpty, std::memory_order_relaxed);
  }

  const Core& get(std::uint32_t bits) {
    std::atomic<std::uint8_t>& s = state_[bits];
    if (s.load(std::memory_order_acquire) != kReady) {
      std::uint8_t expected = kEmpty;
      if (s.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel)) {
        cores_[bits] = make_core(f_, fmt_, decode_float(fmt_, bits));
        s.store(kReady, std::memory_order_release);
      } else {
        while (s.load(std::memory_order_acquire) != kReady) std::this_thread::yield();
      }
    }
    return cores_[bits];
  }

 private:
  static constexpr std::uint8_t kEmpty = 0;
  static constexpr std::uint8_t kBusy = 1;
  static constexpr std::uint8_t kReady = 2;
  ActFunction f_;
  Format fmt_;
  std::unique_ptr<Core[]> cores_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> state_;
};

CoreTable& core_table(ActFunction f, const Format& fmt) {
  const int i = static_cast<int>(f) * 2 + (fmt == kFp16 ? 0 : 1);
  static std::once_flag once[6];
  static std::unique_ptr<CoreTable> tables[6];
  std::call_once(once[i], [&] { tables[i] = std::make_unique<CoreTable>(f, fmt); });
  return *tables[i];
}

// The pattern of v in a 16-bit format when v is exactly a value of it.
bool sixteen_pattern(const Format& fmt, float v, std::uint32_t* bits) {
  *bits = round_double(fmt, v);
  const float back = decode_float(fmt, *bits);
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::memcpy(&a, &v, sizeof a);
  std::memcpy(&b, &back, sizeof b);
  return a == b;
}

// The core of g: from the table for a 16-bit value, else computed.
const Core& core_of(ActFunction f, const Format& fmt, CoreTable* table, float g, Core* local) {
  std::uint32_t bits = 0;
  if (table && sixteen_pattern(fmt, g, &bits)) return table->get(bits);
  *local = make_core(f, fmt, g);
  return *local;
}

// single: rn(act(g) u) from the core. Returns the deciding level (1 for the cases that need no
// approximation).
std::uint8_t single_product(ActFunction f, const Format& fmt, const Core& c, float u,
                            std::uint32_t* y, Exact* y_exact) {
  if (c.kind == CoreKind::kNan || std::isnan(u)) {
    *y = fmt.canonical_nan();
    *y_exact = std::numeric_limits<Exact>::quiet_NaN();
    return 1;
  }
  if (c.kind == CoreKind::kInf || c.kind == CoreKind::kZero) {
    // IEEE product of +-inf or +-0 with u, exact in double.
    const double a = c.kind == CoreKind::kInf ? kInf : (c.negative ? -0.0 : 0.0);
    const double p = a * static_cast<double>(u);
    *y = round_double(fmt, p);
    *y_exact = Exact(p);
    return 1;
  }
  const bool negative = c.negative != static_cast<bool>(std::signbit(u));
  if (std::isinf(u)) {  // finite nonzero act(g) times inf
    *y = fmt.infinity(negative);
    *y_exact = Exact(negative ? -kInf : kInf);
    return 1;
  }
  const std::uint32_t zero = negative ? fmt.sign_mask() : 0u;
  if (u == 0) {
    *y = zero;
    *y_exact = Exact(negative ? -0.0 : 0.0);
    return 1;
  }
  if (c.kind == CoreKind::kNudge) {
    *y_exact = c.exact * Exact(u);  // exact: at most 48 bits
    *y = round_to(fmt, nudged(*y_exact, c.dir));
    return 1;
  }
  *y_exact = c.tiny ? Exact(negative ? -0.0 : 0.0) : Exact(c.exact * Exact(u));
  int eu = 0;
  (void)std::frexp(u, &eu);  // |u| < 2^eu
  if (c.log2_upper + eu <= fmt.emin() - fmt.precision - 1) {
    *y = zero;
    return 1;
  }
  std::uint32_t ub = 0;
  if (c.fast && sixteen_pattern(fmt, u, &ub)) {
    // [lo, hi] * u, exact in double (42 + 11 significant bits).
    const double p1 = c.lo * static_cast<double>(u);
    const double p2 = c.hi * static_cast<double>(u);
    const std::uint32_t b1 = round_double(fmt, p1);
    if (b1 == round_double(fmt, p2)) {
      *y = b1;
      return 1;
    }
  }
  return ziv(fmt, f, c.g, level1(c), Scale{false, u}, y);
}

}  // namespace

template <unsigned P>
Approx<P> act_approx(ActFunction f, float g) {
  if (!std::isfinite(g) || g == 0) return no_bound<P>();
  if (log2_upper_bound(f, g) < kTinyLog2) return no_bound<P>();
  const Real<P> x(g);
  switch (f) {
    case ActFunction::kSilu:
      return silu_approx<P>(x);
    case ActFunction::kGelu:
      return gelu_approx<P>(x);
    case ActFunction::kGeluTanh:
      return gelu_tanh_approx<P>(x);
  }
  return no_bound<P>();
}

template Approx<128> act_approx<128>(ActFunction, float);
template Approx<320> act_approx<320>(ActFunction, float);
template Approx<1024> act_approx<1024>(ActFunction, float);

const char* act_function_name(ActFunction f) {
  switch (f) {
    case ActFunction::kSilu:
      return "silu";
    case ActFunction::kGelu:
      return "gelu";
    case ActFunction::kGeluTanh:
      return "gelu_tanh";
  }
  return "?";
}

const char* act_profile_name(ActProfile p) {
  static const char* const names[3][2] = {
      {"act_and_mul.silu.single", "act_and_mul.silu.torch"},
      {"act_and_mul.gelu.single", "act_and_mul.gelu.torch"},
      {"act_and_mul.gelu_tanh.single", "act_and_mul.gelu_tanh.torch"}};
  const int fi = static_cast<int>(p.function);
  const int ri = static_cast<int>(p.rounding);
  if (fi < 0 || fi > 2 || ri < 0 || ri > 1) return "?";
  return names[fi][ri];
}

bool act_profile_from_name(const std::string& name, ActProfile* out) {
  for (const ActProfile& p : kAllActProfiles) {
    if (name == act_profile_name(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

ActRowResult evaluate(ActProfile p, const ActRowInput& in) {
  ActRowResult out;
  if (in.d <= 0 || in.gate == nullptr || in.up == nullptr) return out;
  const Format& fmt = in.format;
  const std::size_t n = static_cast<std::size_t>(in.d);
  out.y_bits.resize(n);
  out.y_exact.resize(n);
  out.act_bits.resize(n);
  out.act_exact.resize(n);
  CoreTable* table = is_sixteen(fmt) ? &core_table(p.function, fmt) : nullptr;
  Core local;
  for (std::size_t i = 0; i < n; ++i) {
    const float u = in.up[i];
    const Core& c = core_of(p.function, fmt, table, in.gate[i], &local);
    out.act_bits[i] = c.act_bits;
    out.act_exact[i] = c.exact;
    bool undecided = c.act_level == 4;
    if (c.act_level > 1) ++out.widened;
    if (p.rounding == ActRounding::kTorch) {
      // rn(act) * u: two format values, exact in double (at most 48 significant bits, within
      // [2^-298, 2^256]), IEEE specials included.
      const double prod = static_cast<double>(decode_float(fmt, c.act_bits)) * u;
      out.y_bits[i] = round_double(fmt, prod);
      out.y_exact[i] = Exact(prod);
    } else {
      const std::uint8_t level =
          single_product(p.function, fmt, c, u, &out.y_bits[i], &out.y_exact[i]);
      if (level > 1) ++out.widened;
      if (level == 4) undecided = true;
    }
    if (undecided) out.undecided.push_back(static_cast<std::int64_t>(i));
  }
  return out;
}

ActRowResult act_and_mul_silu_single(const ActRowInput& in) {
  return evaluate({ActFunction::kSilu, ActRounding::kSingle}, in);
}
ActRowResult act_and_mul_silu_torch(const ActRowInput& in) {
  return evaluate({ActFunction::kSilu, ActRounding::kTorch}, in);
}
ActRowResult act_and_mul_gelu_single(const ActRowInput& in) {
  return evaluate({ActFunction::kGelu, ActRounding::kSingle}, in);
}
ActRowResult act_and_mul_gelu_torch(const ActRowInput& in) {
  return evaluate({ActFunction::kGelu, ActRounding::kTorch}, in);
}
ActRowResult act_and_mul_gelu_tanh_single(const ActRowInput& in) {
  return evaluate({ActFunction::kGeluTanh, ActRounding::kSingle}, in);
}
ActRowResult act_and_mul_gelu_tanh_torch(const ActRowInput& in) {
  return evaluate({ActFunction::kGeluTanh, ActRounding::kTorch}, in);
}

ActValue act_value(ActFunction f, const Format& format, float g) {
  CoreTable* table = is_sixteen(format) ? &core_table(f, format) : nullptr;
  Core local;
  const Core& c = core_of(f, format, table, g, &local);
  ActValue v;
  v.bits = c.act_bits;
  v.exact = c.exact;
  v.widened = c.act_level > 1;
  v.undecided = c.act_level == 4;
  return v;
}

}  // namespace kc::ref
