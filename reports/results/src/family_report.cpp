// Families' report descriptions to and from JSON (family_report.h).
#include "kc/results/family_report.h"

namespace kc::results {
namespace json = boost::json;
namespace {

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const std::string& s : v) a.push_back(json::string(s));
  return a;
}

std::vector<std::string> strings_of(const json::value& v) {
  std::vector<std::string> out;
  for (const json::value& s : v.as_array()) out.push_back(json::value_to<std::string>(s));
  return out;
}

}  // namespace

json::value to_json(const FamilyReport& f) {
  json::object o;
  o["family"] = f.family;
  o["ops"] = strings(f.ops);
  o["profiles"] = strings(f.profiles);
  o["bucket_param"] = f.bucket_param;
  o["shape_params"] = strings(f.shape_params);
  o["bandwidth_axis"] = f.bandwidth_axis;
  o["bandwidth_series"] = strings(f.bandwidth_series);
  o["decode_axis"] = f.decode_axis;
  o["decode_profiles"] = strings(f.decode_profiles);
  json::array targets;
  for (const PerfTarget& t : f.targets) {
    json::object to;
    to["kind"] = t.kind;
    to["dtypes"] = strings(t.dtypes);
    to["param"] = t.param;
    to["min_value"] = t.min_value;
    to["pct_copy"] = t.pct_copy;
    to["text"] = t.text;
    targets.push_back(std::move(to));
  }
  o["targets"] = std::move(targets);
  return o;
}

bool from_json(const json::value& v, FamilyReport* out, std::string* error) {
  try {
    const json::object& o = v.as_object();
    out->family = json::value_to<std::string>(o.at("family"));
    out->ops = strings_of(o.at("ops"));
    out->profiles = strings_of(o.at("profiles"));
    out->bucket_param = json::value_to<std::string>(o.at("bucket_param"));
    out->shape_params = strings_of(o.at("shape_params"));
    out->bandwidth_axis = json::value_to<std::string>(o.at("bandwidth_axis"));
    // Absent in files written before the field existed: one line per (source, profile, dtype).
    out->bandwidth_series.clear();
    if (const json::value* bs = o.if_contains("bandwidth_series")) {
      out->bandwidth_series = strings_of(*bs);
    }
    out->decode_axis = json::value_to<std::string>(o.at("decode_axis"));
    out->decode_profiles = strings_of(o.at("decode_profiles"));
    out->targets.clear();
    for (const json::value& tv : o.at("targets").as_array()) {
      const json::object& to = tv.as_object();
      PerfTarget t;
      t.kind = json::value_to<std::string>(to.at("kind"));
      t.dtypes = strings_of(to.at("dtypes"));
      t.param = json::value_to<std::string>(to.at("param"));
      t.min_value = to.at("min_value").to_number<long long>();
      t.pct_copy = to.at("pct_copy").to_number<double>();
      t.text = json::value_to<std::string>(to.at("text"));
      out->targets.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    *error = std::string("malformed family description: ") + e.what();
    return false;
  }
  return true;
}

json::array to_json(const std::vector<FamilyReport>& fs) {
  json::array a;
  for (const FamilyReport& f : fs) a.push_back(to_json(f));
  return a;
}

bool families_from_json(const json::value& v, std::vector<FamilyReport>* out, std::string* error) {
  if (!v.is_array()) {
    *error = "\"families\" is not an array";
    return false;
  }
  for (const json::value& fv : v.as_array()) {
    FamilyReport f;
    if (!from_json(fv, &f, error)) return false;
    bool known = false;
    for (const FamilyReport& g : *out) known = known || g.family == f.family;
    if (!known) out->push_back(std::move(f));
  }
  return true;
}

}  // namespace kc::results
