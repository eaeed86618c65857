// The generators (generators.h): sizes shrink to the smallest failing value and injections to
// the ones that matter; a subject's size claims bound and are reached by the generated cases; a
// quick run reaches the largest claimed rows and big batches, and batch_invariant's resized
// batches straddle 2^17 tokens (the coverage table of scripts/calibration_limits.py, at a fixed
// seed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/check.h"
#include "kc/props/family.h"
#include "kc/props/generators.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/values.h"

namespace kc::props {
namespace {

// kconform's rmsnorm.fp32 twin, with a defect and a record of the cases it ran.
class Twin : public Subject {
 public:
  enum class Defect { kNone, kRowsFrom1000Negated, kNanInputRowZeroed };
  explicit Twin(Defect d = Defect::kNone, SizeClaims claims = {}) : d_(d), claims_(claims) {}
  std::string name() const override { return "test.twin"; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return "rmsnorm.fp32"; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override { return {}; }
  SizeClaims claims() const override {
    return claims_.max_tokens > 0 || !claims_.max_params.empty() ? claims_ : Subject::claims();
  }
  Status check(const Case& c) const override {
    const std::int64_t max_hidden = claims().max_param("hidden", kMaxHidden);
    if (norm_hidden(c) > max_hidden || c.num_tokens > claimed_max_tokens(claims())) {
      return Status(StatusCode::kUnsupported, "beyond the claims");
    }
    return rmsnorm_check(rmsnorm_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back({c.num_tokens, norm_hidden(c)});
    }
    const RmsNormArgs a = rmsnorm_args(c, p);
    const std::int64_t in_stride = c.tensors[RmsNormTensors::kInput].row_stride;
    const std::int64_t out_stride = c.tensors[RmsNormTensors::kOutput].in_place
                                        ? in_stride
                                        : c.tensors[RmsNormTensors::kOutput].row_stride;
    // Rows whose input holds a NaN (read before an in-place run overwrites them).
    std::vector<bool> nan_row(static_cast<std::size_t>(c.num_tokens), false);
    for (std::int64_t r = 0; r < c.num_tokens && d_ == Defect::kNanInputRowZeroed; ++r) {
      for (std::int64_t i = 0; i < a.hidden; ++i) {
        if (std::isnan(load_element(c.dtype, a.input.data, r * in_stride + i))) {
          nan_row[static_cast<std::size_t>(r)] = true;
        }
      }
    }
    KC_RETURN_IF_ERROR(rmsnorm_twin(a));
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      const bool nan_input = nan_row[static_cast<std::size_t>(r)];
      if (!nan_input && !(d_ == Defect::kRowsFrom1000Negated && r >= 1000)) continue;
      for (std::int64_t i = 0; i < a.hidden; ++i) {
        const std::int64_t at = r * out_stride + i;
        store_element(c.dtype, a.output.data, at,
                      nan_input ? 0.0f : -load_element(c.dtype, a.output.data, at));
      }
    }
    return Status::ok();
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  Defect d_;
  SizeClaims claims_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<std::int64_t, std::int64_t>> seen_;
};

TEST(GeneratorsTest, SizeShrinksAreSmallestFirstAndHitThePowersOfTwo) {
  const std::vector<std::int64_t> s = size_shrinks(5000, 1);
  ASSERT_FALSE(s.empty());
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
  EXPECT_EQ(s.front(), 1);
  EXPECT_LT(s.back(), 5000);
  for (std::int64_t v : {2, 3, 1023, 1024, 1025, 4095, 4096, 4097, 2501, 4999}) {
    EXPECT_TRUE(std::binary_search(s.begin(), s.end(), v)) << v;
  }
  EXPECT_TRUE(size_shrinks(1, 1).empty());
}

// A defect from 1000 tokens on: the repro has exactly 1001 tokens of one element.
TEST(GeneratorsTest, TokenCountsShrinkToTheSmallestFailingBatch) {
  const Twin s(Twin::Defect::kRowsFrom1000Negated);
  CheckConfig cfg;
  cfg.budget = budget_for(PropertyId::kBoundedError, s, "quick");
  cfg.seed = 11;
  cfg.write_repro = false;
  const CheckResult r = check_property(PropertyId::kBoundedError, s, cfg);
  ASSERT_FALSE(r.passed);
  ASSERT_TRUE(r.counterexample.has_value());
  EXPECT_EQ(r.counterexample->num_tokens, 1001) << describe(*r.counterexample);
  EXPECT_EQ(norm_hidden(*r.counterexample), 1) << describe(*r.counterexample);
}

// A defect that shows only with a NaN in the input: the repro keeps one injection, at (0, 0).
TEST(GeneratorsTest, InjectionsShrinkToTheOneThatMatters) {
  const Twin s(Twin::Defect::kNanInputRowZeroed);
  for (std::uint64_t seed : {3u, 5u, 8u}) {
    CheckConfig cfg;
    cfg.budget = budget_for(PropertyId::kSpecialValues, s, "quick");
    cfg.seed = seed;
    cfg.write_repro = false;
    const CheckResult r = check_property(PropertyId::kSpecialValues, s, cfg);
    ASSERT_FALSE(r.passed) << seed;
    ASSERT_TRUE(r.counterexample.has_value());
    const Case& c = *r.counterexample;
    ASSERT_EQ(c.injections.size(), 1u) << describe(c);
    EXPECT_EQ(c.injections[0].kind, Special::kNan) << describe(c);
    EXPECT_EQ(c.injections[0].row, 0) << describe(c);
    EXPECT_EQ(c.injections[0].col, 0) << describe(c);
    EXPECT_EQ(c.num_tokens, 1) << describe(c);
  }
}

// Sample the cases of gen_case at every size.
std::vector<Case> sample(const Subject& s, const GenOptions& o, int n, std::uint64_t seed) {
  const rc::Gen<Case> g = gen_case(s, o);
  rc::Random random(seed);
  std::vector<Case> out;
  for (int i = 0; i < n; ++i) out.push_back(g(random.split(), i % 101).value());
  return out;
}

TEST(GeneratorsTest, ClaimsBoundAndAreReached) {
  SizeClaims claims;
  claims.max_tokens = 3000;
  claims.max_params = {{"hidden", 1000}};
  const Twin s(Twin::Defect::kNone, claims);
  GenOptions o;
  o.unsupported = false;
  o.max_elements = std::int64_t{1} << 16;
  std::int64_t most_tokens = 0;
  std::int64_t most_hidden = 0;
  for (const Case& c : sample(s, o, 2000, 1)) {
    EXPECT_LE(c.num_tokens, 3000);
    EXPECT_LE(norm_hidden(c), 1000);
    most_tokens = std::max(most_tokens, c.num_tokens);
    most_hidden = std::max(most_hidden, norm_hidden(c));
  }
  EXPECT_GE(most_tokens, 2048);
  EXPECT_EQ(most_hidden, 1000);
}

// Any subject of any family's op: claims its family's sizes with every claimed parameter cut to
// min(half, 200) (or the family's own claims with kFamilyClaims), runs nothing.
class ClaimStub : public Subject {
 public:
  enum class Claims { kFamilyClaims, kHalved };
  ClaimStub(const OpSpec& op, Claims k) : op_(op), k_(k) {}
  std::string name() const override { return "test.claims." + op_.name; }
  std::string op() const override { return op_.name; }
  std::string profile() const override { return op_.profiles.front(); }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override { return {}; }
  SizeClaims claims() const override {
    SizeClaims c = Subject::claims();
    if (k_ == Claims::kHalved) {
      for (auto& [n, v] : c.max_params)
        v = std::max<std::int64_t>(2, std::min<std::int64_t>(v / 2, 200));
    }
    return c;
  }
  Status check(const Case&) const override { return Status::ok(); }
  Status run(const Case&, const std::vector<void*>&, cudaStream_t) const override {
    return Status::ok();
  }

 private:
  OpSpec op_;
  Claims k_;
};

// Every family states its kernels' sizes (Family::claims: a largest value for some integer
// parameter), and its generator keeps that parameter within a subject's own, smaller claim
// (unsupported sizes apart) while still reaching it; num_tokens stays within max_tokens.
TEST(GeneratorsTest, EveryFamilyStatesClaimsAndItsGeneratorKeepsToThem) {
  GenOptions o;
  o.unsupported = false;
  o.max_elements = std::int64_t{1} << 16;
  for (const auto& fam : families()) {
    for (const OpSpec& op : fam->ops()) {
      const SizeClaims own = ClaimStub(op, ClaimStub::Claims::kFamilyClaims).claims();
      ASSERT_FALSE(own.max_params.empty()) << fam->name() << " states no size claim";
      const ClaimStub s(op, ClaimStub::Claims::kHalved);
      const SizeClaims half = s.claims();
      std::vector<std::int64_t> most(half.max_params.size(), 0);
      for (const Case& c : sample(s, o, 1500, 3)) {
        EXPECT_LE(c.num_tokens, claimed_max_tokens(half)) << op.name;
        for (std::size_t i = 0; i < half.max_params.size(); ++i) {
          const auto& [n, v] = half.max_params[i];
          const std::int64_t got = c.param_int(n);
          EXPECT_LE(got, v) << op.name << ": " << n << " beyond the subject's claim";
          most[i] = std::max(most[i], got);
        }
      }
      // Reached: at least half of the claim.
      for (std::size_t i = 0; i < half.max_params.size(); ++i) {
        EXPECT_GE(most[i], half.max_params[i].second / 2)
            << op.name << ": " << half.max_params[i].first;
      }
    }
  }
}

// A quick run (at the calibration seed) reaches the claimed maximum hidden, rows beyond 32768,
// and batches of 2^14 tokens within its budget; batch_invariant's resized batches go past 2^17.
TEST(GeneratorsTest, AQuickRunReachesTheClaimedSizes) {
  const Twin s;
  CheckConfig cfg;
  cfg.budget = budget_for(PropertyId::kBoundedError, s, "quick");  // 120 cases, 2^15 elements
  cfg.seed = 20260101;
  cfg.write_repro = false;
  // deterministic runs the generated case twice and nothing else: cheap, same sizes.
  ASSERT_TRUE(check_property(PropertyId::kDeterministic, s, cfg).passed);
  std::int64_t most_hidden = 0;
  std::int64_t most_tokens = 0;
  bool above_32768 = false;
  for (const auto& [tokens, hidden] : s.seen()) {
    most_hidden = std::max(most_hidden, hidden);
    most_tokens = std::max(most_tokens, tokens);
    above_32768 = above_32768 || hidden > 32768;
  }
  EXPECT_EQ(most_hidden, kMaxHidden);
  EXPECT_TRUE(above_32768);
  EXPECT_GE(most_tokens, std::int64_t{1} << 14);

  const Twin b;
  CheckConfig bcfg;
  bcfg.budget = budget_for(PropertyId::kBatchInvariant, b, "quick");
  bcfg.seed = 20260101;
  bcfg.write_repro = false;
  ASSERT_TRUE(check_property(PropertyId::kBatchInvariant, b, bcfg).passed);
  std::int64_t largest = 0;
  for (const auto& [tokens, hidden] : b.seen()) largest = std::max(largest, tokens);
  EXPECT_GE(largest, std::int64_t{1} << 17);
}

}  // namespace
}  // namespace kc::props
