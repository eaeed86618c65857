// The certified fast norm path (rmsnorm_fast.h) against the exact one (evaluate()): the same
// y_bits and residual_bits on every element, and enclosures that hold evaluate()'s values.
//
// Rows: random rows of every value class the harness generates (DESIGN.md section 6), about
// 2.5 million elements over all profiles and dtypes (the Soak test: ten times more), and
// adversarial rows built to sit on or next to rounding boundaries: exact ties of the final and
// the inner roundings (R = 2^-j exactly, so u R w' is dyadic), values a 2^-48 or a 2^-100
// fraction away from ties on either side, the one-hot gemma row of the issue's item 6,
// eps-dominated rows, huge dynamic range, subnormal inputs, fp32 residual sums with exponent
// gaps, outputs at the overflow threshold; special rows (R NaN, 0 or +inf) and special elements
// (non-finite weights) evaluated in double, and random rows with injected NaNs and infinities.
// Each group prints how many elements fell back (to the 320-bit refinement, and to evaluate()).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kc/ref/certified.h"
#include "kc/ref/rmsnorm.h"
#include "kc/ref/rmsnorm_fast.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Row {
  Format format = kBf16;
  std::vector<float> x, r, w;
  float eps = 1e-6f;
  NormRowInput input() const {
    NormRowInput in;
    in.format = format;
    in.hidden = static_cast<std::int64_t>(x.size());
    in.x = x.data();
    in.residual = r.empty() ? nullptr : r.data();
    in.weight = w.data();
    in.eps = eps;
    return in;
  }
};

// Fallback counts over the rows that took the fast path; special rows counted apart.
struct Tally {
  std::int64_t rows = 0, elements = 0, fallback = 0, exact_fallback = 0;
  std::int64_t exact_rows = 0, exact_row_elements = 0, special_rows = 0, special_row_elements = 0;
  void print(const char* what) const {
    const double e = static_cast<double>(std::max<std::int64_t>(1, elements));
    std::printf(
        "[ fallback ] %s: %lld rows, %lld elements on the fast path: %lld undecided in "
        "double (rate %.3g), %lld of them from evaluate() (rate %.3g); %lld special rows "
        "in double; %lld unsupported rows (%lld elements) on the exact path\n",
        what, static_cast<long long>(rows), static_cast<long long>(elements),
        static_cast<long long>(fallback), static_cast<double>(fallback) / e,
        static_cast<long long>(exact_fallback), static_cast<double>(exact_fallback) / e,
        static_cast<long long>(special_rows), static_cast<long long>(exact_rows),
        static_cast<long long>(exact_row_elements));
  }
};

// |mid - v| <= rad + |v| rel, exactly; special values must match.
::testing::AssertionResult holds(const Enclosure& e, const Exact& v, const Exact& rel) {
  if (mp::isnan(v)) {
    if (std::isnan(e.mid)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "NaN value, mid " << e.mid;
  }
  if (mp::isinf(v)) {
    if (std::isinf(e.mid) && std::signbit(e.mid) == (mp::signbit(v) != 0)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "infinite value, mid " << e.mid;
  }
  if (!std::isfinite(e.mid) || !(e.rad >= 0)) {
    return ::testing::AssertionFailure()
           << "finite value " << to_decimal(v, 20) << ", mid " << e.mid << " rad " << e.rad;
  }
  if (e.rad == 0) {  // a point is the value itself, signed zeros included
    if (Exact(e.mid) == v && std::signbit(e.mid) == (mp::signbit(v) != 0)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "value " << to_decimal(v, 30) << " is not the point " << std::hexfloat << e.mid;
  }
  const Exact d = mp::abs(Exact(e.mid) - v);
  if (d <= Exact(e.rad) + mp::abs(v) * rel) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "value " << to_decimal(v, 30) << " outside mid "
                                       << to_decimal(Exact(e.mid), 30) << " rad " << e.rad;
}

// NormRowExact (rmsnorm.h) against evaluate(): the same Exact values, bit for bit, for every
// element of short rows and a spread of elements of long ones; compare_y() agrees with the
// 320-bit values wherever they are certain, and finds exact ties (tie rows below) exactly.
struct ExactTally {
  std::int64_t rows = 0, whole_rows = 0, elements = 0, ties = 0;
  void print(const char* what) const {
    std::printf(
        "[ exact    ] %s: NormRowExact on %lld rows (%lld evaluated whole), %lld elements, "
        "%lld exact equalities found by compare_y\n",
        what, static_cast<long long>(rows), static_cast<long long>(whole_rows),
        static_cast<long long>(elements), static_cast<long long>(ties));
  }
};
ExactTally g_exact_tally;

void expect_exact_elements(NormProfile p, const Row& row, const NormRowResult& want,
                           const std::string& where) {
  NormRowExact ex(p, row.input());
  ++g_exact_tally.rows;
  g_exact_tally.whole_rows += ex.evaluated_whole_row();
  // Exact's == is false for NaN: compare NaN-ness, then values.
  auto same = [](const Exact& a, const Exact& b) {
    if (mp::isnan(a) || mp::isnan(b)) return mp::isnan(a) && mp::isnan(b);
    return a == b && mp::signbit(a) == mp::signbit(b);
  };
  ASSERT_TRUE(same(ex.inv_rms(), want.inv_rms)) << where << " R";
  ASSERT_TRUE(same(ex.mean_sq_plus_eps(), want.mean_sq_plus_eps)) << where << " q";
  ASSERT_TRUE(same(ex.approx_rel_error(), want.approx_rel_error)) << where << " rel";
  const std::size_t n = want.y_bits.size();
  const std::size_t step = n <= 64 ? 1 : n / 16;
  const Format& f = row.format;
  for (std::size_t i = 0; i < n; i += step) {
    const auto k = static_cast<std::int64_t>(i);
    const NormRowExact::Element e = ex.element(k);
    ++g_exact_tally.elements;
    ASSERT_TRUE(same(e.y_exact, want.y_exact[i])) << where << " y_exact i=" << i;
    ASSERT_TRUE(same(e.scaled_times_r, want.scaled_times_r[i])) << where << " u R i=" << i;
    ASSERT_EQ(e.y_bits, want.y_bits[i]) << where << " bits i=" << i;
    if (!want.residual_exact.empty()) {
      ASSERT_TRUE(same(ex.residual_exact(k), want.residual_exact[i])) << where << " s i=" << i;
    }
    const Exact& v = want.y_exact[i];
    if (!mp::isfinite(v) || is_nan(f, want.y_bits[i]) || is_inf(f, want.y_bits[i])) continue;
    // The rounded value and the midpoints either side: where the 320-bit value is farther from
    // them than its error, compare_y() must give its side. A 0 (the exact value is d itself: a
    // constructed tie, or x R = 1 exactly for a constant row with eps = 0, where the 320-bit
    // value misses d by 2^-320) can only come where the 320-bit value is within its error of d.
    const Exact rad = mp::abs(v) * want.approx_rel_error * 2;
    const Exact y = decode(f, want.y_bits[i]);
    for (const Exact& d : {y, midpoint_above(f, want.y_bits[i] & ~f.sign_mask()),
                           -midpoint_above(f, want.y_bits[i] & ~f.sign_mask())}) {
      const int c = ex.compare_y(k, d);
      if (mp::abs(v - d) > rad) {
        ASSERT_EQ(c, v > d ? 1 : -1) << where << " compare_y i=" << i << " d " << to_decimal(d);
      } else if (c == 0) {
        ++g_exact_tally.ties;
      }
    }
  }
}

// The agreement check of every test: bits everywhere, enclosures around the exact values.
// `out` is reused across calls on purpose (evaluate_fast's storage reuse must not leak state).
void expect_agree(NormProfile p, const Row& row, Tally* tally, FastNormRowResult* out) {
  const NormRowInput in = row.input();
  const NormRowResult want = evaluate(p, in);
  evaluate_fast(p, in, out);
  const FastNormRowResult& got = *out;
  const std::string where = std::string(profile_name(p)) + " " + row.format.name + " hidden " +
                            std::to_string(row.x.size()) + " path " + path_name(got.path);
  ASSERT_EQ(got.y_bits.size(), want.y_bits.size()) << where;
  ASSERT_EQ(got.residual_bits.size(), want.residual_bits.size()) << where;
  for (std::size_t i = 0; i < want.y_bits.size(); ++i) {
    ASSERT_EQ(got.y_bits[i], want.y_bits[i])
        << where << " i=" << i << " fast " << describe_bits(row.format, got.y_bits[i]) << " exact "
        << describe_bits(row.format, want.y_bits[i]) << " x " << row.x[i] << " w " << row.w[i]
        << " value " << to_decimal(want.y_exact[i], 30);
  }
  for (std::size_t i = 0; i < want.residual_bits.size(); ++i) {
    ASSERT_EQ(got.residual_bits[i], want.residual_bits[i]) << where << " residual i=" << i;
  }
  const bool cast = profile_structure(p).cast_before_weight;
  const Exact rel = want.approx_rel_error;
  ASSERT_EQ(got.y.size(), want.y_exact.size()) << where;
  ASSERT_EQ(got.scaled_times_r.size(), want.scaled_times_r.size()) << where;
  for (std::size_t i = 0; i < want.y_exact.size(); ++i) {
    ASSERT_TRUE(holds(got.y[i], want.y_exact[i], cast ? Exact(0) : rel)) << where << " y i=" << i;
    if (cast && got.path != NormRowPath::kExactRow) {
      ASSERT_EQ(got.y[i].rad, 0.0) << where;
    }
    ASSERT_TRUE(holds(got.scaled_times_r[i], want.scaled_times_r[i], rel))
        << where << " u R i=" << i;
  }
  ASSERT_EQ(got.residual.size(), want.residual_exact.size()) << where;
  for (std::size_t i = 0; i < want.residual_exact.size(); ++i) {
    ASSERT_TRUE(holds(got.residual[i], want.residual_exact[i], Exact(0))) << where << " s i=" << i;
  }
  ASSERT_TRUE(holds(got.mean_sq_plus_eps, want.mean_sq_plus_eps, rel)) << where << " q";
  ASSERT_TRUE(holds(got.inv_rms, want.inv_rms, rel)) << where << " R";
  ASSERT_EQ(got.exact.has_value(),
            got.path == NormRowPath::kExactElements || got.path == NormRowPath::kExactRow)
      << where;
  expect_exact_elements(p, row, want, where);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_LE(got.exact_fallback, got.fallback) << where;
  ++tally->rows;
  if (got.path == NormRowPath::kSpecialRow) {
    ++tally->special_rows;
    tally->special_row_elements += static_cast<std::int64_t>(row.x.size());
    for (const Enclosure& e : got.y) ASSERT_EQ(e.rad, 0.0) << where;
    return;
  }
  if (got.path == NormRowPath::kExactRow) {
    ++tally->exact_rows;
    tally->exact_row_elements += static_cast<std::int64_t>(row.x.size());
    return;
  }
  tally->elements += static_cast<std::int64_t>(row.x.size());
  tally->fallback += got.fallback;
  tally->exact_fallback += got.exact_fallback;
}

void expect_agree_all(const Row& row, Tally* tally, FastNormRowResult* out) {
  for (NormProfile p : kAllNormProfiles) {
    expect_agree(p, row, tally, out);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// --- Random rows of the harness's value classes.

enum class Values {
  kNormal,
  kTiny,
  kHuge,
  kSubnormal,
  kZeros,
  kConstant,
  kOneHot,
  kAlternating,
  kEpsDominated,
  kWideRange,
};
constexpr Values kAllValues[] = {Values::kNormal,    Values::kTiny,        Values::kHuge,
                                 Values::kSubnormal, Values::kZeros,       Values::kConstant,
                                 Values::kOneHot,    Values::kAlternating, Values::kEpsDominated,
                                 Values::kWideRange};

class RowGen {
 public:
  explicit RowGen(std::uint64_t seed) : rng_(seed) {}

  float quantise(const Format& f, double v) {
    return static_cast<float>(decode_double(f, round_double(f, v)));
  }
  double normal() { return normal_(rng_); }
  double uniform() { return uniform_(rng_); }
  std::uint64_t next() { return rng_(); }
  std::mt19937_64& rng() { return rng_; }

  // One value of class c in format f (finite: fp16 huge stays below 2^15).
  float value(const Format& f, Values c, float constant) {
    const bool fp16 = f == kFp16;
    switch (c) {
      case Values::kNormal:
        return quantise(f, normal());
      case Values::kTiny:
        return quantise(f, normal() * (fp16 ? 0x1p-12 : 0x1p-60));
      case Values::kHuge:
        return quantise(f, normal() * (fp16 ? 0x1p13 : 0x1p60));
      case Values::kSubnormal: {
        const double quantum = std::ldexp(1.0, f.emin() - f.fraction_bits());
        return quantise(
            f, std::floor(uniform() * (1 << (f.precision - 1))) * quantum * (next() & 1 ? 1 : -1));
      }
      case Values::kZeros:
        return next() & 1 ? 0.0f : -0.0f;
      case Values::kConstant:
        return constant;
      case Values::kOneHot:
        return 0.0f;  // the hot element is set by the caller
      case Values::kAlternating:
        return next() & 1 ? constant : -constant;
      case Values::kEpsDominated:
        return quantise(f, normal() * 0x1p-20);
      case Values::kWideRange: {
        const int lo = fp16 ? -24 : f == kBf16 ? -130 : -140;
        const int hi = fp16 ? 14 : 100;
        const int e = lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
        return quantise(f, std::ldexp(1 + uniform(), e) * (next() & 1 ? 1 : -1));
      }
    }
    return 0.0f;
  }

  Row row(const Format& f, std::int64_t n, Values c, Values rc) {
    Row row;
    row.format = f;
    const float eps_choices[] = {1e-6f, 1e-5f, 0x1p-7f, 0.0f};
    row.eps = eps_choices[next() % 4];
    const float constant = quantise(f, normal() * 4);
    const float rconstant = quantise(f, normal());
    row.x.resize(static_cast<std::size_t>(n));
    row.r.resize(static_cast<std::size_t>(n));
    row.w.resize(static_cast<std::size_t>(n));
    const int wclass = static_cast<int>(next() % 4);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::size_t k = static_cast<std::size_t>(i);
      row.x[k] = value(f, c, constant);
      row.r[k] = value(f, rc, rconstant);
      switch (wclass) {
        case 0:
          row.w[k] = 1.0f;
          break;
        case 1:
          row.w[k] = quantise(f, 1 + normal() / 8);
          break;
        case 2:  // gemma-style: near 0, so 1 + w near 1; and near -1 (1 + w near 0)
          row.w[k] = quantise(f, (next() & 1 ? -1 : 0) + normal() / 64);
          break;
        default:
          row.w[k] = quantise(f, normal() * 3);
          break;
      }
    }
    if (c == Values::kOneHot) row.x[next() % static_cast<std::uint64_t>(n)] = constant;
    return row;
  }

 private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

// Random rows until `elements` elements per (profile, dtype) were compared.
void random_sweep(std::uint64_t seed, std::int64_t elements_per_format, const char* what) {
  RowGen gen(seed);
  Tally tally;
  FastNormRowResult out;
  const std::int64_t sizes[] = {1, 2, 3, 5, 8, 31, 64, 129, 768, 1000, 2048, 4096};
  for (const Format& f : {kFp32, kFp16, kBf16}) {
    std::int64_t done = 0;
    int k = 0;
    while (done < elements_per_format) {
      const std::int64_t n = sizes[gen.next() % (sizeof sizes / sizeof sizes[0])];
      // Mostly normal rows (the common case), every class in turn in between.
      const Values c = k % 3 == 0 ? kAllValues[(k / 3) % 10] : Values::kNormal;
      const Values rc = k % 5 == 0 ? kAllValues[gen.next() % 10] : Values::kNormal;
      ++k;
      const Row row = gen.row(f, n, c, rc);
      expect_agree_all(row, &tally, &out);
      if (::testing::Test::HasFatalFailure()) return;
      done += n;
    }
  }
  tally.print(what);
  g_exact_tally.print(what);
  EXPECT_GT(tally.elements + tally.exact_row_elements + tally.special_row_elements,
            8 * 3 * elements_per_format - 1);
}

TEST(RmsNormFastTest, RandomRowsAgreeBitForBit) { random_sweep(2025, 100000, "random rows"); }

TEST(RmsNormFastTest, RandomRowsAgreeBitForBitSoak) {
  random_sweep(7, 1000000, "random rows (soak)");
}

// The rate at which random fp32 rows leave elements undecided in double: about 2^-26 by the
// derivation (rmsnorm_fast.h). 64 million elements (16 thousand 4096-rows of uniform
// significands and exponents within 2^-4 .. 2^4) through evaluate_fast() alone; every row
// that fell back is compared with evaluate().
TEST(RmsNormFastTest, Fp32FallbackRateIsMeasured) {
  std::mt19937_64 rng(17);
  Row row;
  row.format = kFp32;
  row.eps = 1e-6f;
  row.x.resize(4096);
  row.r.assign(4096, 0.0f);
  row.w.resize(4096);
  auto random_float = [&rng](int spread) {
    const std::uint64_t b = rng();
    const int e = static_cast<int>(b % static_cast<std::uint64_t>(2 * spread + 1)) - spread;
    const std::uint32_t bits = (static_cast<std::uint32_t>(127 + e) << 23) |
                               static_cast<std::uint32_t>((b >> 8) & 0x7fffffu) |
                               static_cast<std::uint32_t>(b >> 63) << 31;
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  };
  Tally tally;
  FastNormRowResult out;
  FastNormRowResult checked;
  for (int k = 0; k < 16000; ++k) {
    for (std::size_t i = 0; i < row.x.size(); ++i) {
      row.x[i] = random_float(4);
      row.w[i] = random_float(1);
    }
    const NormProfile p = k % 2 ? NormProfile::kRmsNormGemma : NormProfile::kRmsNormFp32;
    evaluate_fast(p, row.input(), &out);
    ++tally.rows;
    tally.elements += 4096;
    tally.fallback += out.fallback;
    tally.exact_fallback += out.exact_fallback;
    if (out.fallback > 0) {
      Tally unused;
      expect_agree(p, row, &unused, &checked);
      if (HasFatalFailure()) return;
    }
  }
  tally.print("fp32 random rows, fast path alone");
  // 2^26 elements at about 2^-26 (gemma's wider radius: 2^-25.5) leave one or two undecided;
  // 16 would be a radius several times wider than derived.
  EXPECT_LT(tally.fallback, 16);
}

// --- Exact ties and near-ties.
//
// x_i = m_i 2^e with small integers m_i, n a power of two: mean(x^2) = 2^(2e) M / n with
// M = sum m_i^2, and eps = 2^(2e) (4^j - M / n) (an integer over n, < 2^24: a float) makes
// q = 4^j 2^(2e), R = 2^-(j+e) exactly. Then u R = m_i 2^-j and u R w' = m_i w' 2^-j are
// dyadic with few bits, so their roundings hit exact ties often (m w' with 3 + p bits rounded
// to p bits ties when the low bits are 10..0). Fused rows split s = m 2^e into x = (m - k) 2^e
// and r = k 2^e, so s = rn(s) and every profile sees the same R.
struct TieRow {
  Row row;    // x = m 2^e, r = 0
  Row fused;  // x = (m - k) 2^e, r = k 2^e: s = m 2^e
  int j = 0;
  const Row& for_profile(NormProfile p) const { return is_fused(p) ? fused : row; }
};

TieRow tie_row(RowGen& gen, const Format& f, int log2n, int e) {
  const std::int64_t n = std::int64_t{1} << log2n;
  TieRow t;
  t.row.format = f;
  std::int64_t m_sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const int m = static_cast<int>(gen.next() % 15) - 7;
    const int k = static_cast<int>(gen.next() % 7) - 3;
    m_sum += m * m;
    t.row.x.push_back(static_cast<float>(std::ldexp(m, e)));
    t.row.r.push_back(0.0f);
    t.fused.x.push_back(static_cast<float>(std::ldexp(m - k, e)));
    t.fused.r.push_back(static_cast<float>(std::ldexp(k, e)));
    t.row.w.push_back(gen.quantise(f, gen.normal()));
  }
  while ((std::int64_t{1} << (2 * t.j)) * n < m_sum) ++t.j;
  const std::int64_t num = (std::int64_t{1} << (2 * t.j)) * n - m_sum;  // eps n / 2^(2e)
  t.row.eps = static_cast<float>(std::ldexp(static_cast<double>(num), 2 * e - log2n));
  t.fused.format = f;
  t.fused.w = t.row.w;
  t.fused.eps = t.row.eps;
  return t;
}

TEST(RmsNormFastTest, ExactTiesGoToTheExactPath) {
  RowGen gen(11);
  Tally tally;
  FastNormRowResult out;
  std::int64_t tie_rows = 0;
  for (const Format& f : {kFp32, kFp16, kBf16}) {
    for (int trial = 0; trial < 12; ++trial) {
      const int e = f == kFp16 ? -3 + trial % 5 : -20 + 7 * (trial % 6);
      TieRow t = tie_row(gen, f, 3 + trial % 6, e);
      // Gemma weights: 1 + w with few bits too.
      if (trial % 2) {
        for (float& w : t.row.w) w = gen.quantise(f, std::ldexp(gen.normal(), -3));
        t.fused.w = t.row.w;
      }
      for (NormProfile p : kAllNormProfiles) {
        expect_agree(p, t.for_profile(p), &tally, &out);
        if (HasFatalFailure()) return;
        // Every tie row must reach the exact comparison somewhere (the final rounding of the
        // single-rounding profiles; the cast ones tie in w rn(u R), an exact double).
        ASSERT_EQ(out.inv_rms.mid, std::ldexp(1.0, -(t.j + e))) << "R is not 2^-(j+e)";
        if (out.exact_fallback > 0) ++tie_rows;
      }
    }
  }
  tally.print("exact ties");
  g_exact_tally.print("after the tie rows");
  EXPECT_GT(tally.exact_fallback, 100);
  EXPECT_GT(tie_rows, 50);
}

// Near-ties on both sides.
// Below: one more element 2^(e-d) raises q by 2^(2e-2d) / n, so R falls short of 2^-(j+e) by
// about 2^(-2d-1) / (n 4^j) relative, and every tie of a tie row is missed from below by that
// much (d = 24: about 2^-55..2^-60, beyond the double path, within the 320-bit refinement;
// d = 50: about 2^-105..2^-110, which only evaluate() settles).
// Above: n = 4, x = (2^a (1 - 2^-24), 2^a, -2^a, 2^a) and eps = 2^(2a-23) (1 - 2^-24) / 4 give
// q = 4^a (1 - 2^-50), so R = 2^-a (1 + 2^-51 + ...), just above 2^-a; with gemma weights
// w = (2k+1) 2^-p, 1 + w is a midpoint of the format and y = +-(1 + 2^-51) (1 + w) misses it
// from above. (x_0 is an fp32 value even in fp16 / bf16 rows: evaluate() and the fast path
// take any float as an exact input.)
TEST(RmsNormFastTest, NearTiesOnBothSides) {
  RowGen gen(12);
  Tally tally;
  FastNormRowResult out;
  for (const Format& f : {kFp32, kBf16, kFp16}) {
    for (int trial = 0; trial < 8; ++trial) {
      const int e = f == kFp16 ? 0 : -10 + 5 * trial;
      TieRow t = tie_row(gen, f, 4 + trial % 4, e);
      const int d = trial % 2 ? 24 : 50;
      if (f == kFp16 && d == 50) continue;  // 2^-50 is below fp16's range
      for (Row* row : {&t.row, &t.fused}) {
        row->x.back() = static_cast<float>(std::ldexp(1.0, e - d));
        row->r.back() = 0;
      }
      for (NormProfile p : kAllNormProfiles) {
        expect_agree(p, t.for_profile(p), &tally, &out);
        if (HasFatalFailure()) return;
      }
    }
    for (int a : {0, 3, 10, 40}) {
      if (f == kFp16 && a > 10) continue;
      Row row;
      row.format = f;
      const float p2a = std::ldexp(1.0f, a);
      row.x = {static_cast<float>(std::ldexp(1 - 0x1p-24, a)), p2a, -p2a, p2a};
      row.r = {0, 0, 0, 0};
      row.eps = static_cast<float>(std::ldexp(1 - 0x1p-24, 2 * a - 23) / 4);
      for (int k = 0; k < 4; ++k) {
        const int odd = 2 * static_cast<int>(gen.next() % 60) + 1;
        row.w.push_back(static_cast<float>(std::ldexp(odd, -f.precision)));
      }
      expect_agree_all(row, &tally, &out);
      if (HasFatalFailure()) return;
      evaluate_fast(NormProfile::kRmsNormGemma, row.input(), &out);
      EXPECT_GE(out.fallback, 3) << f.name << " a=" << a;  // the three 2^a elements
    }
  }
  tally.print("near ties");
  EXPECT_GT(tally.fallback, tally.exact_fallback);  // tier 2 decided some
  EXPECT_GT(tally.exact_fallback, 0);               // and some needed evaluate()
}

// The issue's item 6: rmsnorm.gemma, bf16, hidden 4096, one-hot x = 2^30, w = 3 * 2^-8,
// eps = 1e-6. q = 2^48 + eps, R = 2^-24 (1 + eps 2^-48)^(-1/2), and the exact output
// 2^6 (1 + 3 * 2^-8) R = 64.75 (1 - eps 2^-49 + ...) = 64.7499999999999999998850... lies
// about 1.15e-19 below the bf16 midpoint 64.75 between 0x4281 (64.5) and 0x4282 (65):
// its correct rounding is 0x4281. 0x4282 is 0.5 + 4.6e-19 ulp away, which ulp_error()
// rounds to exactly 0.5; the exact comparison must reject it against a 0.5 bound.
TEST(RmsNormFastTest, OneHotGemmaJustBelowATie) {
  Row row;
  row.format = kBf16;
  row.x.assign(4096, 0.0f);
  row.x[0] = 0x1p30f;
  row.w.assign(4096, 3 * 0x1p-8f);
  row.eps = 1e-6f;
  Tally tally;
  FastNormRowResult out;
  expect_agree(NormProfile::kRmsNormGemma, row, &tally, &out);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(out.y_bits[0], 0x4281u);
  EXPECT_EQ(out.fallback, 1);  // undecided in double, decided by the 320-bit refinement
  EXPECT_EQ(out.exact_fallback, 0);
  EXPECT_EQ(out.path, NormRowPath::kFast);

  const NormRowResult ex = exact_row(NormProfile::kRmsNormGemma, row.input());
  const Exact& v = ex.y_exact[0];
  EXPECT_LT(v, Exact(64.75));
  EXPECT_GT(v, Exact(64.75) - Exact(1e-18));
  EXPECT_EQ(ulp_error(kBf16, 0x4282u, v), 0.5);  // the double comparison would pass it
  EXPECT_FALSE(ulp_error_within(kBf16, 0x4282u, v, 0.5));
  EXPECT_TRUE(ulp_error_within(kBf16, 0x4281u, v, 0.5));
  // With v's own approximation error: still decided, the margin is 2^-62 ulp >> 2^-290.
  const Exact rad = mp::abs(v) * ex.approx_rel_error;
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4282u, v, rad, 0.5), UlpCompare::kBeyond);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, v, rad, 0.5), UlpCompare::kWithin);
  // The fast enclosure (radius about 2^-44) cannot settle it: undecided, never a guess.
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4282u, out.y[0], 0.5), UlpCompare::kUndecided);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, out.y[0], 0.5), UlpCompare::kUndecided);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, out.y[0], 0.75), UlpCompare::kWithin);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4283u, out.y[0], 1.25), UlpCompare::kBeyond);
}

// Rows whose squares span the exponent range, subnormal inputs, eps-dominated rows.
TEST(RmsNormFastTest, RangeExtremes) {
  RowGen gen(13);
  Tally tally;
  FastNormRowResult out;
  for (const Format& f : {kFp32, kFp16, kBf16}) {
    const double quantum = std::ldexp(1.0, f.emin() - f.fraction_bits());
    const double max = decode_double(f, f.max_finite());
    for (float eps : {0.0f, 1e-6f, 0x1p-7f, 0x1p-149f}) {
      // Subnormal inputs only.
      Row sub;
      sub.format = f;
      sub.eps = eps;
      for (int i = 0; i < 64; ++i) {
        sub.x.push_back(static_cast<float>(quantum * static_cast<double>(gen.next() % 1000) *
                                           (gen.next() & 1 ? 1 : -1)));
        sub.r.push_back(static_cast<float>(quantum * static_cast<double>(gen.next() % 7)));
        sub.w.push_back(gen.quantise(f, 1 + gen.normal()));
      }
      expect_agree_all(sub, &tally, &out);
      if (HasFatalFailure()) return;
      // Huge dynamic range: the largest finite value next to the smallest subnormal.
      Row wide;
      wide.format = f;
      wide.eps = eps;
      for (int i = 0; i < 32; ++i) {
        const double v = i % 3 == 0 ? max : i % 3 == 1 ? quantum : gen.quantise(f, gen.normal());
        wide.x.push_back(static_cast<float>(i % 2 ? v : -v));
        wide.r.push_back(static_cast<float>(i % 3 == 1 ? -quantum : quantum));
        wide.w.push_back(gen.quantise(f, gen.normal()));
      }
      expect_agree_all(wide, &tally, &out);
      if (HasFatalFailure()) return;
      // eps-dominated: squares far below eps.
      Row tiny = gen.row(f, 48, Values::kEpsDominated, Values::kTiny);
      tiny.eps = eps == 0 ? 0x1p-7f : eps;
      expect_agree_all(tiny, &tally, &out);
      if (HasFatalFailure()) return;
    }
  }
  tally.print("range extremes");
}

// NormRowExact's condition: a row whose total sum of squares fits in 320 bits while a partial
// sum does not. x = (2048, 2^-149, 2^-149): S = 2^22 + 2^-297 spans 320 bits, but evaluate()'s
// first partial sum 2^22 + 2^-298 needs 321 and rounds (a tie, to even: 2^22), and so does the
// second, so its sum is 2^22, not S. NormRowExact must see that and evaluate the row whole.
TEST(RmsNormFastTest, PartialSumsBeyond320Bits) {
  Tally tally;
  FastNormRowResult out;
  for (const Format& f : {kFp32, kBf16}) {
    Row row;
    row.format = f;
    row.eps = 1e-6f;
    row.x = {2048.0f, 0x1p-149f, 0x1p-149f, 0.0f};
    row.r = {0, 0, 0, 0};
    row.w = {1.0f, 0.75f, 1.25f, 1.0f};
    for (NormProfile p : {NormProfile::kRmsNormFp32, NormProfile::kRmsNormHf}) {
      expect_agree(p, row, &tally, &out);
      if (HasFatalFailure()) return;
      NormRowExact ex(p, row.input());
      EXPECT_TRUE(ex.evaluated_whole_row()) << f.name;
    }
    row.x = {2048.0f, 0x1p-149f, 0.0f, 0.0f};  // one tiny square: S itself needs 321 bits
    NormRowExact ex(NormProfile::kRmsNormFp32, row.input());
    EXPECT_TRUE(ex.evaluated_whole_row()) << f.name;
    row.x = {1024.0f, 0x1p-149f, 0x1p-149f, 0.0f};  // 2^20 + 2^-297: everything fits
    NormRowExact fits(NormProfile::kRmsNormFp32, row.input());
    EXPECT_FALSE(fits.evaluated_whole_row()) << f.name;
    expect_agree(NormProfile::kRmsNormFp32, row, &tally, &out);
  }
}

// fp32 residual sums that are not doubles: x and r with exponents 30 to 250 apart (s is a
// genuine double-double), and near-cancelling pairs x = -r + a few ulps.
TEST(RmsNormFastTest, ResidualSumsWithExponentGaps) {
  RowGen gen(14);
  Tally tally;
  FastNormRowResult out;
  for (const Format& f : {kFp32, kBf16}) {
    for (int gap : {30, 53, 54, 80, 120, 200, 250}) {
      Row row;
      row.format = f;
      row.eps = 1e-6f;
      for (int i = 0; i < 40; ++i) {
        const int top = 100 - static_cast<int>(gen.next() % 60);
        const float big = gen.quantise(f, std::ldexp(1 + gen.uniform(), top));
        const float small = gen.quantise(f, std::ldexp(1 + gen.uniform(), top - gap));
        const bool flip = gen.next() & 1;
        row.x.push_back(flip ? small : big);
        row.r.push_back((flip ? big : small) * (gen.next() & 1 ? 1.0f : -1.0f));
        row.w.push_back(gen.quantise(f, 1 + gen.normal() / 8));
      }
      expect_agree_all(row, &tally, &out);
      if (HasFatalFailure()) return;
    }
    Row cancel;
    cancel.format = f;
    for (int i = 0; i < 40; ++i) {
      const float a = gen.quantise(f, gen.normal() * 1000);
      const float b = std::nextafter(std::nextafter(a, kInf), kInf);
      cancel.x.push_back(a);
      cancel.r.push_back(-gen.quantise(f, b));
      cancel.w.push_back(gen.quantise(f, 1 + gen.normal() / 8));
    }
    expect_agree_all(cancel, &tally, &out);
    if (HasFatalFailure()) return;
  }
  tally.print("exponent gaps");
}

// Outputs at and around the overflow threshold T = 2^(emax+1) (1 - 2^-(p+1)): x = (2, 0, 0, 0)
// gives q = 1 + eps, and w = 2^emax puts y_0 = 2^(emax+1) / sqrt(1 + eps) within a few
// 2^-(p+8) relative steps of T on either side when eps = 2^-p (1 + k 2^-8).
TEST(RmsNormFastTest, OutputsAroundOverflow) {
  Tally tally;
  FastNormRowResult out;
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    int overflowed = 0;
    int finite = 0;
    for (int k = -6; k <= 6; ++k) {
      Row row;
      row.format = f;
      row.eps = static_cast<float>(std::ldexp(1 + k * 0x1p-8, -f.precision));
      row.x = {2, 0, 0, 0};
      row.r = {0, 0, 0, 0};
      const float top = std::ldexp(1.0f, f.emax());
      row.w = {top, top, -top, top};
      expect_agree_all(row, &tally, &out);
      if (HasFatalFailure()) return;
      evaluate_fast(NormProfile::kRmsNormFp32, row.input(), &out);
      EXPECT_EQ(out.path, NormRowPath::kFast);
      if (out.y_bits[0] == f.infinity(false)) {
        ++overflowed;
      } else if (out.y_bits[0] == f.max_finite()) {
        ++finite;
      }
    }
    EXPECT_GT(overflowed, 0) << f.name;
    EXPECT_GT(finite, 0) << f.name;
  }
  tally.print("overflow");
}

// Special rows (R NaN, 0 or +inf) in double, special elements (non-finite weights, an
// overflowed rn(s) that legacy_mixed scales) as points on the fast path, unsupported rows (eps
// NaN or negative) on the exact path: the same bits and values as evaluate().
TEST(RmsNormFastTest, SpecialRowsAndElements) {
  Tally tally;
  FastNormRowResult out;
  auto row_of = [](const Format& f, std::vector<float> x, std::vector<float> r,
                   std::vector<float> w, float eps) {
    Row row;
    row.format = f;
    row.x = std::move(x);
    row.r = std::move(r);
    row.w = std::move(w);
    row.eps = eps;
    return row;
  };
  const std::vector<Row> rows = {
      row_of(kFp16, {1, kNaN, 2}, {0, 0, 0}, {1, 1, 1}, 1e-6f),
      row_of(kBf16, {1, -kInf, -2}, {1, 1, 1}, {2, 1, 3}, 1e-6f),
      row_of(kFp32, {0, -0.0f}, {0, 0}, {1, 1}, 0.0f),
      row_of(kFp16, {60000, 1}, {10000, 1}, {1, 1}, 1e-6f),  // rn(s) overflows (fp16)
      row_of(kBf16, {1, 2}, {kNaN, 0}, {1, 1}, 1e-6f),
      row_of(kBf16, {1, 2}, {0, 0}, {kInf, 1}, 1e-6f),
      row_of(kBf16, {1, 2}, {0, 0}, {1, kNaN}, 1e-6f),
      row_of(kBf16, {1, 2}, {0, 0}, {1, 1}, kNaN),
      row_of(kBf16, {1, 2}, {0, 0}, {1, 1}, -1.0f),
  };
  for (const Row& row : rows) {
    for (NormProfile p : kAllNormProfiles) {
      expect_agree(p, row, &tally, &out);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(tally.special_rows, 0);
  EXPECT_GT(tally.exact_rows, 0);  // the unsupported eps
  // The fp16 residual overflow: profiles that never touch rn(s) keep the fast path; those that
  // normalise it have R = 0; legacy_mixed scales it: that element alone is special.
  evaluate_fast(NormProfile::kFusedFp32Sum, rows[3].input(), &out);
  EXPECT_EQ(out.path, NormRowPath::kFast);
  EXPECT_EQ(out.residual_bits[0], 0x7c00u);
  evaluate_fast(NormProfile::kFusedHf, rows[3].input(), &out);
  EXPECT_EQ(out.path, NormRowPath::kSpecialRow);
  evaluate_fast(NormProfile::kFusedLegacyMixed, rows[3].input(), &out);
  EXPECT_EQ(out.path, NormRowPath::kFast);
  EXPECT_TRUE(std::isinf(out.y[0].mid));
  // Non-finite weights: special elements of a fast row.
  evaluate_fast(NormProfile::kRmsNormFp32, rows[5].input(), &out);
  EXPECT_EQ(out.path, NormRowPath::kFast);
  EXPECT_TRUE(std::isinf(out.y[0].mid));
  evaluate_fast(NormProfile::kRmsNormHf, rows[6].input(), &out);
  EXPECT_EQ(out.path, NormRowPath::kFast);
  EXPECT_TRUE(std::isnan(out.y[1].mid));
  evaluate_fast(NormProfile::kRmsNormFp32, rows[7].input(), &out);  // eps NaN: unsupported
  EXPECT_EQ(out.path, NormRowPath::kExactRow);
  // No elements: nothing to evaluate, no exception, no abort.
  Row empty;
  empty.format = kBf16;
  evaluate_fast(NormProfile::kRmsNormFp32, empty.input(), &out);
  EXPECT_TRUE(out.y_bits.empty());
  EXPECT_EQ(out.path, NormRowPath::kExactRow);
  tally.print("special rows");
}

// Random rows with NaNs and infinities injected into x, r or w (one to three of them, or the
// fp16 residual sums pushed past 65504), every profile and dtype: special rows and special
// elements in double give evaluate()'s bits and values, signed zeros included.
TEST(RmsNormFastTest, RandomSpecialValues) {
  RowGen gen(15);
  Tally tally;
  FastNormRowResult out;
  const float specials[] = {kNaN, kInf, -kInf};
  for (int k = 0; k < 600; ++k) {
    const Format& f = k % 3 == 0 ? kFp32 : k % 3 == 1 ? kFp16 : kBf16;
    const std::int64_t n = 1 + static_cast<std::int64_t>(gen.next() % 70);
    Row row = gen.row(f, n, kAllValues[gen.next() % 10], kAllValues[gen.next() % 10]);
    const int injections = 1 + static_cast<int>(gen.next() % 3);
    for (int j = 0; j < injections; ++j) {
      const std::size_t at = gen.next() % static_cast<std::uint64_t>(n);
      const float v = specials[gen.next() % 3];
      switch (gen.next() % 4) {
        case 0:
          row.x[at] = v;
          break;
        case 1:
          row.r[at] = v;
          break;
        case 2:
          row.w[at] = v;
          break;
        default:
          if (f == kFp16) {
            row.x[at] = 60000.0f;
            row.r[at] = 10000.0f;
          }
          break;
      }
    }
    if (k % 7 == 0) std::fill(row.x.begin(), row.x.end(), k % 2 ? 0.0f : -0.0f);
    if (k % 7 == 0) std::fill(row.r.begin(), row.r.end(), 0.0f);
    if (k % 14 == 0) row.eps = 0;
    expect_agree_all(row, &tally, &out);
    if (HasFatalFailure()) return;
  }
  tally.print("random special values");
  EXPECT_GT(tally.special_rows, 1000);
  EXPECT_GT(tally.rows - tally.special_rows, 1000);
}

// Signed zeros: zero inputs, zero weights, gemma's 1 + w = +0, sums that cancel to +0.
TEST(RmsNormFastTest, SignedZeros) {
  Tally tally;
  FastNormRowResult out;
  for (const Format& f : {kFp32, kFp16, kBf16}) {
    Row row;
    row.format = f;
    row.eps = 1e-6f;
    row.x = {0.0f, -0.0f, 1.0f, -1.0f, 0.0f, -0.0f, 2.0f, -3.0f};
    row.r = {-0.0f, -0.0f, -1.0f, 1.0f, 0.0f, 0.0f, -2.0f, 3.0f};
    row.w = {1.0f, -1.0f, -0.0f, 0.0f, -1.0f, 1.0f, -1.0f, -1.0f};
    expect_agree_all(row, &tally, &out);
    if (HasFatalFailure()) return;
  }
  tally.print("signed zeros");
}

}  // namespace
}  // namespace kc::ref
