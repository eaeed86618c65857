// The RapidCheck driver (check.h): budgets, the shrink cap, repros, statistics per bucket.
#include "kc/props/check.h"

#include <rapidcheck.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>

#include "driver.h"
#include "kc/props/device.h"
#include "kc/props/family.h"
#include "kc/props/generators.h"
#include "kc/props/repro.h"

namespace kc::props {
namespace {

struct DriverState {
  using Clock = std::chrono::steady_clock;
  bool shrinking = false;
  Clock::time_point shrink_start;
  double shrink_cap = 30;
  bool capped = false;
  bool context_lost = false;  // a case lost the CUDA context: later candidates cannot run
  int generated = 0;          // generated cases so far (the hooks' index)
  int cases = 0;
  int not_applicable = 0;
  std::optional<Case> last_failing;
  Verdict last_verdict;
  PrecisionStats stats;
  std::map<std::string, PrecisionStats> buckets;
  bool over() const {
    return shrinking &&
           std::chrono::duration<double>(Clock::now() - shrink_start).count() > shrink_cap;
  }
};

class Listener : public rc::detail::TestListener {
 public:
  explicit Listener(DriverState* st) : st_(st) {}
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    if (!st_->shrinking && d.result.type == rc::detail::CaseResult::Type::Failure) {
      st_->shrinking = true;
      st_->shrink_start = DriverState::Clock::now();
    }
  }
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}

 private:
  DriverState* st_;
};

// RapidCheck prints "Using configuration: seed=..." when it first reads its configuration (the
// RC_PARAMS environment variable): not kconform's seed, and misleading next to it. The driver
// passes every parameter itself, so the configuration is read once here with stderr silenced.
void read_rapidcheck_configuration_quietly() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::fflush(stderr);
    const int saved = dup(2);
    const int null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0) dup2(null, 2);
    (void)rc::detail::configuration();
    std::fflush(stderr);
    if (saved >= 0) {
      dup2(saved, 2);
      close(saved);
    }
    if (null >= 0) close(null);
  });
}

std::string tokens_tag(std::int64_t n) {
  return n == 0 ? "tokens=0" : n == 1 ? "tokens=1" : n <= 128 ? "tokens<=128" : "tokens>128";
}

}  // namespace

Budget budget_for(PropertyId p, const Subject& s, const std::string& level) {
  Budget b;
  const bool soak = level == "soak";
  const bool gpu = s.backend() == Backend::kGpu;
  // Reference-checking properties compare with the profile's exact values, which cost far more
  // than the purely bitwise checks: they get fewer, smaller cases (120 quick, 2000 soak), times
  // the family's reference_budget_scale(): what its comparison affords in about that time (the
  // norm family's certified fast path affords ten times the cases its exact evaluation ran).
  const bool reference = reference_property(p);
  const Family* fam = family_for(s.op());
  const int ref_scale = reference && fam != nullptr ? fam->reference_budget_scale() : 1;
  b.cases = (soak ? 2000 : reference ? 120 : 150) * ref_scale * s.budget_scale();
  b.max_elements = soak        ? (std::int64_t{1} << 20)
                   : reference ? (std::int64_t{1} << 15)
                               : (std::int64_t{1} << 16);
  if (gpu && !reference) b.max_elements *= 4;
  b.max_size = 100;
  b.shrink_seconds = soak ? 120 : 30;
  return b;
}

CheckResult check_property(PropertyId p, const Subject& s, const CheckConfig& cfg) {
  if (cfg.isolation == Isolation::kChildProcess) return check_property_isolated(p, s, cfg);
  return drive_property(p, s, cfg, nullptr);
}

CheckResult drive_property(PropertyId p, const Subject& s, const CheckConfig& cfg,
                           const DriverHooks* hooks) {
  read_rapidcheck_configuration_quietly();
  CheckResult result;
  result.seed = cfg.seed != 0 ? cfg.seed : std::random_device{}() * 0x100000001ull + 1;
  const Family* fam = family_for(s.op());
  if (fam == nullptr) {
    result.passed = false;
    result.failure.kind = Verdict::Kind::kFail;
    result.failure.message = "no op family defines op '" + s.op() + "' (subject " + s.name() + ")";
    return result;
  }
  DriverState st;
  st.shrink_cap = cfg.budget.shrink_seconds;
  GenOptions go;
  go.max_elements = cfg.budget.max_elements;
  go.specials = p == PropertyId::kSpecialValues;
  go.unsupported = p == PropertyId::kSupportAgrees || p == PropertyId::kEmptyBatch;
  // Empty batches only for subjects that promise to handle them (the empty_batch property is
  // where that promise is tested); a subject that does not is not asked for them elsewhere.
  go.empty_batches = !reference_property(p) && s.promises().empty_batch;
  go.dtypes = cfg.dtypes;
  const rc::Gen<Case> gen = gen_case(s, go);
  const auto start = DriverState::Clock::now();
  auto testable = [&] {
    const Case c = *gen;
    if (st.over()) {
      st.capped = true;
      return;  // past the shrink cap: every further candidate passes, the last failure stands
    }
    // A lost CUDA context fails every later call: the case that lost it stands, unshrunk.
    if (st.context_lost) return;
    const std::string bucket = fam->bucket(c);
    if (cfg.verbose) {
      RC_TAG(dtype_name(c.dtype), bucket, tokens_tag(c.num_tokens));
      RC_CLASSIFY(!c.injections.empty(), "special values injected");
    }
    const int index = st.shrinking ? -1 : st.generated;
    if (hooks != nullptr && hooks->before) hooks->before(c, index);
    bool ran = true;
    const Verdict v = hooks != nullptr && hooks->run ? hooks->run(c, index, &ran)
                                                     : run_property(p, s, c, cfg.judged);
    if (hooks != nullptr && hooks->after) hooks->after(v);
    if (s.backend() == Backend::kGpu && cuda_context_lost()) st.context_lost = true;
    if (!st.shrinking) {
      ++st.generated;
      if (ran) ++st.cases;
      if (ran && v.kind == Verdict::Kind::kNotApplicable) ++st.not_applicable;
      if (v.kind == Verdict::Kind::kPass && v.stats.rows > 0) {
        st.stats.merge(v.stats);
        st.buckets[std::string(dtype_name(c.dtype)) + " " + bucket].merge(v.stats);
      }
    }
    if (cfg.verbose) RC_CLASSIFY(v.kind == Verdict::Kind::kNotApplicable, "not applicable");
    if (v.failed()) {
      st.last_failing = c;
      st.last_verdict = v;
      RC_FAIL(v.message);
    }
  };
  rc::detail::TestParams params;
  params.seed = result.seed;
  params.maxSuccess = cfg.budget.cases;
  params.maxSize = cfg.budget.max_size;
  params.maxDiscardRatio = 10;
  rc::detail::TestMetadata meta;
  meta.id = s.name() + "/" + property_name(p);
  meta.description = meta.id;
  Listener listener(&st);
  const rc::detail::TestResult r =
      rc::detail::checkProperty(rc::detail::toProperty(testable), meta, params, listener);
  const auto end = DriverState::Clock::now();
  result.seconds = std::chrono::duration<double>(end - start).count();
  result.cases = st.cases;
  result.not_applicable = st.not_applicable;
  result.stats = st.stats;
  result.buckets.assign(st.buckets.begin(), st.buckets.end());
  rc::detail::SuccessResult success;
  if (r.match(success)) {
    for (const auto& [tags, n] : success.distribution) {
      std::string line;
      for (const std::string& t : tags) line += (line.empty() ? "" : ", ") + t;
      result.distribution.emplace_back(line, n);
    }
    // A pass in which no case applied tested nothing: said as a failure, never as conformance.
    if (result.cases > 0 && result.not_applicable == result.cases) {
      result.passed = false;
      result.failure.kind = Verdict::Kind::kFail;
      result.failure.message = "not tested: none of the " + std::to_string(result.cases) +
                               " cases applied (each unsupported by the subject or outside the "
                               "property); this pair cannot conform vacuously";
    }
    return result;
  }
  result.passed = false;
  if (st.shrinking) {
    result.shrink_seconds = std::chrono::duration<double>(end - st.shrink_start).count();
  }
  if (st.last_failing) {
    result.counterexample = st.last_failing;
    result.failure = st.last_verdict;
    if (st.capped) result.failure.message += " [shrinking stopped at its wall-clock cap]";
    if (st.context_lost) {
      result.failure.message +=
          " [the CUDA context was lost (a sticky error): shrinking stopped at the case that lost "
          "it]";
    }
    if (cfg.write_repro) {
      result.repro_path = write_repro(cfg.repro_dir, s, p, *result.counterexample, result.failure);
    }
  } else {
    rc::detail::GaveUpResult gave_up;
    rc::detail::Error err;
    if (r.match(gave_up)) result.failure.message = "gave up: " + gave_up.description;
    if (r.match(err)) result.failure.message = "RapidCheck error: " + err.description;
    result.failure.kind = Verdict::Kind::kFail;
  }
  return result;
}

results::PairRecord pair_record(const Subject& s, PropertyId p, const CheckResult& r) {
  results::PairRecord o;
  o.subject = s.name();
  const Family* fam = family_for(s.op());
  o.family = fam != nullptr ? fam->name() : "";
  o.op = s.op();
  o.profile = s.profile();
  o.backend = s.backend() == Backend::kGpu ? "gpu" : "host";
  o.defect = s.defect();
  o.property = property_name(p);
  o.passed = r.passed;
  o.cases = r.cases;
  o.not_applicable = r.not_applicable;
  o.seconds = r.seconds;
  o.seeds.push_back(std::to_string(r.seed));
  if (!r.repro_path.empty()) o.repros.push_back(r.repro_path);
  if (!r.passed) {
    o.has_failure = true;
    o.failure.message = r.failure.message;
    // How the pair's child process ended, where that is not the shrunk case's own message.
    if (!r.crash.empty() && r.failure.message.rfind(r.crash, 0) != 0) {
      o.failure.message += " [the pair's process: " + r.crash + "]";
    }
    o.failure.observed = r.failure.worst.observed;
    o.failure.expected_rounded = r.failure.worst.expected_rounded;
    o.failure.ulp_error = r.failure.worst.ulp_error;
    o.failure.bound = r.failure.worst.bound;
    if (r.counterexample) o.failure.case_text = describe(*r.counterexample);
  }
  for (const auto& [key, stats] : r.buckets) {
    results::BucketRecord b;
    const std::size_t sp = key.find(' ');
    b.dtype = key.substr(0, sp);
    b.bucket = key.substr(sp + 1);
    b.stats = stats;
    o.precision.push_back(std::move(b));
  }
  return o;
}

}  // namespace kc::props
