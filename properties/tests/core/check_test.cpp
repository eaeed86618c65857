// The RapidCheck driver (check.cpp): a dtype filter is part of the check, so every judged case is
// held to the subject's bound for its own dtype (Subject::bound_for), never to the loosest one;
// and cases of other dtypes are never generated. budget_for: the reference properties' case
// counts scale with the family's reference_budget_scale(), the others' do not.
#include <gtest/gtest.h>

#include <cstring>

#include "kc/props/buffers.h"
#include "kc/props/check.h"
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"

namespace kc::props {
namespace {

// The rmsnorm.fp32 twin with every bf16 output moved one step away from zero: within a loose
// bound, outside a tight one. Its bound is tight for bf16 and loose for the other dtypes, like
// a flat ULP bound that depends on the format's precision.
class OneStepOff : public Subject {
 public:
  std::string name() const override { return "test.one_step_off"; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return "rmsnorm.fp32"; }
  Backend backend() const override { return Backend::kHost; }
  std::vector<DType> dtypes() const override { return {DType::kFp16, DType::kBf16}; }
  BoundSpec bound() const override { return bound_for(DType::kFp16); }
  BoundSpec bound_for(DType d) const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = d == DType::kBf16 ? 0.51 : 100.0;
    return b;
  }
  Status check(const Case& c) const override {
    return rmsnorm_check(rmsnorm_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const RmsNormArgs a = rmsnorm_args(c, p);
    KC_RETURN_IF_ERROR(rmsnorm_twin(a));
    if (c.dtype != DType::kBf16) return Status::ok();
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      for (std::int64_t i = 0; i < a.hidden; ++i) {
        auto* y = static_cast<std::uint16_t*>(a.output.data) + r * a.output.row_stride + i;
        if ((*y & 0x7fffu) != 0 && (*y & 0x7f80u) != 0x7f80u)
          *y = static_cast<std::uint16_t>(*y + 1);
      }
    }
    return Status::ok();
  }
};

TEST(CheckTest, ADtypeFilterJudgesByThatDtypesBound) {
  const OneStepOff s;
  CheckConfig cfg;
  cfg.budget = budget_for(PropertyId::kBoundedError, s, "quick");
  cfg.budget.cases = 30;
  cfg.seed = 7;
  cfg.write_repro = false;
  cfg.dtypes = {DType::kBf16};
  const CheckResult bf16 = check_property(PropertyId::kBoundedError, s, cfg);
  EXPECT_FALSE(bf16.passed) << "one step off is outside the bf16 bound of 0.51 ulp";
  ASSERT_TRUE(bf16.counterexample.has_value());
  EXPECT_EQ(bf16.counterexample->dtype, DType::kBf16);
  cfg.dtypes = {DType::kFp16};
  const CheckResult fp16 = check_property(PropertyId::kBoundedError, s, cfg);
  EXPECT_TRUE(fp16.passed) << fp16.failure.message;
  for (const auto& [bucket, stats] : fp16.buckets) {
    EXPECT_EQ(bucket.rfind("fp16 ", 0), 0u) << "a case of another dtype was generated: " << bucket;
  }
}

// The norm family compares on the certified fast path and runs ten times the reference cases;
// act_and_mul and qknorm_rope compare exactly and keep the base budget; the bitwise properties
// keep theirs for every family.
TEST(CheckTest, ReferenceBudgetsScaleByFamily) {
  struct Want {
    const char* subject;
    int multiplier;
  };
  for (const Want w :
       {Want{"kc.twin.rmsnorm.hf", 10}, Want{"kc.twin.fused_add_rmsnorm.gemma", 10},
        Want{"kc.twin.act_and_mul.silu.torch", 1}, Want{"kc.twin.qknorm_rope.exact", 1}}) {
    const Subject* s = find_subject(w.subject);
    ASSERT_NE(s, nullptr) << w.subject;
    const Family* fam = family_for(s->op());
    ASSERT_NE(fam, nullptr) << w.subject;
    EXPECT_EQ(fam->reference_budget_scale(), w.multiplier) << w.subject;
    for (const PropertyId p : {PropertyId::kBoundedError, PropertyId::kSpecialValues}) {
      EXPECT_EQ(budget_for(p, *s, "quick").cases, 120 * w.multiplier) << w.subject;
      EXPECT_EQ(budget_for(p, *s, "soak").cases, 2000 * w.multiplier) << w.subject;
    }
    EXPECT_EQ(budget_for(PropertyId::kLayoutInvariant, *s, "quick").cases, 150) << w.subject;
    EXPECT_EQ(budget_for(PropertyId::kBatchInvariant, *s, "soak").cases, 2000) << w.subject;
  }
}

}  // namespace
}  // namespace kc::props
