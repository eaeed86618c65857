// QK-norm + RoPE profiles (qknorm_rope.h): one evaluator per token driven by the profile, the
// certified roundings, the fp32 angle of the engines and SGLang's YaRN parameters.
//
// Structure. A token's q/k heads share their angles: the pairs' angles, cos and sin are computed
// once per token and precision level; each head's R once per level. Every output is then one of
//  - a product R * D with D an exact dyadic (a sum of at most two products of floats):
//    Head::round_product decides it from a 53-bit ball, else a 192-bit ball, else by exact
//    integer comparison of squares (the rmsnorm.cpp method; ties are possible);
//  - a value with cos/sin of a nonzero angle: never a tie (qknorm_rope.h); Token::rotated_output
//    decides it from a 53-bit ball, else by Ziv's strategy over 192, 384 and 1024 bits;
//  - a special value (NaN/inf inputs, R in {NaN, 0, inf}, an infinite fp32 angle): its class
//    (NaN, +-inf, +-0) follows from IEEE double evaluation of the written expression, since
//    every finite piece is far inside double's range (|z R| <= sqrt(n), 2^-130 < R < 2^160);
//  - an exact zero (both products zero): its sign by the IEEE rules of the written expression.
// The hf profile's own roundings (rn(z R), rn(af cos), the rn of each product and of the sum)
// are the same two kinds of decision, followed by exact dyadic arithmetic in Exact.
//
// Why a 53-bit filter: with 192-bit balls the per-output Ball arithmetic dominated (about 10 ms
// for a Qwen3-8B row); double arithmetic over enclosures converted from the 192-bit level
// decides all but about 2^-25 of the fp32 outputs and 2^-40 of the bf16 ones (the distance to
// a boundary is uniform in an ulp) at a quarter of the cost, and is as rigorous: every radius
// is derived below.
#include "kc/ref/qknorm_rope.h"

#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "kc/ref/trig.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
using trig::Ball;
using trig::Real;

namespace {

constexpr unsigned kP0 = trig::kTrigLevels[0];  // 192
constexpr unsigned kP1 = trig::kTrigLevels[1];  // 384
constexpr unsigned kP2 = trig::kTrigLevels[2];  // 1024
template <unsigned P>
using LevelTag = std::integral_constant<unsigned, P>;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Runs attempt(LevelTag<P>) at 192, 384, 1024 bits (or 1024 only) until it returns true.
// Returns the index of the deciding level (0, 1, 2), or -1 when none decided.
template <class F>
int ziv(ZivStart start, F&& attempt) {
  if (start == ZivStart::kLowest) {
    if (attempt(LevelTag<kP0>{})) return 0;
    if (attempt(LevelTag<kP1>{})) return 1;
  }
  return attempt(LevelTag<kP2>{}) ? 2 : -1;
}

// An exact dyadic rational m 2^e (the rmsnorm.cpp fallback type; cpp_int grows as needed).
struct Dyadic {
  mp::cpp_int m;
  int e = 0;

  static Dyadic of(const Exact& v) {  // v finite; exact (v has at most 320 significant bits)
    Dyadic d;
    if (v == 0) return d;
    int k = 0;
    const Exact frac = mp::frexp(v, &k);
    d.m = mp::ldexp(frac, static_cast<int>(kExactBits)).convert_to<mp::cpp_int>();
    d.e = k - static_cast<int>(kExactBits);
    return d;
  }
  friend Dyadic operator*(const Dyadic& a, const Dyadic& b) {
    Dyadic r;
    r.m = a.m * b.m;
    r.e = a.e + b.e;
    return r;
  }
  friend Dyadic operator+(const Dyadic& a, const Dyadic& b) {
    if (a.m == 0) return b;
    if (b.m == 0) return a;
    const int e = std::min(a.e, b.e);
    Dyadic r;
    r.m = (a.m << (a.e - e)) + (b.m << (b.e - e));
    r.e = e;
    return r;
  }
  friend int compare(const Dyadic& a, const Dyadic& b) {
    const int e = std::min(a.e, b.e);
    const mp::cpp_int am = a.m << (a.e - e);
    const mp::cpp_int bm = b.m << (b.e - e);
    return am < bm ? -1 : am > bm ? 1 : 0;
  }
};

// ---------------------------------------------------------------------------------------------
// Rounding decisions from a ball.

// The few operations decide() needs, for Real<P> and for double.
inline double frexp_of(double x, int* e) { return std::frexp(x, e); }
inline double ldexp_of(double x, int e) { return std::ldexp(x, e); }
inline double floor_of(double x) { return std::floor(x); }
inline std::int64_t int_of(double x) { return static_cast<std::int64_t>(x); }
template <unsigned P>
Real<P> frexp_of(const Real<P>& x, int* e) {
  return mp::frexp(x, e);
}
template <unsigned P>
Real<P> ldexp_of(const Real<P>& x, int e) {
  return mp::ldexp(x, e);
}
template <unsigned P>
Real<P> floor_of(const Real<P>& x) {
  return mp::floor(x);
}
template <unsigned P>
std::int64_t int_of(const Real<P>& x) {
  return x.template convert_to<std::int64_t>();
}
// Relative error of one rounded operation in T, doubled (the margin decide() applies).
inline double margin_of(double) { return 0x1p-48; }
template <unsigned P>
Real<P> margin_of(const Real<P>&) {
  return mp::ldexp(Real<P>(1), 5 - static_cast<int>(P));
}

// Decides rn_f(v) for every v in [mid - rad, mid + rad] (T = Real<P> or double): true (and
// *bits) when one rounding covers it all. The candidate is the nearest format value n 2^q to
// |mid|; the magnitudes that round to it form the open interval (lo, hi) between its
// neighbouring midpoints (a quarter quantum below a normal power of two, where the spacing
// halves; the overflow threshold above the largest finite; 0 below the zero candidate, whose
// sign the ball must fix). The ball is inside when |mid| - lo > rad and hi - |mid| > rad; both
// differences are rounded (relative error <= u), so rad is compared after an inflation by
// margin_of() >= 16 u (>= (1 + u)^2 - 1 after its own rounding). Every other operation here is
// exact (scaling by powers of two, floor, small integers).
template <class T>
bool decide_range(const Format& f, const T& mid, const T& rad, std::uint32_t* bits) {
  using std::abs;
  const T a = abs(mid);
  if (!(a > rad)) return false;  // the sign is not known (or NaN)
  int k = 0;
  (void)frexp_of(a, &k);  // a = m 2^k, m in [1/2, 1): floor(log2 a) = k - 1
  const int p = f.precision;
  const int q = std::max(k - 1, f.emin()) - (p - 1);  // the quantum of a's binade
  const T scaled = ldexp_of(a, -q);
  T nr = floor_of(scaled);
  if (scaled - nr >= T(0.5)) nr += 1;
  const std::int64_t n = int_of(nr);  // 0 .. 2^p
  const std::int64_t half = std::int64_t{1} << (p - 1);
  // The boundaries around n 2^q, in units of 2^(q-2).
  std::int64_t lo4 = 4 * n - 2;
  std::int64_t hi4 = 4 * n + 2;
  if (n == half && q > f.emin() - (p - 1)) lo4 = 4 * n - 1;  // spacing halves below 2^e
  if (n == 2 * half) hi4 = 4 * n + 4;                        // carried: spacing doubles
  // Encoding of n 2^q.
  std::int64_t en = n;
  int eq = q;
  if (en == 2 * half) {
    en = half;
    ++eq;
  }
  const int biased = eq + (p - 1) + f.bias();
  std::uint32_t mag;
  T lo, hi;
  bool no_hi = false;
  if (en >= half && biased >= (1 << f.exponent_bits) - 1) {
    // Beyond the largest finite: infinity, for magnitudes at or above the overflow threshold
    // (2^p - 1/2) 2^(emax - p + 1).
    mag = f.infinity(false);
    lo = ldexp_of(T(static_cast<double>(4 * (2 * half) - 2)), f.emax() - (p - 1) - 2);
    no_hi = true;
  } else {
    mag = en >= half ? (static_cast<std::uint32_t>(biased) << f.fraction_bits()) |
                           static_cast<std::uint32_t>(en - half)
                     : static_cast<std::uint32_t>(en);
    lo = lo4 <= 0 ? T(0) : ldexp_of(T(static_cast<double>(lo4)), q - 2);
    hi = ldexp_of(T(static_cast<double>(hi4)), q - 2);
  }
  const T r = rad * (T(1) + margin_of(rad));
  if (lo > 0 && !(a - lo > r)) return false;
  if (!no_hi && !(hi - a > r)) return false;
  *bits = mag | (mid < 0 ? f.sign_mask() : 0u);
  return true;
}

template <unsigned P>
bool decide(const Format& f, const Ball<P>& v, std::uint32_t* bits) {
  if (!mp::isfinite(v.rad) || !mp::isfinite(v.mid)) return false;
  return decide_range<Real<P>>(f, v.mid, v.rad, bits);
}

// A 53-bit ball: the fast first decision. Built from a 192-bit ball, its radius covers the
// conversion (the exact difference Real(m) - mid, plus the 192-bit radius, converted to double
// and inflated by 1 + 2^-50 against a faithful conversion) and the operations below each add
// the rounding of their own result (2^-53 |m|, doubled for safety) and finish with the factor
// 1 + 2^-40, which covers the at most 8 rounded operations of a radius formula. Magnitudes are
// kept in [2^-900, 2^900] (else the caller takes the Real path), where no double operation here
// underflows by more than the absolute 2^-1000 every radius carries.
struct Ball53 {
  double mid = 0;
  double rad = kInf;  // default: no information
};
constexpr double kK53 = 1 + 0x1p-40;
constexpr double kU53 = 0x1p-52;
constexpr double kTiny53 = 0x1p-1000;

bool in_range53(double v) {
  return v == 0 || (std::fabs(v) >= 0x1p-900 && std::fabs(v) <= 0x1p900);
}

template <unsigned P>
Ball53 to_ball53(const Ball<P>& b) {
  Ball53 out;
  if (!mp::isfinite(b.rad) || !mp::isfinite(b.mid)) return out;
  const double m = b.mid.template convert_to<double>();
  if (!in_range53(m)) return out;
  const Real<P> err = mp::abs(Real<P>(m) - b.mid) + b.rad;
  const double r = err.template convert_to<double>();
  if (!(r <= 0x1p900)) return out;
  out.mid = m;
  out.rad = r * (1 + 0x1p-50) + kTiny53;
  return out;
}
// t * b for an exact double t.
Ball53 mul53(double t, const Ball53& b) {
  Ball53 o;
  o.mid = t * b.mid;
  o.rad = (std::fabs(t) * b.rad + kU53 * std::fabs(o.mid) + kTiny53) * kK53;
  return o;
}
Ball53 add53(const Ball53& a, const Ball53& b) {
  Ball53 o;
  o.mid = a.mid + b.mid;
  o.rad = (a.rad + b.rad + kU53 * std::fabs(o.mid) + kTiny53) * kK53;
  return o;
}
Ball53 mul53(const Ball53& a, const Ball53& b) {
  Ball53 o;
  o.mid = a.mid * b.mid;
  o.rad = (std::fabs(a.mid) * b.rad + std::fabs(b.mid) * a.rad + a.rad * b.rad +
           kU53 * std::fabs(o.mid) + kTiny53) *
          kK53;
  return o;
}
// The Exact value e (<= 72 bits) as a 53-bit ball: its nearest double, radius 2^-52 |e|.
Ball53 exact53(const Exact& e) {
  Ball53 o;
  const double m = e.convert_to<double>();
  if (!in_range53(m)) return o;
  o.mid = m;
  o.rad = (kU53 * std::fabs(m) + kTiny53) * kK53;
  return o;
}
bool decide53(const Format& f, const Ball53& v, std::uint32_t* bits) {
  if (!std::isfinite(v.rad) || !in_range53(v.mid) || !(v.rad < 0x1p900)) return false;
  return decide_range<double>(f, v.mid, v.rad, bits);
}

// Bits of a float that is a value of f (row inputs are; NaN becomes the canonical NaN).
std::uint32_t bits_of_value(const Format& f, float v) {
  if (std::isnan(v)) return f.canonical_nan();
  return round_to(f, Exact(v));
}

// IEEE sign of x + y when the exact sum is zero: two zeros give -0 only when both are -0; an
// exact cancellation of nonzero terms gives +0 (round to nearest).
bool zero_sum_negative(bool x_zero, bool x_neg, bool y_zero, bool y_neg) {
  return x_zero && y_zero && x_neg && y_neg;
}

std::uint32_t zero_bits(const Format& f, bool negative) { return negative ? f.sign_mask() : 0u; }

// ---------------------------------------------------------------------------------------------
// One q/k head: R = 1/sqrt(sum z^2 / n + eps) at each precision, and the exact fallback.

enum class RClass : std::uint8_t {
  kFinite,    // 0 < R < inf
  kNan,       // a NaN in the head, or mean + eps < 0
  kZero,      // an infinity in the head (no NaN)
  kInfinite,  // mean + eps == 0
};

template <unsigned P>
struct HeadLevel {
  std::optional<Ball<P>> r;
};

class Head {
 public:
  Head(const float* z, const float* w, std::int64_t n, float eps) : z_(z), w_(w), n_(n), eps_(eps) {
    bool nan = false;
    bool inf = false;
    bool all_zero = true;
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::isnan(z[i])) nan = true;
      if (std::isinf(z[i])) inf = true;
      if (z[i] != 0) all_zero = false;
    }
    if (nan) {
      cls_ = RClass::kNan;
    } else if (inf) {
      cls_ = RClass::kZero;
    } else if (eps >= 0) {
      cls_ = all_zero && eps == 0 ? RClass::kInfinite : RClass::kFinite;
    } else {
      // sum z^2 + n eps: exact sign.
      const int c = compare(exact_sum_sq(), Dyadic::of(-Exact(n) * Exact(eps)));
      cls_ = c > 0 ? RClass::kFinite : c == 0 ? RClass::kInfinite : RClass::kNan;
    }
  }

  RClass cls() const { return cls_; }
  const float* z() const { return z_; }
  const float* w() const { return w_; }

  // R as a double: the class value, or an approximation (only its class matters where used).
  double r_double() {
    switch (cls_) {
      case RClass::kNan:
        return kNan;
      case RClass::kZero:
        return 0.0;
      case RClass::kInfinite:
        return kInf;
      case RClass::kFinite:
        break;
    }
    return r<kP0>().mid.template convert_to<double>();
  }

  // R at precision P (class kFinite). sum z^2: each square is exact (48 bits), the n - 1
  // additions of non-negative terms err by at most g(n-1) sum <= 2 n u S~ (Lemma S of trig.cpp);
  // then the Ball operations /n, +eps, sqrt, 1/x.
  template <unsigned P>
  const Ball<P>& r() {
    std::optional<Ball<P>>& slot = level<P>().r;
    if (!slot) {
      Real<P> s = 0;
      for (std::int64_t i = 0; i < n_; ++i) {
        const Real<P> zi(z_[i]);
        s += zi * zi;
      }
      const Ball<P> sum{s, Real<P>(2 * n_) * trig::unit_roundoff<P>() * s *
                               (Real<P>(1) + mp::ldexp(Real<P>(1), 8 - static_cast<int>(P)))};
      const Ball<P> q = trig::add<P>(trig::div<P>(sum, trig::exact_ball<P>(Real<P>(n_))),
                                     trig::exact_ball<P>(Real<P>(eps_)));
      slot = trig::div<P>(trig::exact_ball<P>(Real<P>(1)), trig::sqrt<P>(q));
    }
    return *slot;
  }

  // rn_f(D R) for an exact nonzero finite D = terms[0] (+ terms[1]) and R of class kFinite.
  // Decided from a 53-bit ball (kLowest) or the first level's ball, else exactly
  // (round_exactly); returns false only when R itself stays undetermined at 1024 bits (a
  // negative eps cancelling mean(z^2) to within 2^-1000), *bits then holding the best guess.
  bool round_product(const Format& f, const Exact* terms, int count, ZivStart start,
                     std::uint32_t* bits, Exact* approx, int* exact_decisions) {
    if (start == ZivStart::kLowest) {
      if (!r53_) r53_ = to_ball53<kP0>(r<kP0>());
      Ball53 d = exact53(terms[0]);
      if (count == 2) d = add53(d, exact53(terms[1]));
      const Ball53 v = mul53(d, *r53_);
      if (decide53(f, v, bits)) {
        *approx = Exact(v.mid);
        return true;
      }
    }
    Real<kP2> mid, rad;
    auto attempt = [&](auto level) {
      constexpr unsigned P = decltype(level)::value;
      Ball<P> d = trig::exact_ball<P>(Real<P>(terms[0]));  // <= 72 bits: exact
      if (count == 2) d = trig::add<P>(d, trig::exact_ball<P>(Real<P>(terms[1])));
      const Ball<P> v = trig::mul<P>(d, r<P>());
      *approx = Exact(v.mid);
      mid = Real<kP2>(v.mid);
      rad = Real<kP2>(v.rad);
      return decide<P>(f, v, bits);
    };
    if (start == ZivStart::kLowest ? attempt(LevelTag<kP0>{}) : attempt(LevelTag<kP2>{})) {
      return true;
    }
    if (!mp::isfinite(rad) && start == ZivStart::kLowest && attempt(LevelTag<kP2>{})) return true;
    ++*exact_decisions;
    return round_exactly(f, terms, count, mid, rad, bits);
  }

 private:
  template <unsigned P>
  HeadLevel<P>& level() {
    if constexpr (P == kP0) return l0_;
    if constexpr (P == kP1) return l1_;
    if constexpr (P == kP2) return l2_;
  }

  // The ball [mid - rad, mid + rad] (widened by 2^-300 |mid| to absorb the conversion to
  // Exact) is far narrower than an ulp: its ends round to the same or to adjacent magnitudes
  // lo < hi, and |D| R is compared with their midpoint M exactly:
  // |D| R vs M <=> D^2 n vs M^2 (sum z^2 + n eps) (R = sqrt(n / (sum z^2 + n eps)), all dyadic).
  bool round_exactly(const Format& f, const Exact* terms, int count, const Real<kP2>& mid,
                     const Real<kP2>& rad, std::uint32_t* bits) {
    const Real<kP2> a = mp::abs(mid);
    const Real<kP2> widen = rad + mp::ldexp(a, -300);
    const std::uint32_t sign = mid < 0 ? f.sign_mask() : 0u;
    if (!mp::isfinite(widen) || !(widen < a)) {
      *bits = sign | round_to(f, Exact(a));
      return false;
    }
    const std::uint32_t lo = round_to(f, Exact(a - widen));
    const std::uint32_t hi = round_to(f, Exact(a + widen));
    if (lo == hi) {
      *bits = sign | lo;
      return true;
    }
    if (hi != lo + 1) {  // not adjacent: the ball is too wide to compare with one midpoint
      *bits = sign | round_to(f, Exact(a));
      return false;
    }
    Dyadic d = Dyadic::of(terms[0]);
    if (count == 2) d = d + Dyadic::of(terms[1]);
    const Dyadic mm = Dyadic::of(midpoint_above(f, lo));
    const Dyadic n = Dyadic::of(Exact(n_));
    const int c = compare(d * d * n, mm * mm * (exact_sum_sq() + n * Dyadic::of(Exact(eps_))));
    std::uint32_t mag;
    if (c > 0) {
      mag = hi;
    } else if (c < 0) {
      mag = lo;
    } else {
      mag = (lo & 1u) ? hi : lo;  // a true tie: to even
    }
    *bits = sign | mag;
    return true;
  }

  const Dyadic& exact_sum_sq() {
    if (!have_exact_sum_) {
      for (std::int64_t i = 0; i < n_; ++i) {
        const Dyadic d = Dyadic::of(Exact(z_[i]));
        exact_sum_ = exact_sum_ + d * d;
      }
      have_exact_sum_ = true;
    }
    return exact_sum_;
  }

  const float* z_;
  const float* w_;
  std::int64_t n_;
  float eps_;
  RClass cls_ = RClass::kFinite;
  bool have_exact_sum_ = false;
  Dyadic exact_sum_;
  std::optional<Ball53> r53_;
  HeadLevel<kP0> l0_;
  HeadLevel<kP1> l1_;
  HeadLevel<kP2> l2_;
};

// ---------------------------------------------------------------------------------------------
// Angles.

// high' of SGLang's compute_freq_yarn, in its fp32 operations.
float yarn_high_adjusted(const YarnParams& y) {
  float high = y.high;
  if (std::fabs(y.low - high) <= 1e-6f) high += 0.001f;
  return high;
}

// rn32(b^e) for fp32 b >= 2^-126 and 0 < e < 1. Never a midpoint: b^e = M 2^k with M odd of 25
// bits would need, for e = m/2^k in lowest terms (m odd), b's odd part B = c^(2^k) and M = c^m,
// so M < B^e < 2^24 (or M = 1, a power of two, which is not a normal midpoint); so Ziv ends.
bool certified_pow32(float b, float e, ZivStart start, float* out, int* widened) {
  std::uint32_t bits = 0;
  const int level = ziv(start, [&](auto tag) {
    constexpr unsigned P = decltype(tag)::value;
    const Ball<P> v =
        trig::pow<P>(trig::exact_ball<P>(Real<P>(b)), trig::exact_ball<P>(Real<P>(e)));
    return decide<P>(kFp32, v, &bits);
  });
  if (level > 0 && widened) ++*widened;
  std::memcpy(out, &bits, sizeof *out);
  return level >= 0;
}

// F_j of the fp32 angle (qknorm_rope.h), every operation an IEEE fp32 operation.
bool fp32_frequency(const QkNormRopeParams& prm, std::int64_t j, ZivStart start, float* out,
                    int* widened) {
  const float b = static_cast<float>(prm.base);
  const float e = static_cast<float>(2 * j) / static_cast<float>(prm.rotary_dim);
  float w = 1.0f;
  if (e != 0.0f && !certified_pow32(b, e, start, &w, widened)) return false;
  float freq = 1.0f / w;
  const YarnParams& y = prm.yarn;
  if (y.factor != 1.0f) {
    const float interp = freq / y.factor;
    const float high = yarn_high_adjusted(y);
    const float linear = (static_cast<float>(j) - y.low) / (high - y.low);
    const float ramp = std::fmin(std::fmax(linear, 0.0f), 1.0f);
    const float ef = 1.0f - ramp;
    const float t1 = interp * (1.0f - ef);
    const float t2 = freq * ef;
    freq = t1 + t2;
  }
  *out = freq;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The token evaluator.

template <unsigned P>
struct PairLevel {
  std::optional<Ball<P>> freq;  // exact profile
  std::optional<Ball<P>> sin, cos;
};

struct Pair53 {
  std::optional<Ball53> sin, cos;
};

template <unsigned P>
struct TokenLevel {
  std::vector<PairLevel<P>> pairs;
  std::vector<std::optional<Ball<P>>> af_r;  // af R per head
  std::optional<Ball<P>> log_base;
};

enum class AngleKind : std::uint8_t { kExact, kFp32 };

class Token {
 public:
  Token(QkNormRopeProfile profile, const QkNormRopeParams& prm, const QkNormRopeTokenInput& in,
        const QkNormRopeOptions& opt, QkNormRopeResult* res)
      : profile_(profile), prm_(prm), in_(in), opt_(opt), res_(res), f_(in.format) {
    angle_ = profile == QkNormRopeProfile::kExact ? AngleKind::kExact : AngleKind::kFp32;
    const std::int64_t d = prm.head_dim;
    const std::int64_t nqk = prm.num_q_heads + prm.num_k_heads;
    heads_.reserve(static_cast<std::size_t>(nqk));
    for (std::int64_t h = 0; h < nqk; ++h) {
      const float* w = h < prm.num_q_heads ? in.q_weight : in.k_weight;
      heads_.emplace_back(in.row + h * d, w, d, prm.eps);
    }
    pairs_ = prm.rotary_dim / 2;
    init_levels();
  }

  void run() {
    const std::int64_t d = prm_.head_dim;
    const std::int64_t total = (prm_.num_q_heads + prm_.num_k_heads + prm_.num_v_heads) * d;
    res_->y_bits.assign(static_cast<std::size_t>(total), 0u);
    res_->y_exact.assign(static_cast<std::size_t>(total), Exact(0));
    prepare_angles();
    for (std::size_t h = 0; h < heads_.size(); ++h) {
      const int hi = static_cast<int>(h);
      res_->inv_rms.push_back(inv_rms_exact(hi));
      const std::int64_t base = static_cast<std::int64_t>(h) * d;
      for (std::int64_t j = 0; j < pairs_; ++j) {
        const std::int64_t a = prm_.style == RopeStyle::kNeox ? j : 2 * j;
        const std::int64_t b = prm_.style == RopeStyle::kNeox ? j + pairs_ : 2 * j + 1;
        rotate_pair(hi, j, a, b, base);
      }
      for (std::int64_t i = prm_.rotary_dim; i < d; ++i) passthrough(hi, i, base);
    }
    for (std::int64_t i = static_cast<std::int64_t>(heads_.size()) * d; i < total; ++i) {
      const float v = in_.row[i];
      res_->y_bits[static_cast<std::size_t>(i)] = bits_of_value(f_, v);
      res_->y_exact[static_cast<std::size_t>(i)] = Exact(v);
    }
    if (res_->undecided > 0) {
      res_->status = QkNormRopeStatus::kUndecided;
      res_->message = "qknorm_rope: " + std::to_string(res_->undecided) +
                      " roundings stayed undecided at 1024 bits; y_bits holds their 1024-bit "
                      "roundings";
    }
  }

 private:
  // --- levels -------------------------------------------------------------------------------
  void init_levels() {
    auto init = [&](auto& l) {
      l.pairs.resize(static_cast<std::size_t>(pairs_));
      l.af_r.resize(heads_.size());
    };
    init(l0_);
    init(l1_);
    init(l2_);
    pairs53_.resize(static_cast<std::size_t>(pairs_));
    af_r53_.resize(heads_.size());
  }
  template <unsigned P>
  TokenLevel<P>& level() {
    if constexpr (P == kP0) return l0_;
    if constexpr (P == kP1) return l1_;
    if constexpr (P == kP2) return l2_;
  }
  // The level whose values the result reports (the first one tried).
  template <class F>
  auto at_report_level(F&& fn) {
    return opt_.start == ZivStart::kLowest ? fn(LevelTag<kP0>{}) : fn(LevelTag<kP2>{});
  }

  // --- angles -------------------------------------------------------------------------------
  void prepare_angles() {
    const std::size_t np = static_cast<std::size_t>(pairs_);
    theta32_.assign(np, 0.0f);
    res_->freq.resize(np);
    res_->theta.resize(np);
    res_->cos_theta.resize(np);
    res_->sin_theta.resize(np);
    for (std::int64_t j = 0; j < pairs_; ++j) {
      const std::size_t js = static_cast<std::size_t>(j);
      if (angle_ == AngleKind::kFp32) {
        float freq = 0.0f;
        if (!fp32_frequency(prm_, j, opt_.start, &freq, &res_->widened_decisions)) {
          ++res_->undecided;
        }
        const float p32 = static_cast<float>(in_.position);  // round to nearest even
        theta32_[js] = p32 * freq;
        res_->freq[js] = Exact(freq);
        res_->theta[js] = Exact(theta32_[js]);
      } else {
        at_report_level([&](auto tag) {
          constexpr unsigned P = decltype(tag)::value;
          res_->freq[js] = Exact(frequency<P>(j).mid);
          res_->theta[js] = Exact(theta<P>(j).mid);
          return 0;
        });
      }
      if (angle_zero(j)) {
        res_->cos_theta[js] = Exact(1);
        res_->sin_theta[js] = angle_negative_zero(j) ? Exact(-Exact(0)) : Exact(0);
      } else if (!angle_finite(j)) {
        res_->cos_theta[js] = std::numeric_limits<Exact>::quiet_NaN();
        res_->sin_theta[js] = std::numeric_limits<Exact>::quiet_NaN();
      } else {
        at_report_level([&](auto tag) {
          constexpr unsigned P = decltype(tag)::value;
          res_->cos_theta[js] = Exact(cos<P>(j).mid);
          res_->sin_theta[js] = Exact(sin<P>(j).mid);
          return 0;
        });
      }
    }
    if (profile_ == QkNormRopeProfile::kHf || profile_ == QkNormRopeProfile::kVllmCache) {
      res_->cos_bits.resize(np);
      res_->sin_bits.resize(np);
      for (std::int64_t j = 0; j < pairs_; ++j) cache_values(j);
    }
  }

  bool angle_zero(std::int64_t j) const {
    return angle_ == AngleKind::kExact ? in_.position == 0
                                       : theta32_[static_cast<std::size_t>(j)] == 0.0f;
  }
  bool angle_negative_zero(std::int64_t j) const {
    return angle_ == AngleKind::kFp32 && std::signbit(theta32_[static_cast<std::size_t>(j)]);
  }
  bool angle_finite(std::int64_t j) const {
    return angle_ == AngleKind::kExact || std::isfinite(theta32_[static_cast<std::size_t>(j)]);
  }

  // f_j = base^(-2j/rd) g_j (exact profile), as a ball at precision P.
  //  - base^(-2j/rd) = exp(-(2j) log(base) / rd): Ball operations over the certified log/exp.
  //  - g_j = 1 - ramp (1 - 1/factor), ramp = clamp((j - low) / (high' - low), 0, 1): j - low and
  //    high' - low are exact in Exact (a float and an integer <= 256 span < 300 bits); the clamp
  //    is decided exactly on them, the quotient is a Ball division.
  template <unsigned P>
  const Ball<P>& frequency(std::int64_t j) {
    std::optional<Ball<P>>& slot = level<P>().pairs[static_cast<std::size_t>(j)].freq;
    if (slot) return *slot;
    std::optional<Ball<P>>& lb = level<P>().log_base;
    if (!lb) lb = trig::log<P>(trig::exact_ball<P>(Real<P>(prm_.base)));
    const Ball<P> arg = trig::div<P>(trig::mul<P>(*lb, trig::exact_ball<P>(Real<P>(-2 * j))),
                                     trig::exact_ball<P>(Real<P>(prm_.rotary_dim)));
    Ball<P> freq = trig::exp<P>(arg);
    const YarnParams& y = prm_.yarn;
    if (y.factor != 1.0f) {
      const Exact num = Exact(j) - Exact(y.low);
      const Exact den = Exact(yarn_high_adjusted(y)) - Exact(y.low);
      Ball<P> ramp;
      if (num == 0 || (num < 0) != (den < 0)) {
        ramp = trig::exact_ball<P>(Real<P>(0));
      } else if (mp::abs(num) >= mp::abs(den)) {
        ramp = trig::exact_ball<P>(Real<P>(1));
      } else {
        ramp =
            trig::div<P>(trig::rounded_ball<P>(Real<P>(num)), trig::rounded_ball<P>(Real<P>(den)));
      }
      const Ball<P> one = trig::exact_ball<P>(Real<P>(1));
      const Ball<P> shrink =
          trig::sub<P>(one, trig::div<P>(one, trig::exact_ball<P>(Real<P>(y.factor))));
      freq = trig::mul<P>(freq, trig::sub<P>(one, trig::mul<P>(ramp, shrink)));
    }
    slot = freq;
    return *slot;
  }

  template <unsigned P>
  Ball<P> theta(std::int64_t j) {
    if (angle_ == AngleKind::kFp32) {
      return trig::exact_ball<P>(Real<P>(theta32_[static_cast<std::size_t>(j)]));
    }
    return trig::mul<P>(trig::exact_ball<P>(Real<P>(in_.position)), frequency<P>(j));
  }

  template <unsigned P>
  void ensure_sin_cos(std::int64_t j) {
    PairLevel<P>& pl = level<P>().pairs[static_cast<std::size_t>(j)];
    if (!pl.sin) {
      Ball<P> s, c;
      trig::sin_cos<P>(theta<P>(j), &s, &c);
      pl.sin = s;
      pl.cos = c;
    }
  }
  template <unsigned P>
  const Ball<P>& sin(std::int64_t j) {
    ensure_sin_cos<P>(j);
    return *level<P>().pairs[static_cast<std::size_t>(j)].sin;
  }
  template <unsigned P>
  const Ball<P>& cos(std::int64_t j) {
    ensure_sin_cos<P>(j);
    return *level<P>().pairs[static_cast<std::size_t>(j)].cos;
  }

  // cos/sin as doubles for the special-value evaluation: only their signs and finiteness matter.
  double cos_double(std::int64_t j) {
    if (angle_zero(j)) return 1.0;
    if (!angle_finite(j)) return kNan;
    return sign_of_cos_sin(j, true) < 0 ? -1.0 : 1.0;
  }
  double sin_double(std::int64_t j) {
    if (angle_zero(j)) return angle_negative_zero(j) ? -0.0 : 0.0;
    if (!angle_finite(j)) return kNan;
    return sign_of_cos_sin(j, false) < 0 ? -1.0 : 1.0;
  }
  // The sign of cos/sin of a nonzero angle (never zero: transcendental), at the first level
  // whose ball excludes 0.
  int sign_of_cos_sin(std::int64_t j, bool want_cos) {
    int sign = 1;
    const int level = ziv(opt_.start, [&](auto tag) {
      constexpr unsigned P = decltype(tag)::value;
      return trig::sign_known<P>(want_cos ? cos<P>(j) : sin<P>(j), &sign);
    });
    if (level < 0) ++res_->undecided;
    return sign;
  }

  // hf / vllm_cache: c = rn(af cos th), s = rn(af sin th).
  void cache_values(std::int64_t j) {
    const std::size_t js = static_cast<std::size_t>(j);
    const float af = prm_.yarn.attention_factor;
    if (angle_zero(j)) {
      res_->cos_bits[js] = round_to(f_, Exact(af));
      res_->sin_bits[js] = zero_bits(f_, std::signbit(af) != angle_negative_zero(j));
      return;
    }
    if (!angle_finite(j)) {
      res_->cos_bits[js] = f_.canonical_nan();
      res_->sin_bits[js] = f_.canonical_nan();
      return;
    }
    for (int which = 0; which < 2; ++which) {
      std::uint32_t bits = 0;
      const int level = ziv(opt_.start, [&](auto tag) {
        constexpr unsigned P = decltype(tag)::value;
        const Ball<P> v =
            trig::mul<P>(trig::exact_ball<P>(Real<P>(af)), which == 0 ? cos<P>(j) : sin<P>(j));
        return decide<P>(f_, v, &bits);
      });
      count_level(level);
      (which == 0 ? res_->cos_bits : res_->sin_bits)[js] = bits;
    }
  }

  void count_level(int level) {
    if (level < 0) {
      ++res_->undecided;
    } else if (level > 0) {
      ++res_->widened_decisions;
    }
  }

  // --- heads --------------------------------------------------------------------------------
  Exact inv_rms_exact(int h) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    if (hd.cls() != RClass::kFinite) return Exact(hd.r_double());
    return at_report_level([&](auto tag) {
      constexpr unsigned P = decltype(tag)::value;
      return Exact(hd.r<P>().mid);
    });
  }

  template <unsigned P>
  const Ball<P>& af_r(int h) {
    std::optional<Ball<P>>& slot = level<P>().af_r[static_cast<std::size_t>(h)];
    if (!slot) {
      slot = trig::mul<P>(heads_[static_cast<std::size_t>(h)].r<P>(),
                          trig::exact_ball<P>(Real<P>(prm_.yarn.attention_factor)));
    }
    return *slot;
  }

  bool finite_pair(const Head& hd, std::int64_t a, std::int64_t b) const {
    return std::isfinite(hd.z()[a]) && std::isfinite(hd.w()[a]) && std::isfinite(hd.z()[b]) &&
           std::isfinite(hd.w()[b]);
  }

  void set_output(std::int64_t index, std::uint32_t bits, const Exact& exact) {
    res_->y_bits[static_cast<std::size_t>(index)] = bits;
    res_->y_exact[static_cast<std::size_t>(index)] = exact;
  }
  void set_double(std::int64_t index, double v) {
    set_output(index, round_to(f_, Exact(v)), Exact(v));
  }

  void rotate_pair(int h, std::int64_t j, std::int64_t a, std::int64_t b, std::int64_t base) {
    switch (profile_) {
      case QkNormRopeProfile::kExact:
      case QkNormRopeProfile::kFp32Angle:
        rotate_exact(h, j, a, b, base);
        return;
      case QkNormRopeProfile::kHf:
        rotate_hf(h, j, a, b, base);
        return;
      case QkNormRopeProfile::kVllmCache:
        rotate_vllm(h, j, a, b, base);
        return;
    }
  }

  // exact / fp32_angle: y_a = af (z_a c - z_b s), y_b = af (z_b c + z_a s), one rounding.
  void rotate_exact(int h, std::int64_t j, std::int64_t a, std::int64_t b, std::int64_t base) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    const double af = prm_.yarn.attention_factor;
    if (hd.cls() != RClass::kFinite || !finite_pair(hd, a, b) || !angle_finite(j)) {
      const double rd = hd.r_double();
      const double za = static_cast<double>(hd.z()[a]) * rd * hd.w()[a];
      const double zb = static_cast<double>(hd.z()[b]) * rd * hd.w()[b];
      const double c = cos_double(j), s = sin_double(j);
      set_double(base + a, af * (za * c - zb * s));
      set_double(base + b, af * (zb * c + za * s));
      return;
    }
    // t = z w exactly (48 bits and within double's range).
    const double ta = static_cast<double>(hd.z()[a]) * hd.w()[a];
    const double tb = static_cast<double>(hd.z()[b]) * hd.w()[b];
    rotated_output(h, j, base + a, ta, -tb);
    rotated_output(h, j, base + b, tb, ta);
  }

  // One output af R (tc cos th + ts sin th) (tc, ts signed so that tc cos and ts sin are the two
  // written products).
  void rotated_output(int h, std::int64_t j, std::int64_t index, double tc, double ts) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    const float af = prm_.yarn.attention_factor;
    if (angle_zero(j)) {
      // cos = 1, sin = +-0: the sine product is a signed zero.
      if (tc != 0) {
        const Exact term = Exact(af) * Exact(tc);  // 72 bits: exact
        set_output(index, norm_product(hd, &term, 1, &approx_), approx_);
        return;
      }
      const bool y_neg = std::signbit(ts) != angle_negative_zero(j);
      const bool neg = zero_sum_negative(true, std::signbit(tc), true, y_neg) != std::signbit(af);
      set_output(index, zero_bits(f_, neg), neg ? Exact(-Exact(0)) : Exact(0));
      return;
    }
    if (tc == 0 && ts == 0) {
      const bool x_neg = std::signbit(tc) != (cos_double(j) < 0);
      const bool y_neg = std::signbit(ts) != (sin_double(j) < 0);
      const bool neg = zero_sum_negative(true, x_neg, true, y_neg) != std::signbit(af);
      set_output(index, zero_bits(f_, neg), neg ? Exact(-Exact(0)) : Exact(0));
      return;
    }
    std::uint32_t bits = 0;
    Exact approx;
    if (opt_.start == ZivStart::kLowest) {
      // The 53-bit filter over the 192-bit cos, sin and af R.
      const std::size_t js = static_cast<std::size_t>(j);
      std::optional<Ball53>& c53 = pairs53_[js].cos;
      std::optional<Ball53>& s53 = pairs53_[js].sin;
      if (!c53) {
        c53 = to_ball53<kP0>(cos<kP0>(j));
        s53 = to_ball53<kP0>(sin<kP0>(j));
      }
      std::optional<Ball53>& ar = af_r53_[static_cast<std::size_t>(h)];
      if (!ar) ar = to_ball53<kP0>(af_r<kP0>(h));
      const Ball53 v = mul53(add53(mul53(tc, *c53), mul53(ts, *s53)), *ar);
      if (decide53(f_, v, &bits)) {
        set_output(index, bits, Exact(v.mid));
        return;
      }
    }
    const int level = ziv(opt_.start, [&](auto tag) {
      constexpr unsigned P = decltype(tag)::value;
      const Ball<P> x = trig::mul<P>(trig::exact_ball<P>(Real<P>(tc)), cos<P>(j));
      const Ball<P> y = trig::mul<P>(trig::exact_ball<P>(Real<P>(ts)), sin<P>(j));
      const Ball<P> v = trig::mul<P>(trig::add<P>(x, y), af_r<P>(h));
      approx = Exact(v.mid);
      return decide<P>(f_, v, &bits);
    });
    count_level(level);
    if (level < 0) bits = round_to(f_, approx);
    set_output(index, bits, approx);
  }

  // rn(z_i R) (hf's inner rounding) as bits; special classes by IEEE evaluation.
  std::uint32_t hf_inner(int h, std::int64_t i) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    const float z = hd.z()[i];
    if (hd.cls() != RClass::kFinite || !std::isfinite(z)) {
      return round_to(f_, Exact(static_cast<double>(z) * hd.r_double()));
    }
    if (z == 0) return zero_bits(f_, std::signbit(z));
    const Exact term(z);
    return norm_product(hd, &term, 1, &approx_);
  }

  // hf: zn_i = rn(w_i rn(z_i R)), exact product of two format values.
  Exact hf_normed(int h, std::int64_t i) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    return decode(f_, round_to(f_, Exact(hd.w()[i]) * decode(f_, hf_inner(h, i))));
  }

  // rn(x + y) of two format values x, y (exact sum), with the IEEE zero rule.
  std::uint32_t rounded_sum(const Exact& x, const Exact& y, Exact* exact) {
    if (mp::isfinite(x) && mp::isfinite(y) && x + y == 0) {
      const bool neg = zero_sum_negative(x == 0, mp::signbit(x) != 0, y == 0, mp::signbit(y) != 0);
      *exact = neg ? Exact(-Exact(0)) : Exact(0);
      return zero_bits(f_, neg);
    }
    *exact = x + y;
    return round_to(f_, *exact);
  }

  // hf: y_a = rn(rn(zn_a c) + rn(-zn_b s)), y_b = rn(rn(zn_b c) + rn(zn_a s)).
  void rotate_hf(int h, std::int64_t j, std::int64_t a, std::int64_t b, std::int64_t base) {
    const std::size_t js = static_cast<std::size_t>(j);
    const Exact za = hf_normed(h, a);
    const Exact zb = hf_normed(h, b);
    const Exact c = decode(f_, res_->cos_bits[js]);
    const Exact s = decode(f_, res_->sin_bits[js]);
    auto rn = [&](const Exact& v) { return decode(f_, round_to(f_, v)); };
    Exact e;
    std::uint32_t bits = rounded_sum(rn(za * c), rn(Exact(-zb) * s), &e);
    set_output(base + a, bits, e);
    bits = rounded_sum(rn(zb * c), rn(za * s), &e);
    set_output(base + b, bits, e);
  }

  // vllm_cache: y_a = rn(z_a c - z_b s), y_b = rn(z_b c + z_a s) with z = z R w exact.
  void rotate_vllm(int h, std::int64_t j, std::int64_t a, std::int64_t b, std::int64_t base) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    const std::size_t js = static_cast<std::size_t>(j);
    const Exact c = decode(f_, res_->cos_bits[js]);
    const Exact s = decode(f_, res_->sin_bits[js]);
    if (hd.cls() != RClass::kFinite || !finite_pair(hd, a, b) || mp::isnan(c)) {
      const double rd = hd.r_double();
      const double za = static_cast<double>(hd.z()[a]) * rd * hd.w()[a];
      const double zb = static_cast<double>(hd.z()[b]) * rd * hd.w()[b];
      const double cd = c.convert_to<double>(), sd = s.convert_to<double>();
      set_double(base + a, za * cd - zb * sd);
      set_double(base + b, zb * cd + za * sd);
      return;
    }
    const Exact ta = Exact(hd.z()[a]) * Exact(hd.w()[a]);
    const Exact tb = Exact(hd.z()[b]) * Exact(hd.w()[b]);
    vllm_output(h, base + a, ta * c, Exact(-tb) * s);
    vllm_output(h, base + b, tb * c, ta * s);
  }

  // rn(R (x + y)) for the exact products x = t c, y = t' s (72 bits each).
  void vllm_output(int h, std::int64_t index, const Exact& x, const Exact& y) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    if (x == -y) {
      const bool neg = zero_sum_negative(x == 0, mp::signbit(x) != 0, y == 0, mp::signbit(y) != 0);
      set_output(index, zero_bits(f_, neg), neg ? Exact(-Exact(0)) : Exact(0));
      return;
    }
    Exact terms[2];
    int count = 0;
    if (x != 0) terms[count++] = x;
    if (y != 0) terms[count++] = y;
    set_output(index, norm_product(hd, terms, count, &approx_), approx_);
  }

  // rn(R D) through Head::round_product, counting what it could not decide.
  std::uint32_t norm_product(Head& hd, const Exact* terms, int count, Exact* approx) {
    std::uint32_t bits = 0;
    if (!hd.round_product(f_, terms, count, opt_.start, &bits, approx, &res_->exact_decisions)) {
      ++res_->undecided;
    }
    return bits;
  }

  // Elements past rotary_dim: rn(z R w) (exact, fp32_angle, vllm_cache) or zn (hf).
  void passthrough(int h, std::int64_t i, std::int64_t base) {
    Head& hd = heads_[static_cast<std::size_t>(h)];
    if (profile_ == QkNormRopeProfile::kHf) {
      const Exact zn = hf_normed(h, i);
      set_output(base + i, round_to(f_, zn), zn);
      return;
    }
    const float z = hd.z()[i];
    const float w = hd.w()[i];
    if (hd.cls() != RClass::kFinite || !std::isfinite(z) || !std::isfinite(w)) {
      set_double(base + i, static_cast<double>(z) * hd.r_double() * w);
      return;
    }
    if (z == 0 || w == 0) {
      const bool neg = std::signbit(z) != std::signbit(w);
      set_output(base + i, zero_bits(f_, neg), neg ? Exact(-Exact(0)) : Exact(0));
      return;
    }
    const Exact term = Exact(z) * Exact(w);
    set_output(base + i, norm_product(hd, &term, 1, &approx_), approx_);
  }

  QkNormRopeProfile profile_;
  const QkNormRopeParams& prm_;
  const QkNormRopeTokenInput& in_;
  const QkNormRopeOptions& opt_;
  QkNormRopeResult* res_;
  Format f_;
  AngleKind angle_ = AngleKind::kExact;
  std::vector<Head> heads_;
  std::int64_t pairs_ = 0;
  std::vector<float> theta32_;
  std::vector<Pair53> pairs53_;
  std::vector<std::optional<Ball53>> af_r53_;
  Exact approx_;  // scratch: the pre-rounding value of the last norm product
  TokenLevel<kP0> l0_;
  TokenLevel<kP1> l1_;
  TokenLevel<kP2> l2_;
};

}  // namespace

const char* qknorm_rope_profile_name(QkNormRopeProfile p) {
  switch (p) {
    case QkNormRopeProfile::kExact:
      return "qknorm_rope.exact";
    case QkNormRopeProfile::kFp32Angle:
      return "qknorm_rope.fp32_angle";
    case QkNormRopeProfile::kHf:
      return "qknorm_rope.hf";
    case QkNormRopeProfile::kVllmCache:
      return "qknorm_rope.vllm_cache";
  }
  return "?";
}

bool qknorm_rope_profile_from_name(const std::string& name, QkNormRopeProfile* out) {
  for (QkNormRopeProfile p : kAllQkNormRopeProfiles) {
    if (name == qknorm_rope_profile_name(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

YarnParams yarn_params_from_config(const YarnConfig& c) {
  const double pi = 3.141592653589793;  // Python's math.pi
  auto correction_dim = [&](double rotations) {
    return (static_cast<double>(c.dim) * std::log(c.original_max_position / (rotations * 2 * pi))) /
           (2 * std::log(c.base));
  };
  double low = correction_dim(c.beta_fast);
  double high = correction_dim(c.beta_slow);
  if (c.truncate == YarnTruncate::kTruncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(c.dim - 1));
  YarnParams y;
  y.factor = static_cast<float>(c.factor);
  y.low = static_cast<float>(low);
  y.high = static_cast<float>(high);
  y.attention_factor = static_cast<float>(c.attention_factor);
  return y;
}

std::string qknorm_rope_check(const QkNormRopeParams& p, const QkNormRopeTokenInput& in) {
  const std::string op = "qknorm_rope: ";
  if (p.head_dim < 2 || p.head_dim > 512 || p.head_dim % 2 != 0) {
    return op + "head_dim " + std::to_string(p.head_dim) + " must be even and in 2..512";
  }
  if (p.num_q_heads < 0 || p.num_k_heads < 0 || p.num_v_heads < 0 || p.num_q_heads > 65536 ||
      p.num_k_heads > 65536 || p.num_v_heads > 65536) {
    return op + "head counts (" + std::to_string(p.num_q_heads) + ", " +
           std::to_string(p.num_k_heads) + ", " + std::to_string(p.num_v_heads) +
           ") must be in 0..65536";
  }
  if (p.rotary_dim < 0 || p.rotary_dim > p.head_dim || p.rotary_dim % 2 != 0) {
    return op + "rotary_dim " + std::to_string(p.rotary_dim) +
           " must be even and in 0..head_dim (" + std::to_string(p.head_dim) + ")";
  }
  const float b32 = static_cast<float>(p.base);
  if (!(std::isfinite(p.base) && p.base > 0) || !std::isfinite(b32) ||
      !(b32 >= std::ldexp(1.0f, -126))) {
    return op + "base " + std::to_string(p.base) +
           " must be finite and positive with an fp32 rounding in [2^-126, 2^128)";
  }
  if (!std::isfinite(p.eps)) return op + "eps must be finite";
  const YarnParams& y = p.yarn;
  if (!(std::isfinite(y.attention_factor) && y.attention_factor != 0.0f)) {
    return op + "yarn.attention_factor " + std::to_string(y.attention_factor) +
           " must be finite and nonzero";
  }
  if (y.factor != 1.0f) {
    if (!(std::isfinite(y.factor) && y.factor > 0.0f) || !std::isfinite(y.low) ||
        !std::isfinite(y.high)) {
      return op + "yarn factor, low and high must be finite (factor > 0)";
    }
    if (yarn_high_adjusted(y) == y.low) {
      return op + "yarn high' - low is zero (low " + std::to_string(y.low) + ")";
    }
  }
  if (!(in.format == kFp32 || in.format == kFp16 || in.format == kBf16)) {
    return op + "format " + std::string(in.format.name) + " is not fp32, fp16 or bf16";
  }
  const std::int64_t total = p.num_q_heads + p.num_k_heads + p.num_v_heads;
  if (total > 0 && in.row == nullptr) return op + "row is null";
  if (p.num_q_heads > 0 && in.q_weight == nullptr) return op + "q_weight is null";
  if (p.num_k_heads > 0 && in.k_weight == nullptr) return op + "k_weight is null";
  return "";
}

QkNormRopeResult evaluate(QkNormRopeProfile profile, const QkNormRopeParams& params,
                          const QkNormRopeTokenInput& in, const QkNormRopeOptions& options) {
  QkNormRopeResult res;
  res.message = qknorm_rope_check(params, in);
  if (!res.message.empty()) {
    res.status = QkNormRopeStatus::kInvalidArgument;
    return res;
  }
  Token token(profile, params, in, options, &res);
  token.run();
  return res;
}

QkNormRopeResult qknorm_rope_exact(const QkNormRopeParams& params, const QkNormRopeTokenInput& in,
                                   const QkNormRopeOptions& options) {
  return evaluate(QkNormRopeProfile::kExact, params, in, options);
}
QkNormRopeResult qknorm_rope_fp32_angle(const QkNormRopeParams& params,
                                        const QkNormRopeTokenInput& in,
                                        const QkNormRopeOptions& options) {
  return evaluate(QkNormRopeProfile::kFp32Angle, params, in, options);
}
QkNormRopeResult qknorm_rope_hf(const QkNormRopeParams& params, const QkNormRopeTokenInput& in,
                                const QkNormRopeOptions& options) {
  return evaluate(QkNormRopeProfile::kHf, params, in, options);
}
QkNormRopeResult qknorm_rope_vllm_cache(const QkNormRopeParams& params,
                                        const QkNormRopeTokenInput& in,
                                        const QkNormRopeOptions& options) {
  return evaluate(QkNormRopeProfile::kVllmCache, params, in, options);
}

bool rope_fp32_frequency(const QkNormRopeParams& params, std::int64_t pair, float* out) {
  QkNormRopeTokenInput in;
  in.format = kFp32;
  const float dummy = 0.0f;
  in.row = in.q_weight = in.k_weight = &dummy;
  if (!qknorm_rope_check(params, in).empty() || pair < 0 || 2 * pair >= params.rotary_dim) {
    return false;
  }
  return fp32_frequency(params, pair, ZivStart::kLowest, out, nullptr);
}

bool rope_fp32_angle(const QkNormRopeParams& params, std::int64_t position, std::int64_t pair,
                     float* out) {
  float freq = 0.0f;
  if (!rope_fp32_frequency(params, pair, &freq)) return false;
  *out = static_cast<float>(position) * freq;
  return true;
}

}  // namespace kc::ref
