// The norm family's comparison (rmsnorm_expectation.cpp): the flush-to-zero rule of a flat ULP
// bound (BoundSpec rule "flush_to_zero", rmsnorm_family.h), on host subjects whose behaviour is
// known:
//  - a twin run on inputs whose bf16 subnormals were flushed (what -ftz does to the loads of a
//    fast-math kernel) fails bounded_error without the rule and passes with it;
//  - the same for the fused add, where two subnormal operands can have a normal sum that a
//    flushing add turns into zero (residual and output): found by the FlashInfer peer on the GPU;
//  - a subject that zeros values up to 2^-20 (not a flush: those are normal fp32 numbers) fails
//    with the rule too, so the rule admits flushed subnormals and nothing more.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/scalar.h"
#include "kc/props/property.h"
#include "rmsnorm/rmsnorm_bound.h"
#include "rmsnorm/rmsnorm_family.h"

namespace kc::props {
namespace {

// The twin on a copy of the inputs (x, and r for the fused add) where every bf16 value below
// `limit` in magnitude is replaced by a zero of its sign.
class ZeroingTwin : public Subject {
 public:
  ZeroingTwin(float limit, bool ftz_rule, bool fused = false)
      : limit_(limit), ftz_rule_(ftz_rule), fused_(fused) {}
  std::string name() const override { return "test.zeroing_twin"; }
  std::string op() const override { return fused_ ? "fused_add_rmsnorm" : "rmsnorm"; }
  std::string profile() const override {
    return fused_ ? "fused_add_rmsnorm.fp32_sum" : "rmsnorm.fp32";
  }
  Backend backend() const override { return Backend::kHost; }
  std::vector<DType> dtypes() const override { return {DType::kBf16}; }
  BoundSpec bound() const override {
    // The twin's own worst case at this size (NormKernelBound), and zeroing a subnormal input
    // moves the sum of squares by < 2^-252 per element, far below the bound's fp32 terms.
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps =
        NormKernelBound(fused_ ? ref::NormProfile::kFusedFp32Sum : ref::NormProfile::kRmsNormFp32,
                        DType::kBf16, kHidden)
            .worst_case_ulps();
    if (ftz_rule_) b.rules.push_back(kFlushToZeroRule);
    return b;
  }
  Status check(const Case&) const override { return Status::ok(); }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    std::vector<void*> q = p;
    std::vector<std::uint16_t> copies[2];
    for (int t = 0; t < (fused_ ? 2 : 1); ++t) {
      const std::int64_t stride = c.tensors[static_cast<std::size_t>(t)].row_stride;
      std::vector<std::uint16_t>& x = copies[t];
      x.resize(static_cast<std::size_t>((c.num_tokens - 1) * stride + norm_hidden(c)));
      std::memcpy(x.data(), p[static_cast<std::size_t>(t)], x.size() * sizeof(std::uint16_t));
      for (std::uint16_t& b : x) {
        const float v = detail::bf16_to_float(b);
        if (v != 0 && v > -limit_ && v < limit_) b = static_cast<std::uint16_t>(b & 0x8000u);
      }
      q[static_cast<std::size_t>(t)] = x.data();
    }
    return fused_ ? fused_add_rmsnorm_twin(fused_add_rmsnorm_args(c, q))
                  : rmsnorm_twin(rmsnorm_args(c, q));
  }
  static constexpr std::int64_t kHidden = 64;

 private:
  float limit_;
  bool ftz_rule_;
  bool fused_;
};

Case make_case(NormRowClass rows, bool fused = false) {
  Case c = norm_case(fused ? "fused_add_rmsnorm.fp32_sum" : "rmsnorm.fp32", DType::kBf16, 3,
                     ZeroingTwin::kHidden, 1e-5f, 12345);
  set_norm_classes(c, {rows}, NormWeightClass::kNormal);
  return c;
}

TEST(FlushBoundTest, FlushedSubnormalInputsFailWithoutTheRule) {
  // Rows of bf16 subnormals: mean(x^2) is far below eps, so R ~ 316 and x R is a normal number
  // that a flushed input turns into zero.
  const Verdict v = run_property(PropertyId::kBoundedError, ZeroingTwin(0x1p-126f, false),
                                 make_case(NormRowClass::kSubnormal));
  ASSERT_TRUE(v.failed()) << v.message;
  const std::string zero = v.worst.observed.substr(0, 6);  // a flushed zero, of either sign
  EXPECT_TRUE(zero == "0x0000" || zero == "0x8000") << v.worst.observed;
  EXPECT_GT(v.worst.ulp_error, 1.0) << v.message;
  EXPECT_EQ(v.stats.flushed_elements, 0);
}

TEST(FlushBoundTest, FlushedSubnormalInputsPassWithTheRule) {
  const Verdict v = run_property(PropertyId::kBoundedError, ZeroingTwin(0x1p-126f, true),
                                 make_case(NormRowClass::kSubnormal));
  EXPECT_FALSE(v.failed()) << v.message;
  EXPECT_GT(v.stats.flushed_elements, 0);
  // Normal rows are untouched by the flush and compared by ULPs as usual.
  const Verdict n = run_property(PropertyId::kBoundedError, ZeroingTwin(0x1p-126f, true),
                                 make_case(NormRowClass::kNormal));
  EXPECT_FALSE(n.failed()) << n.message;
  EXPECT_EQ(n.stats.flushed_elements, 0);
  EXPECT_GT(n.stats.elements, 0);
}

TEST(FlushBoundTest, FlushedOperandsOfTheFusedAdd) {
  // Subnormal x and r: their exact sum may be normal (and R ~ 316 makes s R normal), but a
  // flushing add sees 0 + 0. The residual and the output are then zeros.
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    Case c = make_case(NormRowClass::kSubnormal, /*fused=*/true);
    c.seed = seed;
    const Verdict without =
        run_property(PropertyId::kBoundedError, ZeroingTwin(0x1p-126f, false, true), c);
    EXPECT_TRUE(without.failed()) << "seed " << seed;
    const Verdict with =
        run_property(PropertyId::kBoundedError, ZeroingTwin(0x1p-126f, true, true), c);
    EXPECT_FALSE(with.failed()) << with.message;
    EXPECT_GT(with.stats.flushed_elements, 0);
  }
}

TEST(FlushBoundTest, ZeroingNormalValuesFailsEvenWithTheRule) {
  // kTiny rows hold magnitudes 2^-24 .. 2^-12: normal fp32 numbers that no flush touches.
  const Verdict v = run_property(PropertyId::kBoundedError, ZeroingTwin(0x1p-20f, true),
                                 make_case(NormRowClass::kTiny));
  ASSERT_TRUE(v.failed()) << v.message;
  EXPECT_GT(v.worst.ulp_error, 1.0) << v.message;
}

TEST(FlushBoundTest, AnUnknownRuleFailsInsteadOfPassing) {
  // A rule the family does not define widens nothing: every comparison of the subject fails.
  class UnknownRule : public ZeroingTwin {
   public:
    UnknownRule() : ZeroingTwin(0, false) {}
    BoundSpec bound() const override {
      BoundSpec b = ZeroingTwin::bound();
      b.rules.push_back("flush_to_zro");
      return b;
    }
  };
  const Verdict v =
      run_property(PropertyId::kBoundedError, UnknownRule(), make_case(NormRowClass::kNormal));
  ASSERT_TRUE(v.failed());
  EXPECT_NE(v.message.find("flush_to_zro"), std::string::npos) << v.message;
}

}  // namespace
}  // namespace kc::props
