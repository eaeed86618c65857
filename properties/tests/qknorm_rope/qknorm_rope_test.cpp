// The qknorm_rope family through the harness (the path `kconform check` takes: materialised
// buffers, subjects, the family's expectation against ref::evaluate):
//  - the twin of qknorm_rope.exact within the derived bound at the positions (0, 1,
//    2^15, 131071, 2^24 - 1, 2^24, int64 2^40 + 3 and 2^62 + 5), both pairings, full and partial
//    rotary, YaRN on and off, int32 and int64 positions, in place and out of place; per position
//    bucket the fraction of outputs correctly rounded and the largest ulp error are printed and
//    asserted (16-bit: >= 99.9 % and < 1 ulp);
//  - the control passes every property on a fixed case; every host mutant fails bounded_error
//    (or support_agrees) on a case that shows its defect: the comparison can see each defect;
//  - v heads: untouched in place, copied out of place (a subject that writes them is caught);
//  - the positions tensor is packed: a padded one is unsupported (kconform's API takes a flat
//    array), and the generator never pads it.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "kc/props/buffers.h"
#include "kc/props/check.h"
#include "kc/props/family.h"
#include "kc/props/generators.h"
#include "kc/props/property.h"
#include "kc/props/qknorm_rope.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

const char* const kExact = "qknorm_rope.exact";

QkShape shape(std::int64_t hd, std::int64_t rd, RopePairing pairing, std::int64_t pos_max) {
  QkShape s;
  s.head_dim = hd;
  s.rotary_dim = rd;
  s.pairing = pairing;
  s.pos_max = pos_max;
  return s;
}

TEST(QkNormRopeHarnessTest, TwinWithinDerivedBoundAtEveryPosition) {
  const Subject* twin = find_subject("kc.twin.qknorm_rope.exact");
  ASSERT_NE(twin, nullptr);
  const std::int64_t positions[] = {0,
                                    1,
                                    1 << 15,
                                    131071,
                                    (1 << 24) - 1,
                                    1 << 24,
                                    (std::int64_t{1} << 40) + 3,
                                    (std::int64_t{1} << 62) + 5};
  std::map<std::string, results::PrecisionStats> by_bucket;  // "dtype bucket"
  std::uint64_t seed = 1;
  for (DType dt : {DType::kBf16, DType::kFp16, DType::kFp32}) {
    for (std::int64_t p : positions) {
      for (int variant = 0; variant < 4; ++variant) {
        const RopePairing pairing = variant % 2 ? RopePairing::kInterleaved : RopePairing::kNeox;
        QkShape s = shape(variant < 2 ? 128 : 80, variant < 2 ? 128 : 40, pairing, p);
        s.pos_mode = QkPositionMode::kRepeated;  // every token at p (or p - 1)
        s.position_type = p < (std::int64_t{1} << 31) && variant == 1 ? PositionType::kInt32
                                                                      : PositionType::kInt64;
        if (variant == 3) s.yarn = QkRopeYarn{4.0f, 2.0f, 24.0f, 1.3f};
        if (variant == 2) s.base = 1e4;
        Case c = qk_case(kExact, dt, 2, s, ++seed);
        c.tensors[QkNormRopeTensors::kOutput].in_place = variant == 2;
        const Verdict v = run_property(PropertyId::kBoundedError, *twin, c);
        ASSERT_FALSE(v.failed()) << describe_failure(*twin, PropertyId::kBoundedError, c, v);
        ASSERT_EQ(v.kind, Verdict::Kind::kPass) << v.message;
        const std::string key = std::string(dtype_name(dt)) + " " + family_for(c.op)->bucket(c);
        by_bucket[key].merge(v.stats);
      }
    }
  }
  std::printf("%-18s %9s %12s %9s\n", "dtype bucket", "outputs", "correct %", "max ulp");
  for (const auto& [key, st] : by_bucket) {
    const double pct = 100.0 * static_cast<double>(st.exact) / static_cast<double>(st.elements);
    std::printf("%-18s %9lld %12.4f %9.4f\n", key.c_str(), static_cast<long long>(st.elements), pct,
                st.max_ulp);
    ASSERT_GT(st.elements, 0);
    if (key.rfind("fp32", 0) != 0) {
      EXPECT_GE(pct, 99.9) << key;
      EXPECT_LT(st.max_ulp, 1.0) << key;
    } else {
      EXPECT_LT(st.max_ulp, 0.5 + 14.0) << key;  // 0.5 + 2^3.8
    }
  }
}

TEST(QkNormRopeHarnessTest, ControlPassesEveryProperty) {
  const Subject* control = find_subject("control.qknorm_rope.exact");
  ASSERT_NE(control, nullptr);
  QkShape s = shape(96, 48, RopePairing::kNeox, 131071);
  s.yarn = QkRopeYarn{4.0f, 1.0f, 16.0f, 1.3f};
  const Case c = qk_case(kExact, DType::kBf16, 5, s, 3);
  for (int i = 0; i < kPropertyCount; ++i) {
    const auto p = static_cast<PropertyId>(i);
    const Verdict v = run_property(p, *control, c);
    EXPECT_FALSE(v.failed()) << describe_failure(*control, p, c, v);
  }
}

// A case that shows every defect but the check's: 16-bit, partial NeoX rotary with YaRN's
// attention factor, k heads, positions above 2^26, weights not ones.
TEST(QkNormRopeHarnessTest, EveryHostMutantFailsOnACaseShowingItsDefect) {
  QkShape s = shape(64, 32, RopePairing::kNeox, (std::int64_t{1} << 40) + 12345);
  s.yarn = QkRopeYarn{4.0f, 1.0f, 16.0f, 1.3f};
  s.nq = 2;
  s.nk = 2;
  s.nv = 1;
  const Case c = qk_case(kExact, DType::kBf16, 4, s, 9);
  int mutants = 0;
  for (const auto& sub : subjects()) {
    if (sub->op() != kQkFamily || sub->defect().empty()) continue;
    ++mutants;
    Case d = c;
    PropertyId p = PropertyId::kBoundedError;
    if (sub->calibration().caught_by == "support_agrees") {
      p = PropertyId::kSupportAgrees;
      d.set_int("rotary_dim", 31);
    }
    const Verdict v = run_property(p, *sub, d);
    EXPECT_TRUE(v.failed()) << sub->name() << " passed " << property_name(p) << ": " << v.message;
    if (v.failed()) std::printf("%-34s caught: %.100s\n", sub->name().c_str(), v.message.c_str());
  }
  EXPECT_GE(mutants, 10);
}

// A subject that writes v heads (scales them by 1 + 2^-7) is caught, in place and out of place.
class VHeadWriter : public Subject {
 public:
  std::string name() const override { return "test.v_head_writer"; }
  std::string op() const override { return kQkFamily; }
  std::string profile() const override { return kExact; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override { return {}; }
  Status check(const Case& c) const override {
    return find_subject("kc.twin.qknorm_rope.exact")->check(c);
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t s) const override {
    KC_RETURN_IF_ERROR(find_subject("kc.twin.qknorm_rope.exact")->run(c, p, s));
    const QkNormRopeArgs a = qknorm_rope_args(c, p);
    auto* y =
        static_cast<std::uint16_t*>(a.output != nullptr ? a.output : const_cast<void*>(a.qkv));
    const std::int64_t stride = a.output != nullptr ? a.output_stride : a.qkv_stride;
    const std::int64_t v0 = (a.num_q_heads + a.num_k_heads) * a.head_dim;
    for (std::int64_t t = 0; t < a.num_tokens; ++t) y[t * stride + v0] ^= 1u;
    return Status::ok();
  }
};

TEST(QkNormRopeHarnessTest, VHeadsAreComparedBitForBit) {
  const VHeadWriter w;
  for (bool in_place : {false, true}) {
    Case c = qk_case(kExact, DType::kBf16, 3, shape(64, 64, RopePairing::kNeox, 1000), 4);
    c.tensors[QkNormRopeTensors::kOutput].in_place = in_place;
    const Verdict v = run_property(PropertyId::kBoundedError, w, c);
    EXPECT_TRUE(v.failed()) << "in_place " << in_place;
    const Verdict t =
        run_property(PropertyId::kBoundedError, *find_subject("kc.twin.qknorm_rope.exact"), c);
    EXPECT_EQ(t.kind, Verdict::Kind::kPass) << t.message;
  }
}

TEST(QkNormRopeHarnessTest, PositionsArePacked) {
  const Subject* twin = find_subject("kc.twin.qknorm_rope.exact");
  Case c = qk_case(kExact, DType::kFp16, 3, shape(64, 64, RopePairing::kNeox, 1000), 5);
  c.tensors[QkNormRopeTensors::kPositions].row_stride = 2;
  EXPECT_EQ(twin->check(c).code(), StatusCode::kUnsupported);
  EXPECT_EQ(run_property(PropertyId::kSupportAgrees, *twin, c).kind, Verdict::Kind::kPass);
  // The generator never pads a packed tensor, and layout_invariant's other layout keeps it
  // packed (so the property applies to every case the subject supports).
  const Subject* control = find_subject("control.qknorm_rope.exact");
  const rc::Gen<Case> gen = gen_case(*control, GenOptions{});
  int padded_elsewhere = 0;
  for (int k = 0; k < 200; ++k) {
    const Case g = gen(rc::Random(static_cast<std::uint64_t>(k) + 1), 50).value();
    EXPECT_EQ(g.tensors[QkNormRopeTensors::kPositions].row_stride, 1) << describe(g);
    padded_elsewhere += g.tensors[QkNormRopeTensors::kQkv].row_stride > qk_hidden(g);
  }
  EXPECT_GT(padded_elsewhere, 20);  // the other tensors are still padded
  CheckConfig cfg;
  cfg.budget = budget_for(PropertyId::kLayoutInvariant, *control, "quick");
  cfg.budget.cases = 40;
  cfg.seed = 7;
  cfg.write_repro = false;
  const CheckResult r = check_property(PropertyId::kLayoutInvariant, *control, cfg);
  EXPECT_TRUE(r.passed) << r.failure.message;
}

}  // namespace
}  // namespace kc::props
