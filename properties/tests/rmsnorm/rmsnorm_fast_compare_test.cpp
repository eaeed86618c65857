// The norm family's comparison on the certified fast path (NormReferencePath::kFast) against the
// same comparison on the exact path (kExact: evaluate() for every row, as before the fast path):
// over generated cases of every host subject of the family (the twins under their derived
// bounds, the calibration mutants and controls) and of flat-bound subjects (a twin held to
// 0.5 ulp or to its own worst case, with and without the flush-to-zero rule and flushed loads;
// a double-precision subject whose outputs tie at midpoints; a subject that stores the other
// neighbour of every correct rounding), in both modes (bounded_error,
// special_values), the verdicts must be identical field by field: pass or fail, message, the
// worst element's evidence (tensor, row, column, exact value to 30 digits, rounded and observed
// bits, admissible set, ULP error, bound) and the statistics (counts, histogram, maximum).
// The cases are the generators' own (sizes, classes, weights, injections, layouts); the quick
// test keeps them below 2^12 elements so the exact path stays cheap, the soak one goes to 2^16
// with ten times the cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/run.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/generators.h"
#include "kc/props/property.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"
#include "rmsnorm/rmsnorm_bound.h"
#include "rmsnorm/rmsnorm_family.h"

namespace kc::props {
namespace {

// kconform's twin of a profile under a flat bound (optionally with the flush-to-zero rule, and
// flushing: reading its inputs and storing its outputs with magnitudes below `flush_below` as
// zeros: 2^-126 is what -ftz arithmetic does, more is a defect the rule must not admit).
class FlatTwin : public Subject {
 public:
  FlatTwin(std::string profile, double ulps, bool ftz_rule, bool flush,
           float flush_below = 0x1p-126f)
      : profile_(std::move(profile)),
        ulps_(ulps),
        ftz_rule_(ftz_rule),
        flush_(flush),
        flush_below_(flush_below) {}
  std::string name() const override { return "test.flat_twin." + profile_; }
  std::string op() const override {
    return profile_.rfind("fused", 0) == 0 ? "fused_add_rmsnorm" : "rmsnorm";
  }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = ulps_;
    if (ftz_rule_) b.rules.push_back(kFlushToZeroRule);
    return b;
  }
  Status check(const Case& c) const override { return base().check(c); }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t s) const override {
    if (!flush_ || c.dtype == DType::kFp16) return base().run(c, p, s);
    // Inputs flushed in copies, outputs flushed in place.
    const bool fused = op() == "fused_add_rmsnorm";
    std::vector<void*> q = p;
    std::vector<std::vector<std::uint8_t>> copies(fused ? 2 : 1);
    for (std::size_t t = 0; t < copies.size(); ++t) {
      copies[t].resize(bytes(c, static_cast<int>(t)));
      std::memcpy(copies[t].data(), p[t], copies[t].size());
      flush(c, copies[t].data(), copies[t].size(), 0x1p-126f);
      q[t] = copies[t].data();
    }
    // In-place outputs are their inputs' memory: the copies, written back afterwards.
    std::vector<int> alias(p.size(), -1);
    for (std::size_t t = copies.size(); t < p.size(); ++t) {
      for (std::size_t in = 0; in < copies.size(); ++in) {
        if (p[t] == p[in]) {
          q[t] = q[in];
          alias[t] = static_cast<int>(in);
        }
      }
    }
    const Status st = base().run(c, q, s);
    for (std::size_t t = copies.size(); t < p.size(); ++t) {
      const int k = static_cast<int>(t);
      if (k == (fused ? 2 : 1)) continue;  // the weight
      const std::size_t n =
          alias[t] >= 0 ? copies[static_cast<std::size_t>(alias[t])].size() : bytes(c, k);
      flush(c, static_cast<std::uint8_t*>(q[t]), n, flush_below_);
      if (q[t] != p[t]) std::memcpy(p[t], q[t], n);
    }
    return st;
  }

 private:
  static std::size_t elem(const Case& c) { return c.dtype == DType::kFp32 ? 4 : 2; }
  static std::size_t bytes(const Case& c, int t) {
    const auto& l = c.tensors[static_cast<std::size_t>(t)];
    const bool weight = t == (c.op == "fused_add_rmsnorm" ? 2 : 1);
    const std::int64_t rows = weight ? 1 : c.num_tokens;
    return static_cast<std::size_t>((rows - 1) * l.row_stride + norm_hidden(c)) * elem(c);
  }
  static void flush(const Case& c, std::uint8_t* data, std::size_t n, float below) {
    const std::size_t e = elem(c);
    for (std::size_t i = 0; i + e <= n; i += e) {
      std::uint32_t b = 0;
      std::memcpy(&b, data + i, e);
      const float v = value_of(c.dtype, b);
      if (v != 0 && std::fabs(v) < below) {
        b &= e == 4 ? 0x80000000u : 0x8000u;
        std::memcpy(data + i, &b, e);
      }
    }
  }

 private:
  const Subject& base() const { return *find_subject("kc.twin." + profile_); }
  std::string profile_;
  double ulps_;
  bool ftz_rule_;
  bool flush_;
  float flush_below_;
};

// rmsnorm.gemma / rmsnorm.fp32 evaluated in double and rounded once: correct except where the
// exact value lies within about 2^-53 of a midpoint, where it stores the tie's even neighbour
// (the item 6); held to 0.5 ulp.
class DoubleNorm : public Subject {
 public:
  explicit DoubleNorm(bool gemma) : gemma_(gemma) {}
  std::string name() const override { return gemma_ ? "test.double.gemma" : "test.double.fp32"; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return gemma_ ? "rmsnorm.gemma" : "rmsnorm.fp32"; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = 0.5;
    return b;
  }
  Status check(const Case& c) const override {
    if (c.tensors[2].in_place) return Status(StatusCode::kUnsupported, "test: out of place only");
    return Status::ok();
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const std::int64_t n = norm_hidden(c);
    const std::size_t elem = c.dtype == DType::kFp32 ? 4 : 2;
    auto at = [&](int t, std::int64_t r, std::int64_t i) {
      return static_cast<std::uint8_t*>(p[static_cast<std::size_t>(t)]) +
             static_cast<std::size_t>(r * c.tensors[static_cast<std::size_t>(t)].row_stride + i) *
                 elem;
    };
    auto load = [&](const std::uint8_t* a) {
      std::uint32_t b = 0;
      std::memcpy(&b, a, elem);
      return static_cast<double>(value_of(c.dtype, b));
    };
    const ref::Format f = format_of(c.dtype);
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      double ss = 0;
      for (std::int64_t i = 0; i < n; ++i) ss += load(at(0, r, i)) * load(at(0, r, i));
      const double rr = 1 / std::sqrt(ss / static_cast<double>(n) + norm_eps(c));
      for (std::int64_t i = 0; i < n; ++i) {
        const double w = load(at(1, 0, i));
        const std::uint32_t b = ref::round_double(f, load(at(0, r, i)) * rr * (gemma_ ? 1 + w : w));
        std::memcpy(at(2, r, i), &b, elem);
      }
    }
    return Status::ok();
  }

 private:
  bool gemma_;
};

// The other neighbour: for every output, the format value next to the correct rounding on the
// side of the exact value (from evaluate() on the case's inputs), so every error is 1 minus the
// correct rounding's: just above 0.5 at near-ties, exactly 0.5 at exact ties. Held to 0.5 ulp,
// its comparisons are the item 6 on every element near a midpoint.
class OtherNeighbour : public Subject {
 public:
  explicit OtherNeighbour(std::string profile) : profile_(std::move(profile)) {}
  std::string name() const override { return "test.other_neighbour." + profile_; }
  std::string op() const override {
    return profile_.rfind("fused", 0) == 0 ? "fused_add_rmsnorm" : "rmsnorm";
  }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = 0.5;
    return b;
  }
  Status check(const Case& c) const override {
    for (const TensorLayout& l : c.tensors) {
      if (l.in_place) return Status(StatusCode::kUnsupported, "test: out of place only");
    }
    return Status::ok();
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const bool fused = op() == "fused_add_rmsnorm";
    const std::int64_t n = norm_hidden(c);
    const std::size_t elem = c.dtype == DType::kFp32 ? 4 : 2;
    const ref::Format f = format_of(c.dtype);
    auto at = [&](int t, std::int64_t r, std::int64_t i) {
      return static_cast<std::uint8_t*>(p[static_cast<std::size_t>(t)]) +
             static_cast<std::size_t>(r * c.tensors[static_cast<std::size_t>(t)].row_stride + i) *
                 elem;
    };
    auto load = [&](int t, std::int64_t r, std::int64_t i) {
      std::uint32_t b = 0;
      std::memcpy(&b, at(t, r, i), elem);
      return value_of(c.dtype, b);
    };
    ref::NormProfile prof;
    ref::profile_from_name(profile_, &prof);
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      std::vector<float> x(static_cast<std::size_t>(n)), res(x.size()), w(x.size());
      for (std::int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        x[k] = load(0, r, i);
        if (fused) res[k] = load(1, r, i);
        w[k] = load(fused ? 2 : 1, 0, i);
      }
      ref::NormRowInput in;
      in.format = f;
      in.hidden = n;
      in.x = x.data();
      in.residual = fused ? res.data() : nullptr;
      in.weight = w.data();
      in.eps = norm_eps(c);
      const ref::NormRowResult want = ref::evaluate(prof, in);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        std::uint32_t b = want.y_bits[k];
        const ref::Exact& v = want.y_exact[k];
        if (boost::multiprecision::isfinite(v) && !ref::is_inf(f, b) && !ref::is_zero(f, b)) {
          const bool up = (v > ref::decode(f, b)) != ref::sign_bit(f, b);  // away from zero
          b = up ? b + 1 : b - 1;
        }
        std::memcpy(at(fused ? 3 : 2, r, i), &b, elem);
        if (fused) {
          const std::uint32_t rb = want.residual_bits[k];
          std::memcpy(at(4, r, i), &rb, elem);
        }
      }
    }
    return Status::ok();
  }

 private:
  std::string profile_;
};

std::string show(const Verdict& v) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "kind %d rows %lld elements %lld exact %lld max %.17g",
                static_cast<int>(v.kind), static_cast<long long>(v.stats.rows),
                static_cast<long long>(v.stats.elements), static_cast<long long>(v.stats.exact),
                v.stats.max_ulp);
  return std::string(buf) + " | " + v.message + " | " + v.worst.tensor + "[" +
         std::to_string(v.worst.row) + "," + std::to_string(v.worst.col) + "] " +
         v.worst.expected_exact + " " + v.worst.expected_rounded + " " + v.worst.observed + " " +
         v.worst.admissible + " err " + std::to_string(v.worst.ulp_error) + " bound " +
         std::to_string(v.worst.bound);
}

::testing::AssertionResult same(const Verdict& a, const Verdict& b) {
  const bool eq =
      a.kind == b.kind && a.message == b.message && a.worst.tensor == b.worst.tensor &&
      a.worst.row == b.worst.row && a.worst.col == b.worst.col &&
      a.worst.expected_exact == b.worst.expected_exact &&
      a.worst.expected_rounded == b.worst.expected_rounded &&
      a.worst.observed == b.worst.observed && a.worst.admissible == b.worst.admissible &&
      a.worst.ulp_error == b.worst.ulp_error && a.worst.bound == b.worst.bound &&
      a.stats.elements == b.stats.elements && a.stats.exact == b.stats.exact &&
      a.stats.special_elements == b.stats.special_elements &&
      a.stats.flushed_elements == b.stats.flushed_elements && a.stats.rows == b.stats.rows &&
      a.stats.out_of_range_rows == b.stats.out_of_range_rows &&
      a.stats.max_ulp == b.stats.max_ulp && a.stats.hist == b.stats.hist;
  if (eq) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\n  fast:  " << show(a) << "\n  exact: " << show(b);
}

struct Totals {
  std::int64_t cases = 0, failed = 0, elements = 0, special = 0, out_of_range = 0, flushed = 0;
};

// `cases` generated cases of subject s, both modes, both paths.
void compare_paths(const Subject& s, int cases, std::int64_t max_elements, std::uint64_t seed,
                   Totals* totals) {
  for (const bool specials : {false, true}) {
    GenOptions go;
    go.max_elements = max_elements;
    go.unsupported = false;
    go.specials = specials;
    go.empty_batches = false;
    const rc::Gen<Case> gen = gen_case(s, go);
    for (int k = 0; k < cases; ++k) {
      const Case c =
          gen(rc::Random(seed * 1000003 + static_cast<std::uint64_t>(k) * 2 + specials), k % 101)
              .value();
      if (!s.check(c).is_ok() || c.num_tokens == 0) continue;
      CaseBuffers b = materialize(c);
      const std::unique_ptr<Expectation> fast = norm_expectation(c, b, NormReferencePath::kFast);
      const std::unique_ptr<Expectation> exact = norm_expectation(c, b, NormReferencePath::kExact);
      ASSERT_EQ(fast->has_special(), exact->has_special()) << describe(c);
      const RunOutcome r = execute(s, c, b);
      ASSERT_TRUE(r.status.is_ok()) << s.name() << " " << describe(c);
      const Expectation::Mode mode =
          specials ? Expectation::Mode::kSpecial : Expectation::Mode::kBounded;
      Verdict vf;
      Verdict ve;
      fast->compare(s, b, mode, &vf);
      exact->compare(s, b, mode, &ve);
      ASSERT_TRUE(same(vf, ve)) << s.name() << " " << describe(c);
      ++totals->cases;
      totals->failed += vf.failed();
      totals->elements += vf.stats.elements;
      totals->special += vf.stats.special_elements;
    }
  }
}

void compare_all(int cases, std::int64_t max_elements) {
  std::vector<std::unique_ptr<Subject>> own;
  for (const std::string& p : norm_kernel_profiles()) {
    own.push_back(std::make_unique<FlatTwin>(p, 0.5, false, false));
    own.push_back(std::make_unique<FlatTwin>(p, 0.5, true, true));
    own.push_back(std::make_unique<OtherNeighbour>(p));
  }
  own.push_back(std::make_unique<FlatTwin>("rmsnorm.fp32", 40, false, true));
  own.push_back(std::make_unique<FlatTwin>("fused_add_rmsnorm.hf", 4.5, true, true));
  own.push_back(std::make_unique<DoubleNorm>(true));
  own.push_back(std::make_unique<DoubleNorm>(false));
  std::vector<const Subject*> all;
  for (const auto& s : own) all.push_back(s.get());
  for (const auto& s : subjects()) {
    if (s->backend() == Backend::kHost && s->op().find("rmsnorm") != std::string::npos &&
        !s->peer()) {
      all.push_back(s.get());
    }
  }
  Totals t;
  std::uint64_t seed = 1;
  for (const Subject* s : all) {
    compare_paths(*s, cases, max_elements, seed++, &t);
    if (::testing::Test::HasFatalFailure()) return;
  }
  const NormComparisonCounts n = norm_comparison_counts();
  std::printf(
      "[ fallback ] fast path: %lld elements within a bound; exact values: %lld rows "
      "from evaluate(), %lld rows with NormRowExact, %lld ULP errors, %lld intervals, "
      "%lld flat-bound comparisons, %lld thresholds\n",
      static_cast<long long>(n.elements), static_cast<long long>(n.exact_rows),
      static_cast<long long>(n.row_exact), static_cast<long long>(n.exact_errors),
      static_cast<long long>(n.exact_intervals), static_cast<long long>(n.exact_compares),
      static_cast<long long>(n.exact_thresholds));
  std::printf(
      "[ paths    ] %zu subjects, %lld cases (%lld failing), %lld elements compared, "
      "%lld special: fast and exact verdicts identical\n",
      all.size(), static_cast<long long>(t.cases), static_cast<long long>(t.failed),
      static_cast<long long>(t.elements), static_cast<long long>(t.special));
  EXPECT_GT(t.failed, t.cases / 20);  // the mutants and the 0.5-ulp twins do fail
  EXPECT_GT(t.cases, static_cast<std::int64_t>(all.size()) * cases);
}

// kconform's host twins of the norm family (other families' twins are registered too).
bool norm_twin(const Subject& s) {
  return s.name().rfind("kc.twin.", 0) == 0 &&
         (s.op() == "rmsnorm" || s.op() == "fused_add_rmsnorm");
}

// Directed rows where the enclosures cannot decide and the exact fallbacks must: the issue's
// item-6 row (a double subject stores the tie 0x4282 for 64.7499999999999999998850...); tie
// rows whose R is a power of two (x_i = m_i 2^e, eps making q = 4^j 2^(2e)), so that values and
// errors land exactly on midpoints and on 0.5-ulp bounds (only the exact comparison of squares
// decides them); and near-tie rows: the last m is 0 and its x becomes 2^(e-d), which lowers R by
// about 2^(-2d-1) / (n 4^j) relative, so that every tie is missed by that much (d = 12, 24:
// beyond the double enclosures, within the 320-bit values; d = 50: within neither, an error that
// ulp_error() rounds to exactly 0.5). Double-precision subjects store the ties' even neighbours.
Case directed_case(const std::string& profile, DType dtype, const std::vector<float>& x,
                   const std::vector<float>& r, const std::vector<float>& w, float eps,
                   std::int64_t tokens, CaseBuffers* b) {
  const auto n = static_cast<std::int64_t>(w.size());
  Case c = norm_case(profile, dtype, tokens, n, eps, 3);
  *b = materialize(c);
  const bool fused = profile.rfind("fused", 0) == 0;
  HostTensor& xt = b->tensor(0);
  HostTensor& wt = b->tensor(fused ? 2 : 1);
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      xt.set(t, i, quantize(dtype, x[k] * static_cast<float>(t + 1)));
      if (fused) b->tensor(1).set(t, i, quantize(dtype, r[k]));
    }
  }
  for (std::int64_t i = 0; i < n; ++i)
    wt.set(0, i, quantize(dtype, w[static_cast<std::size_t>(i)]));
  return c;
}

void compare_directed(const Subject& s, const Case& c, CaseBuffers b, Totals* totals) {
  if (!s.check(c).is_ok()) return;
  const std::unique_ptr<Expectation> fast = norm_expectation(c, b, NormReferencePath::kFast);
  const std::unique_ptr<Expectation> exact = norm_expectation(c, b, NormReferencePath::kExact);
  ASSERT_TRUE(execute(s, c, b).status.is_ok());
  Verdict vf;
  Verdict ve;
  fast->compare(s, b, Expectation::Mode::kBounded, &vf);
  exact->compare(s, b, Expectation::Mode::kBounded, &ve);
  ASSERT_TRUE(same(vf, ve)) << s.name() << " " << describe(c);
  ++totals->cases;
  totals->failed += vf.failed();
  totals->elements += vf.stats.elements;
  totals->out_of_range += vf.stats.out_of_range_rows;
  totals->flushed += vf.stats.flushed_elements;
}

TEST(FastCompareTest, DirectedRowsNearBoundsAndTies) {
  Totals t;
  const NormComparisonCounts before = norm_comparison_counts();
  // Item 6: one-hot 2^30, w = 3 * 2^-8, bf16, hidden 4096.
  {
    std::vector<float> x(4096, 0.0f);
    x[77] = 0x1p30f;
    const std::vector<float> w(4096, 3 * 0x1p-8f);
    CaseBuffers b;
    const Case c = directed_case("rmsnorm.gemma", DType::kBf16, x, {}, w, 1e-6f, 1, &b);
    compare_directed(DoubleNorm(true), c, b, &t);
    ASSERT_FALSE(HasFatalFailure());
  }
  // Rows at the edges of the kernel bound's range (regime): n q = sum x^2 + n eps at 2^126
  // (fp32 x = 2^61, n = 16: just above it by 16 eps, which only the exact q tells), and
  // q = mean(x^2) + eps at 2^-100 (x = 2^-50, eps = 2^-149: just above; x 2^-23 smaller: below).
  for (const auto& twin : subjects()) {
    if (!norm_twin(*twin)) continue;
    for (const float scale : {1.0f, 1 - 0x1p-23f, 1 + 0x1p-22f}) {
      const std::vector<float> r(16, 0.0f);
      const std::vector<float> w(16, 1.0f);
      CaseBuffers b;
      const Case big = directed_case(twin->profile(), DType::kFp32,
                                     std::vector<float>(16, 0x1p61f * scale), r, w, 1e-6f, 1, &b);
      compare_directed(*twin, big, b, &t);
      ASSERT_FALSE(HasFatalFailure());
      const Case small =
          directed_case(twin->profile(), DType::kFp32, std::vector<float>(16, 0x1p-50f * scale), r,
                        w, 0x1p-149f, 1, &b);
      compare_directed(*twin, small, b, &t);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  // Flushing subjects under the flush-to-zero rule on rows whose normal inputs give outputs and
  // u R around 2^-126: x = (2^10, 2^-125 m_i 2^k, ...), weights from 2^-32 to 2^8, so that
  // flushed outputs are admitted by the u R and y tests, decided from enclosures or exact values;
  // and a subject that zeros outputs below 2^-118, which the rule must not admit where u R and
  // y are normal.
  for (const std::string& p : norm_kernel_profiles()) {
    for (const float below : {0x1p-126f, 0x1p-118f}) {
      const FlatTwin flushing(p, 64, true, true, below);
      for (const DType dtype : {DType::kFp32, DType::kBf16}) {
        for (int k = 0; k < 8; ++k) {
          std::vector<float> x(32);
          std::vector<float> w(32);
          for (std::size_t i = 0; i < x.size(); ++i) {
            x[i] = i == 0 ? 1024.0f : static_cast<float>(std::ldexp(1 + (i % 7) / 8.0, -125 + k));
            w[i] = static_cast<float>(std::ldexp(1.0, 8 - static_cast<int>(i % 6) * 8));
          }
          CaseBuffers b;
          const Case c = directed_case(p, dtype, x, std::vector<float>(32, 0.0f), w, 1e-6f, 1, &b);
          compare_directed(flushing, c, b, &t);
          ASSERT_FALSE(HasFatalFailure());
        }
      }
    }
  }
  // Tie rows.
  std::mt19937_64 rng(5);
  std::vector<std::unique_ptr<Subject>> own;
  own.push_back(std::make_unique<DoubleNorm>(true));
  own.push_back(std::make_unique<DoubleNorm>(false));
  for (const std::string& p : norm_kernel_profiles()) {
    own.push_back(std::make_unique<FlatTwin>(p, 0.5, false, false));
    own.push_back(std::make_unique<OtherNeighbour>(p));
  }
  for (int trial = 0; trial < 120; ++trial) {
    const int log2n = 3 + trial % 6;
    const std::int64_t n = std::int64_t{1} << log2n;
    const int e = trial % 3 == 0 ? -3 : trial % 3 == 1 ? 0 : 2;
    std::vector<float> x;
    std::vector<float> r;
    std::vector<float> w;
    std::int64_t m_sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const int m = i == n - 1 ? 0 : static_cast<int>(rng() % 15) - 7;
      m_sum += m * m;
      const int k = static_cast<int>(rng() % 5) - 2;
      x.push_back(static_cast<float>(std::ldexp(m - k, e)));
      r.push_back(static_cast<float>(std::ldexp(k, e)));
      // Weights of few bits: products with m 2^-j tie often; gemma's 1 + w too.
      w.push_back(static_cast<float>(std::ldexp(static_cast<int>(rng() % 63) - 31, -4)));
    }
    int j = 0;
    while ((std::int64_t{1} << (2 * j)) * n < m_sum) ++j;
    const std::int64_t num = (std::int64_t{1} << (2 * j)) * n - m_sum;
    const float eps = static_cast<float>(std::ldexp(static_cast<double>(num), 2 * e - log2n));
    const int d = trial % 4 == 0 ? 0 : trial % 4 == 1 ? 24 : trial % 4 == 2 ? 50 : 12;
    if (d != 0) {
      x.back() = static_cast<float>(std::ldexp(1.0, e - d));
      r.back() = 0;
    }
    const DType dtype = trial % 3 == 0   ? DType::kFp32
                        : trial % 3 == 1 ? DType::kBf16
                                         : DType::kFp16;
    for (const auto& s : own) {
      // Unfused rows see x alone: the sum x + r only in fused profiles (r then makes s = m 2^e).
      const bool fused = s->op() == "fused_add_rmsnorm";
      std::vector<float> xs = x;
      if (!fused) {
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i] += r[i];
      }
      CaseBuffers b;
      const Case c = directed_case(s->profile(), dtype, xs, r, w, eps, 1, &b);
      compare_directed(*s, c, b, &t);
      ASSERT_FALSE(HasFatalFailure());
    }
    for (const auto& twin : subjects()) {
      if (!norm_twin(*twin)) continue;
      const bool fused = twin->op() == "fused_add_rmsnorm";
      std::vector<float> xs = x;
      if (!fused) {
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i] += r[i];
      }
      CaseBuffers b;
      const Case c = directed_case(twin->profile(), dtype, xs, r, w, eps, 2, &b);
      compare_directed(*twin, c, b, &t);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  const NormComparisonCounts after = norm_comparison_counts();
  std::printf(
      "[ directed ] %lld cases (%lld failing), %lld elements, %lld rows out of range, %lld "
      "flushed elements: %lld "
      "flat-bound comparisons from exact values (%lld by the comparison of squares), %lld "
      "kernel intervals from exact values, %lld exact ULP errors, %lld rows from evaluate(), "
      "%lld thresholds from exact values\n",
      static_cast<long long>(t.cases), static_cast<long long>(t.failed),
      static_cast<long long>(t.elements), static_cast<long long>(t.out_of_range),
      static_cast<long long>(t.flushed),
      static_cast<long long>(after.exact_compares - before.exact_compares),
      static_cast<long long>(after.exact_signs - before.exact_signs),
      static_cast<long long>(after.exact_intervals - before.exact_intervals),
      static_cast<long long>(after.exact_errors - before.exact_errors),
      static_cast<long long>(after.exact_rows - before.exact_rows),
      static_cast<long long>(after.exact_thresholds - before.exact_thresholds));
  EXPECT_GE(after.exact_compares - before.exact_compares, 50);
  EXPECT_GE(after.exact_signs - before.exact_signs, 50);
  EXPECT_GE(after.exact_thresholds - before.exact_thresholds, 7);  // the regime edges
  EXPECT_GE(t.out_of_range, 7);
  EXPECT_GT(t.flushed, 100);
  EXPECT_GT(t.failed, 0);
}

TEST(FastCompareTest, FastAndExactPathsGiveTheSameVerdicts) { compare_all(24, 1 << 12); }

TEST(FastCompareTest, FastAndExactPathsGiveTheSameVerdictsSoak) { compare_all(240, 1 << 16); }

}  // namespace
}  // namespace kc::props
