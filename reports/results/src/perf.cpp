// Structured benchmark rows (perf.h).
#include "kc/results/perf.h"

namespace kc::results {
namespace json = boost::json;

std::int64_t PerfKey::param(const std::string& name, std::int64_t fallback) const {
  for (const auto& [k, v] : shape) {
    if (k == name) return v;
  }
  return fallback;
}

std::string PerfKey::id() const {
  std::string s = source + "|" + family + "|" + op + "|" + profile + "|" + dtype + "|" + kind +
                  (pdl ? "|pdl" : "|nopdl");
  for (const auto& [k, v] : shape) s += "|" + k + "=" + std::to_string(v);
  return s;
}

std::string perf_label(const PerfKey& k) {
  json::object o;
  o["source"] = k.source;
  o["family"] = k.family;
  o["op"] = k.op;
  o["profile"] = k.profile;
  o["dtype"] = k.dtype;
  o["kind"] = k.kind;
  o["pdl"] = k.pdl;
  json::object shape;
  for (const auto& [name, v] : k.shape) shape[name] = v;
  o["shape"] = std::move(shape);
  return json::serialize(o);
}

bool perf_row_from_json(const json::object& entry, PerfRow* out) {
  if (!entry.contains("label") || !entry.at("label").is_string()) return false;
  json::error_code ec;
  const json::value label = json::parse(entry.at("label").as_string(), ec);
  if (ec || !label.is_object()) return false;
  try {
    const json::object& l = label.as_object();
    PerfRow r;
    r.key.source = json::value_to<std::string>(l.at("source"));
    r.key.family = json::value_to<std::string>(l.at("family"));
    r.key.op = json::value_to<std::string>(l.at("op"));
    r.key.profile = json::value_to<std::string>(l.at("profile"));
    r.key.dtype = json::value_to<std::string>(l.at("dtype"));
    r.key.kind = json::value_to<std::string>(l.at("kind"));
    r.key.pdl = l.at("pdl").as_bool();
    for (const auto& kv : l.at("shape").as_object()) {
      r.key.shape.emplace_back(std::string(kv.key()), kv.value().to_number<std::int64_t>());
    }
    auto num = [&](const char* name) {
      return entry.contains(name) ? entry.at(name).to_number<double>() : 0.0;
    };
    r.us = entry.contains("us_per_call") ? num("us_per_call") : num("real_time");
    r.gbps = num("GBps");
    r.pct_copy = num("pct_copy");
    if (entry.contains("error_occurred") && entry.at("error_occurred").is_bool() &&
        entry.at("error_occurred").as_bool()) {
      r.error = entry.contains("error_message")
                    ? json::value_to<std::string>(entry.at("error_message"))
                    : std::string("error");
    }
    *out = std::move(r);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace kc::results
