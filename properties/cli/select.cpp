// Selections of (subject, property) pairs (cli.h).
#include <fnmatch.h>

#include <algorithm>

#include "cli.h"
#include "kc/props/device.h"
#include "kc/props/family.h"

namespace kc::cli {

const std::set<std::string> kSelectionOptions = {"subject",  "op",    "profile",
                                                 "property", "dtype", "backend"};

namespace {

bool glob(const std::string& pattern) { return pattern.find_first_of("*?[") != std::string::npos; }

}  // namespace

bool select_pairs(const Args& a, Selection* out, std::string* error) {
  const std::string backend = a.value("backend", "auto");
  if (backend != "auto" && backend != "host" && backend != "gpu" && backend != "all") {
    *error = "--backend " + backend + ": want auto, host, gpu or all";
    return false;
  }
  const bool mutants = a.flag("mutants");
  std::vector<props::PropertyId> chosen;
  for (const std::string& p : a.values("property")) {
    props::PropertyId id;
    if (!props::property_from_name(p, &id)) {
      *error = "--property " + p + ": not a property (kconform check --help lists them)";
      return false;
    }
    chosen.push_back(id);
  }
  if (chosen.empty()) {
    for (int i = 0; i < props::kPropertyCount; ++i) {
      chosen.push_back(static_cast<props::PropertyId>(i));
    }
  }
  for (const std::string& d : a.values("dtype")) {
    DType t;
    if (!dtype_from_name(d.c_str(), &t)) {
      *error = "--dtype " + d + ": want fp32, fp16 or bf16";
      return false;
    }
    out->dtypes.push_back(t);
  }
  const std::vector<std::string> names = a.values("subject");
  const std::string op = a.value("op", "");
  const std::string profile = a.value("profile", "");
  if (!op.empty() && props::find_op(op) == nullptr) {
    *error = "--op " + op + ": no family defines this op (kconform list)";
    return false;
  }
  if (!profile.empty() && !props::find_profile(profile, nullptr, nullptr)) {
    *error = "--profile " + profile + ": no family defines this profile (kconform list)";
    return false;
  }
  // An exact --subject name must name a subject (a typo is an error, not an empty run).
  for (const std::string& n : names) {
    if (!glob(n) && props::find_subject(n) == nullptr) {
      *error = "--subject " + n + ": no such subject (kconform list [--mutants]; globs: *, ?)";
      return false;
    }
  }
  const bool gpu_present = props::gpu_available();
  for (const auto& s : props::subjects()) {
    if (props::calibration_subject(*s) && !mutants) continue;
    if (s->peer() && names.empty()) continue;  // peers (FlashInfer) run when named
    if (!names.empty()) {
      bool hit = false;
      for (const std::string& n : names) {
        hit = hit || (glob(n) ? fnmatch(n.c_str(), s->name().c_str(), 0) == 0 : s->name() == n);
      }
      if (!hit) continue;
    }
    if (!op.empty() && s->op() != op) continue;
    if (!profile.empty() && s->profile() != profile) continue;
    if (!out->dtypes.empty()) {
      const std::vector<DType> sd = s->dtypes();
      bool any = false;
      for (DType d : out->dtypes) any = any || std::find(sd.begin(), sd.end(), d) != sd.end();
      if (!any) continue;  // the subject supports none of the asked dtypes
    }
    const bool gpu = s->backend() == props::Backend::kGpu;
    if (backend == "host" && gpu) continue;
    if (backend == "gpu" && !gpu) continue;
    // auto: our GPU subjects where a GPU is, our twins where not (named subjects always run).
    if (backend == "auto" && names.empty() && !props::calibration_subject(*s) &&
        s->name().rfind("kc.", 0) == 0 && gpu_present == !gpu) {
      continue;
    }
    for (props::PropertyId p : chosen) {
      std::string why;
      if (!props::property_applies(p, *s, &why)) continue;
      if (gpu && !gpu_present) {
        ++out->gpu_skipped;
        continue;
      }
      out->pairs.push_back({s.get(), p});
    }
  }
  return true;
}

}  // namespace kc::cli
