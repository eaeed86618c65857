// The act_and_mul family's comparison (act_and_mul_expectation.cpp) and its bound rules for
// fast-math peers (act_and_mul_family.h), on host subjects whose behaviour is known:
//  - the engines' fp32 formulas (silu g / (1 + e^-g), gelu 0.5 g (1 + erf(g / sqrt 2)), one
//    rounding to the dtype) fail bounded_error in the negative tails without the rules and pass
//    with act_tail_to_zero (silu: e^-g overflows) or act_absolute_2^-22 (gelu: the cancellation
//    of 1 + erf leaves an absolute error; 2^-30 is too tight);
//  - a subject that zeroes silu activations below 2^-100 (normal fp32 numbers, not a flush) fails
//    even with the tail rule: the rule admits what a flush or an overflow loses,
//    nothing more;
//  - special_values: silu(g) for g < -88.72 lost to zero, times an infinite up, is NaN; the tail
//    rule admits exactly that, the exact profile's infinity is required without it;
//  - special_values: gelu(g) lost to the cancellation of 1 + erf (g below about -5.5, far above
//    2^-126) times an infinite up is NaN; the absolute rule admits it, the tail rule does not;
//  - unknown rules and an N out of range fail with a message naming the rule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "act_and_mul/act_and_mul_family.h"
#include "common/scalar.h"
#include "kc/props/act_and_mul.h"
#include "kc/props/property.h"

namespace kc::props {
namespace {

enum class Formula : std::uint8_t { kEngine, kZeroBelow2ToMinus100 };

// bf16 act(g) u with act from an fp32 formula, one rounding (the single profile's form).
class FormulaSubject : public Subject {
 public:
  FormulaSubject(std::string profile, Formula f, double ulps, std::vector<std::string> rules)
      : profile_(std::move(profile)), f_(f), ulps_(ulps), rules_(std::move(rules)) {}
  std::string name() const override { return "test.formula"; }
  std::string op() const override { return "act_and_mul"; }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return Backend::kHost; }
  std::vector<DType> dtypes() const override { return {DType::kBf16}; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = ulps_;
    b.rules = rules_;
    return b;
  }
  Status check(const Case& c) const override {
    return act_and_mul_check(act_and_mul_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const ActAndMulArgs a = act_and_mul_args(c, p);
    for (std::int64_t r = 0; r < a.num_tokens; ++r) {
      const auto* x = static_cast<const std::uint16_t*>(a.input.data) + r * a.input.row_stride;
      auto* y = static_cast<std::uint16_t*>(a.output.data) + r * a.output.row_stride;
      for (std::int64_t j = 0; j < a.d; ++j) {
        const float g = detail::bf16_to_float(x[j]);
        const float u = detail::bf16_to_float(x[a.d + j]);
        float act = a.act == Activation::kSilu ? g / (1.0f + std::exp(-g))
                                               : (0.5f * g) * (1.0f + std::erf(g * 0.70710678f));
        if (f_ == Formula::kZeroBelow2ToMinus100 && std::fabs(act) < 0x1p-100f) act = 0.0f * g;
        y[j] = detail::float_to_bf16(act * u);
      }
    }
    return Status::ok();
  }

 private:
  std::string profile_;
  Formula f_;
  double ulps_;
  std::vector<std::string> rules_;
};

Case tail_case(const std::string& profile, std::uint64_t seed) {
  Case c = act_case(profile, DType::kBf16, 4, 256, seed);
  c.row_classes = {static_cast<std::uint8_t>(ActRowClass::kTail)};
  return c;
}

Verdict bounded(const Subject& s, const Case& c) {
  return run_property(PropertyId::kBoundedError, s, c);
}

// fp32 silu via expf and a division: e^-g (1 ulp) and the quotient (0.5 ulp) give below 2u
// relative before the bf16 rounding: 0.5 + 2 * 2^-24 * 2^8 < 0.51 ulp; 1 ulp is ample.
TEST(ActExpectationTest, SiluOverflowNeedsTheTailRule) {
  const Case c = tail_case("act_and_mul.silu.single", 3);
  EXPECT_TRUE(
      bounded(FormulaSubject("act_and_mul.silu.single", Formula::kEngine, 1.0, {}), c).failed());
  const Verdict v =
      bounded(FormulaSubject("act_and_mul.silu.single", Formula::kEngine, 1.0, {kActTailRule}), c);
  EXPECT_FALSE(v.failed()) << v.message;
  EXPECT_GT(v.stats.flushed_elements, 0);
}

// fp32 gelu via erff: 1 + erf(x) for x near -4 / sqrt 2 cancels; its absolute error is at most
// about 2 ulp(1) = 2^-22 (erff's error near -1 plus the sum's rounding), times |g/2| |u|: the
// absolute rule with N = 22 admits it (and the zeros from g ~ -5.5 on, where |gelu(g)| =
// |g| Phi(g) < 2^-22 |g|); the tail rule alone does not (the values between -5.5 and -4 are
// wrong, not zero).
TEST(ActExpectationTest, GeluCancellationNeedsTheAbsoluteRule) {
  const Case c = tail_case("act_and_mul.gelu.single", 5);
  const std::string absolute = std::string(kActAbsoluteRulePrefix) + "22";
  EXPECT_TRUE(
      bounded(FormulaSubject("act_and_mul.gelu.single", Formula::kEngine, 1.0, {}), c).failed());
  EXPECT_TRUE(
      bounded(FormulaSubject("act_and_mul.gelu.single", Formula::kEngine, 1.0, {kActTailRule}), c)
          .failed());
  const Verdict v =
      bounded(FormulaSubject("act_and_mul.gelu.single", Formula::kEngine, 1.0, {absolute}), c);
  EXPECT_FALSE(v.failed()) << v.message;
  // A tighter N (2^-30) no longer covers the cancellation.
  EXPECT_TRUE(bounded(FormulaSubject("act_and_mul.gelu.single", Formula::kEngine, 1.0,
                                     {std::string(kActAbsoluteRulePrefix) + "30"}),
                      c)
                  .failed());
}

// A silu that zeroes activations below 2^-100 (normal fp32 numbers: silu(g) for g in
// (-88.72, -80] is about 2^-110, no flush and no overflow there) fails with the tail rule.
TEST(ActExpectationTest, TheTailRuleAdmitsNoMoreThanAFlush) {
  const Case c = tail_case("act_and_mul.silu.single", 3);
  const Verdict v = bounded(FormulaSubject("act_and_mul.silu.single",
                                           Formula::kZeroBelow2ToMinus100, 1.0, {kActTailRule}),
                            c);
  EXPECT_TRUE(v.failed());
}

TEST(ActExpectationTest, LostActivationTimesInfinityIsNaNUnderTheTailRule) {
  Case c = tail_case("act_and_mul.silu.single", 9);
  c.row_classes = {static_cast<std::uint8_t>(ActRowClass::kTail)};
  // +inf ups on every element of row 0: rows are filled first, injections overwrite.
  for (std::int64_t j = 0; j < 256; ++j) {
    c.injections.push_back(Injection{0, 0, 256 + j, Special::kPosInf});
  }
  const Verdict with = run_property(
      PropertyId::kSpecialValues,
      FormulaSubject("act_and_mul.silu.single", Formula::kEngine, 1.0, {kActTailRule}), c);
  EXPECT_FALSE(with.failed()) << with.message;
  const Verdict without =
      run_property(PropertyId::kSpecialValues,
                   FormulaSubject("act_and_mul.silu.single", Formula::kEngine, 1.0, {}), c);
  EXPECT_TRUE(without.failed());
}

// gelu's 1 + erf(g / sqrt 2) rounds to zero in fp32 from g ~ -5.5 on, where |gelu(g)| is far
// above 2^-126: the activation is lost to cancellation, not to a flush, and times an infinite
// up gives NaN. The absolute rule (N = 22) admits it; the tail rule alone does not, and neither
// does an absolute rule too tight to reach act(g) (N = 60: 2^-61 |g| is below |gelu(g)| for
// every g above -11).
TEST(ActExpectationTest, CancelledActivationTimesInfinityIsNaNUnderTheAbsoluteRule) {
  Case c = tail_case("act_and_mul.gelu.single", 9);
  for (std::int64_t j = 0; j < 256; ++j) {
    c.injections.push_back(Injection{0, 0, 256 + j, Special::kPosInf});
  }
  const auto special = [&](std::vector<std::string> rules) {
    return run_property(
        PropertyId::kSpecialValues,
        FormulaSubject("act_and_mul.gelu.single", Formula::kEngine, 1.0, std::move(rules)), c);
  };
  const Verdict with = special({std::string(kActAbsoluteRulePrefix) + "22"});
  EXPECT_FALSE(with.failed()) << with.message;
  EXPECT_GT(with.stats.flushed_elements, 0);
  EXPECT_TRUE(special({kActTailRule}).failed());
  EXPECT_TRUE(special({std::string(kActAbsoluteRulePrefix) + "60"}).failed());
  EXPECT_TRUE(special({}).failed());
}

TEST(ActExpectationTest, UnknownRulesAndBadNFail) {
  const Case c = act_case("act_and_mul.silu.single", DType::kBf16, 1, 8, 1);
  for (const std::string& rule :
       {std::string("flush_to_zero"), std::string(kActAbsoluteRulePrefix) + "0",
        std::string(kActAbsoluteRulePrefix) + "x"}) {
    const Verdict v =
        bounded(FormulaSubject("act_and_mul.silu.single", Formula::kEngine, 1.0, {rule}), c);
    EXPECT_TRUE(v.failed()) << rule;
    EXPECT_NE(v.message.find(rule), std::string::npos) << v.message;
  }
}

}  // namespace
}  // namespace kc::props
