// Pair selection, accumulation and result files (results.h).
#include "results.h"

#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "kc/props/device.h"

namespace kc::cli {
namespace json = boost::json;
using props::Backend;
using props::Subject;

namespace {

// A subject restricted to some dtypes (--dtype).
class DtypeFilter : public Subject {
 public:
  DtypeFilter(const Subject& s, std::vector<DType> d) : s_(s), d_(std::move(d)) {}
  std::string name() const override { return s_.name(); }
  std::string op() const override { return s_.op(); }
  std::string profile() const override { return s_.profile(); }
  Backend backend() const override { return s_.backend(); }
  std::vector<DType> dtypes() const override { return d_; }
  props::Promises promises() const override { return s_.promises(); }
  props::BoundSpec bound() const override { return s_.bound(); }
  Status check(const props::Case& c) const override { return s_.check(c); }
  Status run(const props::Case& c, const std::vector<void*>& p, cudaStream_t st) const override {
    return s_.run(c, p, st);
  }
  std::string twin() const override { return s_.twin(); }
  std::string defect() const override { return s_.defect(); }

 private:
  const Subject& s_;
  std::vector<DType> d_;
};

}  // namespace

bool select_pairs(const Args& a, Selection* out, std::string* error) {
  const std::string backend = a.value("backend", "auto");
  if (backend != "auto" && backend != "host" && backend != "gpu" && backend != "all") {
    *error = "--backend wants auto, host, gpu or all";
    return false;
  }
  const bool mutants = a.flag("mutants");
  std::vector<props::PropertyId> chosen;
  for (const std::string& p : a.values("property")) {
    props::PropertyId id;
    if (!props::property_from_name(p, &id)) {
      *error = "unknown property '" + p + "'";
      return false;
    }
    chosen.push_back(id);
  }
  if (chosen.empty()) {
    for (int i = 0; i < props::kPropertyCount; ++i)
      chosen.push_back(static_cast<props::PropertyId>(i));
  }
  std::vector<DType> dtypes;
  for (const std::string& d : a.values("dtype")) {
    DType t;
    if (!dtype_from_name(d.c_str(), &t)) {
      *error = "unknown dtype '" + d + "'";
      return false;
    }
    dtypes.push_back(t);
  }
  const std::vector<std::string> names = a.values("subject");
  const std::string op = a.value("op", "");
  const std::string profile = a.value("profile", "");
  const bool gpu_present = props::gpu_available();
  for (const auto& s : props::subjects()) {
    if (!s->defect().empty() && !mutants) continue;
    if (s->peer() && names.empty()) continue;  // peers (FlashInfer) run when named
    if (!names.empty()) {
      bool hit = false;
      for (const std::string& n : names) {
        hit = hit || s->name() == n || s->name().find(n) != std::string::npos;
      }
      if (!hit) continue;
    }
    if (!op.empty() && s->op() != op) continue;
    if (!profile.empty() && s->profile() != profile) continue;
    const bool gpu = s->backend() == Backend::kGpu;
    if (backend == "host" && gpu) continue;
    if (backend == "gpu" && !gpu) continue;
    // auto: our GPU subjects where a GPU is, our twins where not (named subjects always run).
    if (backend == "auto" && names.empty() && s->defect().empty() &&
        s->name().rfind("kc.", 0) == 0 && gpu_present == !gpu) {
      continue;
    }
    const Subject* chosen_subject = s.get();
    if (!dtypes.empty()) {
      out->owned.push_back(std::make_unique<DtypeFilter>(*s, dtypes));
      chosen_subject = out->owned.back().get();
    }
    for (props::PropertyId p : chosen) {
      std::string why;
      if (!props::property_applies(p, *s, &why)) continue;
      if (gpu && !gpu_present) {
        ++out->gpu_skipped;
        continue;
      }
      out->pairs.push_back({chosen_subject, p});
    }
  }
  return true;
}

void Accumulated::add(const props::CheckResult& r) {
  if (runs == 0) {
    result = r;
  } else {
    result.cases += r.cases;
    result.not_applicable += r.not_applicable;
    result.seconds += r.seconds;
    result.stats.merge(r.stats);
    for (const auto& [key, st] : r.buckets) {
      bool merged = false;
      for (auto& [k, s] : result.buckets) {
        if (k == key) {
          s.merge(st);
          merged = true;
        }
      }
      if (!merged) result.buckets.emplace_back(key, st);
    }
    if (result.passed && !r.passed) {
      result.passed = false;
      result.failure = r.failure;
      result.counterexample = r.counterexample;
      result.repro_path = r.repro_path;
      result.seed = r.seed;
    }
  }
  ++runs;
}

}  // namespace kc::cli
