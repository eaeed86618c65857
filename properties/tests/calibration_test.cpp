// Calibration: a harness that cannot fail a wrong kernel is broken.
//  - Every mutant (mutants.h) is caught by its stated property within its stated number of cases
//    (kExpect, derived below); the table printed says after how many cases, with a fixed seed so
//    the counts are reproducible.
//  - The control (the mutants' code with no defect) passes every property, for every profile:
//    a catch is the defect's doing, not the harness's.
// Host mutants run in the default CPU suite; GPU mutants under the gpu label.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "kc/props/device.h"
#include "kc/props/mutants.h"
#include "kc/props/property.h"

namespace kc::props {
namespace {

// For each defect: the property that must catch it and within how many cases. The limits are
// derived, not tuned: scripts/calibration_limits.py computes, from the generator's weights and
// RapidCheck's size schedule, the case count by which the property catches the defect with
// probability 0.999 (each defect shows only on some cases: a hidden size, a stride, a batch
// size, a dtype). The test runs the property with exactly that many cases.
struct Expect {
  PropertyId property;
  int max_cases;
  const char* exposed_by;
};
const std::map<std::string, Expect> kExpect = {
    {"fp16_accumulation", {PropertyId::kBoundedError, 18, "fp32 rows of more than 4 elements"}},
    {"eps_outside_sqrt", {PropertyId::kBoundedError, 18, "rows with eps = 2^-7"}},
    {"legacy_mixed_as_fp32_sum",
     {PropertyId::kBoundedError, 15, "16-bit normal rows whose sums need extra bits"}},
    {"rounded_sum_as_fp32_sum", {PropertyId::kBoundedError, 15, "as above"}},
    {"single_rounding_as_hf", {PropertyId::kBoundedError, 32, "16-bit normal rows > 512 long"}},
    {"missing_tail", {PropertyId::kBoundedError, 14, "hidden % 8 != 0, out of place"}},
    {"row_stride_ignored", {PropertyId::kBoundedError, 14, "two rows and a padded stride"}},
    {"out_of_bounds_write", {PropertyId::kBoundedError, 1, "every case"}},
    {"last_element_above_8000", {PropertyId::kBoundedError, 84, "hidden > 8000"}},
    {"noop_at_hidden_256", {PropertyId::kBoundedError, 520, "hidden == 256, one edge of ~35"}},
    {"check_accepts_too_large",
     {PropertyId::kSupportAgrees, 111, "65536 < hidden <= 131072 (unsupported sizes drawn)"}},
    {"batch_dependent_lanes",
     {PropertyId::kBatchInvariant, 110, "fp32 rows moved into a batch of 257"}},
};

void calibrate(Backend backend) {
  std::printf("%-36s %-16s %6s %6s %8s  %s\n", "mutant", "caught by", "cases", "limit", "shrink_s",
              "failure");
  int mutants = 0;
  for (const auto& s : subjects()) {
    if (s->defect().empty() || s->backend() != backend) continue;
    ++mutants;
    const auto it = kExpect.find(s->defect());
    ASSERT_NE(it, kExpect.end()) << "no stated limit for " << s->defect();
    const Expect& e = it->second;
    CheckConfig cfg;
    cfg.budget = budget_for(e.property, *s, "quick");
    cfg.budget.cases = e.max_cases;
    cfg.budget.shrink_seconds = 10;
    cfg.seed = 20260101;
    cfg.write_repro = false;
    const CheckResult r = check_property(e.property, *s, cfg);
    std::printf("%-36s %-16s %6s %6d %8.2f  %.90s\n", s->name().c_str(), property_name(e.property),
                r.passed ? "-" : std::to_string(r.cases).c_str(), e.max_cases, r.shrink_seconds,
                r.passed ? "NOT CAUGHT" : r.failure.message.c_str());
    EXPECT_FALSE(r.passed) << s->name() << " passed " << e.max_cases << " cases of "
                           << property_name(e.property) << " (exposed by " << e.exposed_by
                           << "): the harness cannot see its defect";
  }
  EXPECT_GE(mutants, backend == Backend::kHost ? 10 : 5);
}

TEST(CalibrationTest, EveryHostMutantIsCaught) { calibrate(Backend::kHost); }

TEST(CalibrationTest, EveryGpuMutantIsCaughtOnTheGpu) {
  if (!gpu_available()) GTEST_SKIP() << "no GPU";
  calibrate(Backend::kGpu);
}

// The mutants' code without a defect passes every property for every profile.
TEST(CalibrationTest, ControlPassesEverything) {
  for (const char* profile :
       {"rmsnorm.fp32", "rmsnorm.hf", "rmsnorm.gemma", "fused_add_rmsnorm.fp32_sum",
        "fused_add_rmsnorm.hf", "fused_add_rmsnorm.fp32_sum_hf_cast", "fused_add_rmsnorm.gemma"}) {
    const std::unique_ptr<Subject> control = make_control(profile);
    for (int i = 0; i < kPropertyCount; ++i) {
      const auto p = static_cast<PropertyId>(i);
      std::string why;
      if (!property_applies(p, *control, &why)) continue;
      CheckConfig cfg;
      cfg.budget = budget_for(p, *control, "quick");
      cfg.budget.cases = 60;
      cfg.seed = 20260101;
      cfg.write_repro = false;
      const CheckResult r = check_property(p, *control, cfg);
      EXPECT_TRUE(r.passed) << control->name() << " " << property_name(p) << ": "
                            << r.failure.message;
    }
  }
}

}  // namespace
}  // namespace kc::props
