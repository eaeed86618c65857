// Calibration: a harness that cannot fail a wrong kernel is broken. For every registered
// calibration subject of every family:
//  - each mutant is caught by the property it states (Subject::calibration) within its stated
//    number of cases (derived by scripts/calibration_limits.py, never tuned); the table printed
//    says after how many cases, with a fixed seed so the counts are reproducible;
//  - each control (a mutant's code without its defect) passes every property: a catch is the
//    defect's doing, not the harness's.
// Host mutants run in the default CPU suite; GPU mutants under the gpu label.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "kc/props/check.h"
#include "kc/props/device.h"
#include "kc/props/family.h"
#include "kc/props/property.h"

namespace kc::props {
namespace {

constexpr std::uint64_t kSeed = 20260101;

void calibrate(Backend backend) {
  std::printf("%-36s %-16s %6s %6s %8s  %s\n", "mutant", "caught by", "cases", "limit", "shrink_s",
              "failure");
  int mutants = 0;
  for (const auto& s : subjects()) {
    if (s->defect().empty() || s->backend() != backend) continue;
    ++mutants;
    const Calibration cal = s->calibration();
    PropertyId p;
    ASSERT_TRUE(property_from_name(cal.caught_by, &p))
        << s->name() << " states no property that must catch it ('" << cal.caught_by << "')";
    ASSERT_GT(cal.within_cases, 0) << s->name() << " states no case limit";
    CheckConfig cfg;
    cfg.budget = budget_for(p, *s, "quick");
    cfg.budget.cases = cal.within_cases;
    cfg.budget.shrink_seconds = 10;
    cfg.seed = kSeed;
    cfg.write_repro = false;
    const CheckResult r = check_property(p, *s, cfg);
    std::printf("%-36s %-16s %6s %6d %8.2f  %.90s\n", s->name().c_str(), property_name(p),
                r.passed ? "-" : std::to_string(r.cases).c_str(), cal.within_cases,
                r.shrink_seconds, r.passed ? "NOT CAUGHT" : r.failure.message.c_str());
    EXPECT_FALSE(r.passed) << s->name() << " passed " << cal.within_cases << " cases of "
                           << property_name(p) << " (exposed by " << cal.exposed_by
                           << "): the harness cannot see its defect";
  }
  // Every family brings mutants; at least the norm family's are registered.
  EXPECT_GE(mutants, backend == Backend::kHost ? 10 : 5);
}

TEST(CalibrationTest, EveryHostMutantIsCaught) { calibrate(Backend::kHost); }

TEST(CalibrationTest, EveryGpuMutantIsCaughtOnTheGpu) {
  if (!gpu_available()) GTEST_SKIP() << "no GPU";
  calibrate(Backend::kGpu);
}

// The mutants' code without a defect passes every property, for every registered control.
TEST(CalibrationTest, EveryControlPassesEverything) {
  int controls = 0;
  for (const auto& s : subjects()) {
    if (!s->control() || s->backend() != Backend::kHost) continue;
    ++controls;
    for (int i = 0; i < kPropertyCount; ++i) {
      const auto p = static_cast<PropertyId>(i);
      std::string why;
      if (!property_applies(p, *s, &why)) continue;
      CheckConfig cfg;
      cfg.budget = budget_for(p, *s, "quick");
      cfg.budget.cases = 60;
      cfg.seed = kSeed;
      cfg.write_repro = false;
      const CheckResult r = check_property(p, *s, cfg);
      EXPECT_TRUE(r.passed) << s->name() << " " << property_name(p) << ": " << r.failure.message;
    }
  }
  EXPECT_GE(controls, 7);
}

// Every mutant and control names an op some family defines, and a profile of that op.
TEST(CalibrationTest, EveryCalibrationSubjectBelongsToAFamily) {
  for (const auto& s : subjects()) {
    if (!calibration_subject(*s)) continue;
    const Family* fam = nullptr;
    const OpSpec* op = nullptr;
    ASSERT_TRUE(find_profile(s->profile(), &fam, &op)) << s->name();
    EXPECT_EQ(op->name, s->op()) << s->name();
  }
}

}  // namespace
}  // namespace kc::props
