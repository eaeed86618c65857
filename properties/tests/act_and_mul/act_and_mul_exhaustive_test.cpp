// Every 16-bit gate through kconform's act_and_mul twin and the family's comparison (the same
// path `kconform check` takes: materialised buffers, the twin subject, the family's expectation
// against the exact profile with the subject's derived bound):
//  - torch profiles with u = 1: y = rn(act(g)), which must equal the exact profile's bits for
//    every fp16 and bf16 gate (the "100 % correctly rounded");
//  - every profile with ups drawn from a fixed stream (every gate once each, two ups per gate
//    across the two rows): within the derived bound, and the count of outputs that differ from the
//    exact profile's correct rounding printed.
// One test per (dtype, activation) so ctest spreads them over the cores.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "kc/props/act_and_mul.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

constexpr std::int64_t kGates = 65536;

struct Param {
  DType dtype;
  const char* act;
};

class ActExhaustiveTest : public ::testing::TestWithParam<Param> {};

// Runs `subject` on one case whose rows hold every gate pattern with the given ups; returns the
// verdict of the family's comparison and the outputs that differ from the exact profile's bits.
Verdict run_all_gates(const Subject& s, DType dtype, bool unit_ups, std::int64_t* differing) {
  Case c = act_case(s.profile(), dtype, 2, kGates, 7);
  CaseBuffers b = materialize(c);
  HostTensor& in = b.tensor(ActAndMulTensors::kInput);
  DataRng rng(11);
  const std::uint32_t one = dtype == DType::kBf16 ? 0x3f80u : 0x3c00u;
  for (std::int64_t r = 0; r < 2; ++r) {
    for (std::int64_t j = 0; j < kGates; ++j) {
      in.set(r, j, static_cast<std::uint32_t>(r == 0 ? j : (j * 40503) & 0xffff));
      // Ups: 1, or a 16-bit pattern of magnitude below 2^8 (no overflow of act(g) u, so every
      // element is judged by the bound, none by the special-value rules' exact match).
      std::uint32_t u = one;
      if (!unit_ups) {
        u = static_cast<std::uint32_t>(rng.next() & 0xffff);
        if (dtype == DType::kBf16) u &= 0x83ffu, u |= 0x3c00u;  // |u| in [2^-7, 2^1)
        if (dtype == DType::kFp16) u &= 0x87ffu, u |= 0x3000u;  // |u| in [2^-3, 2^1)
      }
      in.set(r, kGates + j, u);
    }
  }
  const Family& fam = *family_for(c.op);
  const CaseBuffers before = b;
  const std::unique_ptr<Expectation> want = fam.expect(c, before);
  const Status st = s.run(c, {b.tensor(0).data(), b.tensor(1).data()}, nullptr);
  Verdict v;
  if (!st.is_ok()) {
    v.kind = Verdict::Kind::kFail;
    v.message = "run: " + st.to_string();
    return v;
  }
  want->compare(s, b, Expectation::Mode::kBounded, &v);
  if (v.kind == Verdict::Kind::kPass) want->compare(s, b, Expectation::Mode::kSpecial, &v);
  *differing = static_cast<std::int64_t>(v.stats.elements - v.stats.exact);
  return v;
}

TEST_P(ActExhaustiveTest, TorchWithUnitUpsIsCorrectlyRoundedForEveryGate) {
  const Param p = GetParam();
  const std::string name = std::string("kc.twin.act_and_mul.") + p.act + ".torch";
  const Subject* s = find_subject(name);
  ASSERT_NE(s, nullptr) << name;
  std::int64_t differing = -1;
  const Verdict v = run_all_gates(*s, p.dtype, /*unit_ups=*/true, &differing);
  EXPECT_EQ(v.kind, Verdict::Kind::kPass) << v.message;
  EXPECT_EQ(differing, 0) << "outputs rn(act(g)) that are not the correct rounding";
  std::printf("%s %s u=1: %lld of %lld judged outputs differ from the correct rounding\n",
              name.c_str(), dtype_name(p.dtype), static_cast<long long>(differing),
              static_cast<long long>(v.stats.elements));
}

TEST_P(ActExhaustiveTest, BothProfilesWithinTheirBoundForEveryGate) {
  const Param p = GetParam();
  for (const char* rounding : {"single", "torch"}) {
    const std::string name = std::string("kc.twin.act_and_mul.") + p.act + "." + rounding;
    const Subject* s = find_subject(name);
    ASSERT_NE(s, nullptr) << name;
    std::int64_t differing = -1;
    const Verdict v = run_all_gates(*s, p.dtype, /*unit_ups=*/false, &differing);
    EXPECT_EQ(v.kind, Verdict::Kind::kPass) << name << ": " << v.message;
    std::printf(
        "%s %s: %lld of %lld judged outputs differ from the correct rounding, max %.4f ulp\n",
        name.c_str(), dtype_name(p.dtype), static_cast<long long>(differing),
        static_cast<long long>(v.stats.elements), v.stats.max_ulp);
  }
}

INSTANTIATE_TEST_SUITE_P(Gates, ActExhaustiveTest,
                         ::testing::Values(Param{DType::kBf16, "silu"}, Param{DType::kBf16, "gelu"},
                                           Param{DType::kBf16, "gelu_tanh"},
                                           Param{DType::kFp16, "silu"}, Param{DType::kFp16, "gelu"},
                                           Param{DType::kFp16, "gelu_tanh"}),
                         [](const ::testing::TestParamInfo<Param>& i) {
                           return std::string(dtype_name(i.param.dtype)) + "_" + i.param.act;
                         });

}  // namespace
}  // namespace kc::props
