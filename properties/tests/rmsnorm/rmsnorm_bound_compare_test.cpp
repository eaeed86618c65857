// The comparison `error <= bound` is exact (issue 13, item 6). ulp_error() rounds the exact
// fraction |y - v| / ulp(v) to a double, so an error a hair above the bound rounds onto it; the
// comparison must decide with the exact value whenever the double cannot.
//
// The row: rmsnorm.gemma, bf16, hidden 4096, one-hot x = 2^30 (eps = 1e-6), w = 3 * 2^-8 on every
// element. mean(x^2) + eps = 2^48 + 1e-6, so x R = 64 (1 - 1e-6 2^-49 + ...) and the hot output is
// v = 64.75 (1 - 1.78e-21) = 64.74999999999999999988498...: just below the midpoint 64.75 of the
// bf16 neighbours 64.5 (0x4281) and 65 (0x4282), so its correct rounding is 0x4281. A kernel that
// computes the tie (any fp32 or double evaluation gets exactly 64.75) stores the even 0x4282,
// whose error is 0.5 + 2.3e-19 ulp: the double is 0.5, and a 0.5-ulp bound must still reject it.
// The comparison runs as bounded_error runs it (the family's expectation, mode kBounded).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kc/props/family.h"
#include "kc/props/property.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"
#include "kc/ref/format.h"

namespace kc::props {
namespace {

constexpr std::int64_t kHidden = 4096;
constexpr std::int64_t kHot = 1234;
constexpr std::uint32_t kX = 0x4e80;        // 2^30 in bf16
constexpr std::uint32_t kW = 0x3c40;        // 3 * 2^-8 in bf16
constexpr std::uint32_t kCorrect = 0x4281;  // 64.5
constexpr std::uint32_t kTie = 0x4282;      // 65: the even neighbour of the tie 64.75

// A subject that states a flat bound (it never runs here: the test writes its outputs).
class FlatBound : public Subject {
 public:
  explicit FlatBound(double ulps) : ulps_(ulps) {}
  std::string name() const override { return "test.flat_bound"; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return "rmsnorm.gemma"; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = ulps_;
    return b;
  }
  Status check(const Case&) const override { return Status::ok(); }
  Status run(const Case&, const std::vector<void*>&, cudaStream_t) const override {
    return Status::ok();
  }

 private:
  double ulps_;
};

// Compares outputs that are all zero except the hot element (`hot_bits`) with the row's exact
// profile under a flat bound of `ulps`, as bounded_error does.
Verdict judge(std::uint32_t hot_bits, double ulps) {
  Case c = norm_case("rmsnorm.gemma", DType::kBf16, 1, kHidden, 1e-6f, 7);
  const Family& fam = *family_for(c.op);
  CaseBuffers b = materialize(c);
  HostTensor& x = b.tensor(RmsNormTensors::kInput);
  HostTensor& w = b.tensor(RmsNormTensors::kWeight);
  for (std::int64_t i = 0; i < kHidden; ++i) {
    x.set(0, i, i == kHot ? kX : 0u);
    w.set(0, i, kW);
  }
  const std::unique_ptr<Expectation> want = fam.expect(c, b);
  HostTensor& y = b.tensor(RmsNormTensors::kOutput);
  for (std::int64_t i = 0; i < kHidden; ++i) y.set(0, i, i == kHot ? hot_bits : 0u);
  Verdict v;
  want->compare(FlatBound(ulps), b, Expectation::Mode::kBounded, &v);
  return v;
}

TEST(BoundCompareTest, TheTieOfAValueJustBelowAMidpointFailsAHalfUlpBound) {
  const Verdict v = judge(kTie, 0.5);
  ASSERT_TRUE(v.failed()) << "0x4282 for 64.74999999999999999988 passed a 0.5-ulp bound";
  EXPECT_EQ(v.worst.col, kHot);
  EXPECT_EQ(v.worst.observed.substr(0, 6), "0x4282");
  EXPECT_EQ(v.worst.expected_rounded.substr(0, 6), "0x4281");
  // The reported error is the double ulp_error() returns: exactly 0.5, which is why the
  // comparison cannot be made on it.
  EXPECT_EQ(v.worst.ulp_error, 0.5);
  EXPECT_EQ(v.worst.expected_exact.substr(0, 22), "6.47499999999999999998")
      << v.worst.expected_exact;
}

TEST(BoundCompareTest, TheCorrectRoundingAndAWiderBoundPass) {
  const Verdict ok = judge(kCorrect, 0.5);
  EXPECT_FALSE(ok.failed()) << ok.message;
  EXPECT_EQ(ok.stats.exact, ok.stats.elements);
  // The next double above 0.5 is above the exact error (0.5 + 2.3e-19): within.
  const Verdict wider = judge(kTie, 0.5000000000000001);
  EXPECT_FALSE(wider.failed()) << wider.message;
  EXPECT_EQ(wider.stats.max_ulp, 0.5);
}

}  // namespace
}  // namespace kc::props
