// Benchmark rows of a report (perf_set.h).
#include "perf_set.h"

#include <algorithm>
#include <filesystem>

#include "kc/results/json_file.h"

namespace kc::reports {
namespace json = boost::json;

bool PerfSet::load(const std::vector<std::string>& paths, std::string* error) {
  json::array all;
  for (const std::string& p : paths) {
    json::value v;
    if (!results::read_json_object(p, &v, error)) return false;
    const json::object& o = v.as_object();
    if (!o.contains("benchmarks") || !o.at("benchmarks").is_array()) {
      *error = p + ": no \"benchmarks\" (not a kconform bench / Google Benchmark file)";
      return false;
    }
    if (o.contains("context") && o.at("context").is_object()) {
      const json::object& c = o.at("context").as_object();
      if (!merged.contains("context")) merged["context"] = c;
      if (c.contains("families") &&
          !results::families_from_json(c.at("families"), &families, error)) {
        *error = p + ": " + *error;
        return false;
      }
      if (c.contains("peers") && c.at("peers").is_object() &&
          c.at("peers").as_object().contains("device")) {
        device = json::value_to<std::string>(c.at("peers").as_object().at("device"));
      }
    }
    for (const json::value& b : o.at("benchmarks").as_array()) all.push_back(b);
  }
  merged["benchmarks"] = all;
  if (merged.contains("context") && merged["context"].is_object()) {
    // A report names no directory of the machine it ran on: the executable by its file name.
    json::object& mc = merged["context"].as_object();
    if (mc.contains("executable") && mc.at("executable").is_string()) {
      mc["executable"] = std::filesystem::path(json::value_to<std::string>(mc.at("executable")))
                             .filename()
                             .string();
    }
  }
  for (const json::value& bv : all) {
    if (!bv.is_object()) continue;
    results::PerfRow r;
    if (!results::perf_row_from_json(bv.as_object(), &r)) continue;
    if (r.key.kind == "copy") {
      if (r.key.source == "kconform") copy_gbps = std::max(copy_gbps, r.gbps);
      continue;
    }
    if (r.key.kind == "empty") {
      (r.key.pdl ? empty_pdl_us : empty_us) = r.us;
      continue;
    }
    if (r.key.kind == "bandwidth" || r.key.kind == "decode") rows.push_back(std::move(r));
  }
  return true;
}

const results::PerfRow* PerfSet::find(const results::PerfKey& k) const {
  const std::string id = k.id();
  for (const results::PerfRow& r : rows) {
    if (r.error.empty() && r.key.id() == id) return &r;
  }
  return nullptr;
}

const results::PerfRow* PerfSet::best_peer(const results::PerfKey& ours) const {
  const results::PerfRow* best = nullptr;
  for (const results::PerfRow& r : rows) {
    const results::PerfKey& k = r.key;
    if (k.source == "kconform" || !r.error.empty() || k.family != ours.family || k.op != ours.op ||
        k.profile != ours.profile || k.dtype != ours.dtype || k.kind != ours.kind ||
        k.pdl != ours.pdl || k.shape != ours.shape) {
      continue;
    }
    if (best == nullptr || r.us < best->us) best = &r;
  }
  return best;
}

}  // namespace kc::reports
