// Isolated runs (check.h, Isolation::kChildProcess): a subject that writes far outside its
// arenas, aborts or hangs fails its pair with the case that did it, shrunk in fresh processes,
// written as a repro that replays the same failure; the process running the check survives. A
// passing or ordinarily failing pair gives the same result isolated as in process.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "kc/props/check.h"
#include "kc/props/device.h"
#include "kc/props/repro.h"
#include "kc/props/rmsnorm.h"

namespace kc::props {
namespace {

std::string repro_dir() {
  const std::string d = ::testing::TempDir() + "kc_isolation_" + std::to_string(getpid());
  std::filesystem::create_directories(d);
  return d;
}

CheckConfig isolated(PropertyId p, const Subject& s) {
  CheckConfig cfg;
  cfg.budget = budget_for(p, s, "quick");
  cfg.budget.shrink_seconds = 20;
  cfg.seed = 7;
  cfg.repro_dir = repro_dir();
  cfg.isolation = Isolation::kChildProcess;
  return cfg;
}

const Subject& subject(const char* name) {
  const Subject* s = find_subject(name);
  if (s == nullptr) ADD_FAILURE() << "no subject " << name;
  return *s;
}

bool has(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

TEST(IsolationTest, AWildWriteFailsThePairWithTheSmallestBatchThatCrashes) {
  const Subject& s = subject("test.host.wild_write");
  const CheckResult r =
      check_property(PropertyId::kDeterministic, s, isolated(PropertyId::kDeterministic, s));
  EXPECT_FALSE(r.passed);
  // The child died of the fault in the guard zone, attributed to the output's arena.
  EXPECT_TRUE(has(r.crash, "crashed: SIGSEGV at output@byte")) << r.crash;
  EXPECT_TRUE(has(r.crash, "past the end of its arena")) << r.crash;
  ASSERT_TRUE(r.counterexample.has_value());
  // Shrunk in fresh processes to the smallest case that still crashes: 3 tokens of 1 element.
  EXPECT_EQ(r.counterexample->num_tokens, 3) << describe(*r.counterexample);
  EXPECT_EQ(norm_hidden(*r.counterexample), 1) << describe(*r.counterexample);
  EXPECT_TRUE(has(r.failure.message, "crashed: SIGSEGV at output@byte")) << r.failure.message;
  // The repro replays (in a child) to the same failure, and this process is still here.
  ASSERT_FALSE(r.repro_path.empty());
  Repro rp;
  std::string err;
  ASSERT_TRUE(read_repro(r.repro_path, &rp, &err)) << err;
  const Verdict v = run_property_isolated(PropertyId::kDeterministic, s, rp.c, "", 60);
  EXPECT_TRUE(v.failed());
  EXPECT_EQ(v.message, rp.message);
}

TEST(IsolationTest, AWriteAtTheFirstByteOfTheGuardZoneFaults) {
  const Subject& s = subject("test.host.first_byte_past");
  const Case c = norm_case("rmsnorm.fp32", DType::kFp16, 3, 100);
  const Verdict v = run_property_isolated(PropertyId::kBoundedError, s, c, "", 60);
  EXPECT_TRUE(v.failed());
  EXPECT_TRUE(has(v.message, "crashed: SIGSEGV at output@byte")) << v.message;
  EXPECT_TRUE(has(v.message, "past the end of its arena")) << v.message;
  // In process the same write would corrupt nothing the canaries see: it is the guard zone's
  // first byte, right after the last canary.
}

TEST(IsolationTest, AnAbortFailsThePairWithTheSmallestRowThatAborts) {
  const Subject& s = subject("test.host.abort");
  const CheckResult r =
      check_property(PropertyId::kDeterministic, s, isolated(PropertyId::kDeterministic, s));
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(has(r.crash, "crashed: SIGABRT")) << r.crash;
  ASSERT_TRUE(r.counterexample.has_value());
  EXPECT_EQ(r.counterexample->dtype, DType::kBf16);
  EXPECT_EQ(norm_hidden(*r.counterexample), 1001) << describe(*r.counterexample);
  EXPECT_EQ(r.counterexample->num_tokens, 1) << describe(*r.counterexample);
}

TEST(IsolationTest, AHangIsKilledAfterTheCaseLimitAndFailsThePair) {
  const Subject& s = subject("test.host.hang");
  CheckConfig cfg = isolated(PropertyId::kDeterministic, s);
  cfg.case_seconds = 0.2;
  const CheckResult r = check_property(PropertyId::kDeterministic, s, cfg);
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(has(r.crash, "hung: the case ran for more than 0.2 s")) << r.crash;
  ASSERT_TRUE(r.counterexample.has_value());
  EXPECT_EQ(r.counterexample->num_tokens, 2) << describe(*r.counterexample);
  EXPECT_EQ(norm_hidden(*r.counterexample), 2) << describe(*r.counterexample);
}

// Isolation changes nothing for subjects that behave: the same cases, counts and statistics for a
// passing pair, the same shrunk case and message for a failing one.
TEST(IsolationTest, ResultsAreTheSameIsolatedAndInProcess) {
  for (const char* name : {"kc.twin.rmsnorm.hf", "mutant.missing_tail"}) {
    const Subject& s = subject(name);
    CheckConfig cfg = isolated(PropertyId::kBoundedError, s);
    cfg.budget.cases = 15;
    cfg.write_repro = false;
    const CheckResult a = check_property(PropertyId::kBoundedError, s, cfg);
    cfg.isolation = Isolation::kInProcess;
    const CheckResult b = check_property(PropertyId::kBoundedError, s, cfg);
    EXPECT_EQ(a.passed, b.passed) << name;
    EXPECT_EQ(a.cases, b.cases) << name;
    EXPECT_EQ(a.not_applicable, b.not_applicable) << name;
    EXPECT_EQ(a.stats.elements, b.stats.elements) << name;
    EXPECT_EQ(a.stats.max_ulp, b.stats.max_ulp) << name;
    EXPECT_EQ(a.buckets.size(), b.buckets.size()) << name;
    EXPECT_EQ(a.failure.message, b.failure.message) << name;
    EXPECT_EQ(a.counterexample.has_value(), b.counterexample.has_value()) << name;
    if (a.counterexample && b.counterexample) {
      EXPECT_EQ(describe(*a.counterexample), describe(*b.counterexample)) << name;
    }
    EXPECT_TRUE(a.crash.empty()) << a.crash;
  }
}

// The process that runs isolated pairs never initialises CUDA (its children could not use it).
TEST(IsolationTest, GpuDetectionLeavesThisProcessWithoutCuda) {
  (void)gpu_available();
  EXPECT_FALSE(cuda_initialized_here());
}

}  // namespace
}  // namespace kc::props
