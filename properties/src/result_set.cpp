// Result files of check/fuzz (result_set.h).
#include "kc/props/result_set.h"
#include "kc/props/json_file.h"

#include <boost/json.hpp>
#include <cmath>
#include <fstream>

namespace kc::props {
namespace json = boost::json;
namespace {
double finite_or(double v, double f) { return std::isfinite(v) ? v : f; }
}  // namespace

bool ResultSet::load(const std::vector<std::string>& paths, std::string* error) {
  for (const std::string& path : paths) {
    const std::string what = "a kconform check/fuzz result file";
    json::value v;
    if (!read_json_object(path, &v, error, what)) return false;
    if (!v.as_object().contains("results")) {
      *error = path + ": not " + what;
      return false;
    }
    const json::object& o = v.as_object();
    if (o.contains("commit")) commit_ = json::value_to<std::string>(o.at("commit"));
    if (o.contains("gpu")) gpu_ = gpu_ || o.at("gpu").as_bool();
    try {
      for (const json::value& rv : o.at("results").as_array()) {
        const json::object& r = rv.as_object();
        PairRecord rec;
        rec.subject = json::value_to<std::string>(r.at("subject"));
        rec.op = json::value_to<std::string>(r.at("op"));
        rec.profile = json::value_to<std::string>(r.at("profile"));
        rec.backend = json::value_to<std::string>(r.at("backend"));
        rec.defect = r.contains("defect") ? json::value_to<std::string>(r.at("defect")) : "";
        rec.property = json::value_to<std::string>(r.at("property"));
        rec.passed = r.at("passed").as_bool();
        rec.cases = r.at("cases").to_number<long long>();
        rec.not_applicable = r.at("not_applicable").to_number<long long>();
        rec.seconds = r.at("seconds").to_number<double>();
        rec.seeds.push_back(json::value_to<std::string>(r.at("seed")));
        const std::string repro = json::value_to<std::string>(r.at("repro"));
        if (!repro.empty()) rec.repros.push_back(repro);
        if (r.contains("failure")) {
          rec.failure = json::value_to<std::string>(r.at("failure").as_object().at("message"));
        }
        for (const json::value& bv : r.at("precision").as_array()) {
          const json::object& b = bv.as_object();
          BucketRecord br;
          br.dtype = json::value_to<std::string>(b.at("dtype"));
          br.bucket = json::value_to<std::string>(b.at("hidden_bucket"));
          br.stats.elements = b.at("elements").to_number<std::int64_t>();
          br.stats.exact = b.at("exact").to_number<std::int64_t>();
          br.stats.max_ulp = b.at("max_ulp").to_number<double>();
          br.stats.special_elements = b.at("special_elements").to_number<std::int64_t>();
          if (b.contains("flushed_elements")) {  // absent in files of older versions
            br.stats.flushed_elements = b.at("flushed_elements").to_number<std::int64_t>();
          }
          br.stats.rows = b.at("rows").to_number<std::int64_t>();
          br.stats.out_of_range_rows = b.at("out_of_range_rows").to_number<std::int64_t>();
          const json::array& h = b.at("histogram").as_array();
          for (std::size_t i = 0; i < h.size() && i < br.stats.hist.size(); ++i) {
            br.stats.hist[i] = h[i].to_number<std::int64_t>();
          }
          rec.precision.push_back(br);
        }
        // Merge with an existing record of the same pair.
        PairRecord* into = nullptr;
        for (PairRecord& p : pairs_) {
          if (p.subject == rec.subject && p.property == rec.property) into = &p;
        }
        if (into == nullptr) {
          pairs_.push_back(std::move(rec));
          continue;
        }
        into->passed = into->passed && rec.passed;
        into->cases += rec.cases;
        into->not_applicable += rec.not_applicable;
        into->seconds += rec.seconds;
        into->seeds.insert(into->seeds.end(), rec.seeds.begin(), rec.seeds.end());
        into->repros.insert(into->repros.end(), rec.repros.begin(), rec.repros.end());
        if (into->failure.empty()) into->failure = rec.failure;
        for (const BucketRecord& b : rec.precision) {
          bool merged = false;
          for (BucketRecord& mine : into->precision) {
            if (mine.dtype == b.dtype && mine.bucket == b.bucket) {
              mine.stats.merge(b.stats);
              merged = true;
            }
          }
          if (!merged) into->precision.push_back(b);
        }
      }
    } catch (const std::exception& e) {
      *error = path + ": malformed result file (" + e.what() + ")";
      return false;
    }
  }
  return true;
}

long long ResultSet::total_cases() const {
  long long n = 0;
  for (const PairRecord& p : pairs_) n += p.cases;
  return n;
}

int ResultSet::failed_pairs() const {
  int n = 0;
  for (const PairRecord& p : pairs_) n += !p.passed;
  return n;
}

bool ResultSet::write(const std::string& path) const {
  json::object root;
  root["kconform_check"] = 1;
  root["commit"] = commit_;
  root["gpu"] = gpu_;
  json::object summary;
  summary["pairs"] = pairs_.size();
  summary["failed"] = failed_pairs();
  summary["cases"] = total_cases();
  root["summary"] = std::move(summary);
  json::array results;
  for (const PairRecord& p : pairs_) {
    json::object o;
    o["subject"] = p.subject;
    o["op"] = p.op;
    o["profile"] = p.profile;
    o["backend"] = p.backend;
    o["defect"] = p.defect;
    o["property"] = p.property;
    o["passed"] = p.passed;
    o["cases"] = p.cases;
    o["not_applicable"] = p.not_applicable;
    o["seconds"] = p.seconds;
    std::string seeds;
    for (const std::string& s : p.seeds) seeds += (seeds.empty() ? "" : ",") + s;
    o["seed"] = seeds;
    o["repro"] = p.repros.empty() ? "" : p.repros.front();
    if (!p.failure.empty()) {
      json::object f;
      f["message"] = p.failure;
      o["failure"] = std::move(f);
    }
    json::array buckets;
    for (const BucketRecord& b : p.precision) {
      json::object bo;
      bo["dtype"] = b.dtype;
      bo["hidden_bucket"] = b.bucket;
      bo["elements"] = b.stats.elements;
      bo["exact"] = b.stats.exact;
      bo["max_ulp"] = finite_or(b.stats.max_ulp, 1e308);
      bo["p99_ulp"] = finite_or(b.stats.quantile(0.99), 1e308);
      bo["special_elements"] = b.stats.special_elements;
      bo["flushed_elements"] = b.stats.flushed_elements;
      bo["rows"] = b.stats.rows;
      bo["out_of_range_rows"] = b.stats.out_of_range_rows;
      json::array h;
      for (std::int64_t x : b.stats.hist) h.push_back(x);
      bo["histogram"] = std::move(h);
      buckets.push_back(std::move(bo));
    }
    o["precision"] = std::move(buckets);
    results.push_back(std::move(o));
  }
  root["results"] = std::move(results);
  std::ofstream out(path);
  out << json::serialize(root) << "\n";
  return static_cast<bool>(out);
}

}  // namespace kc::props
