// Result files of check/fuzz (result_set.h).
#include "kc/results/result_set.h"

#include <boost/json.hpp>
#include <cmath>
#include <fstream>

#include "kc/results/json_file.h"

namespace kc::results {
namespace json = boost::json;
namespace {

// JSON has no infinity: an infinite ULP error is written as the largest double.
double finite_or(double v, double f) { return std::isfinite(v) ? v : f; }

json::object bucket_json(const BucketRecord& b) {
  json::object o;
  o["dtype"] = b.dtype;
  o["bucket"] = b.bucket;
  o["elements"] = b.stats.elements;
  o["exact"] = b.stats.exact;
  o["max_ulp"] = finite_or(b.stats.max_ulp, 1e308);
  o["p99_ulp"] = finite_or(b.stats.quantile(0.99), 1e308);
  o["special_elements"] = b.stats.special_elements;
  o["flushed_elements"] = b.stats.flushed_elements;
  o["rows"] = b.stats.rows;
  o["out_of_range_rows"] = b.stats.out_of_range_rows;
  json::array h;
  for (std::int64_t x : b.stats.hist) h.push_back(x);
  o["histogram"] = std::move(h);
  return o;
}

BucketRecord bucket_of(const json::object& b) {
  BucketRecord br;
  br.dtype = json::value_to<std::string>(b.at("dtype"));
  br.bucket = json::value_to<std::string>(b.at("bucket"));
  br.stats.elements = b.at("elements").to_number<std::int64_t>();
  br.stats.exact = b.at("exact").to_number<std::int64_t>();
  br.stats.max_ulp = b.at("max_ulp").to_number<double>();
  br.stats.special_elements = b.at("special_elements").to_number<std::int64_t>();
  br.stats.flushed_elements = b.at("flushed_elements").to_number<std::int64_t>();
  br.stats.rows = b.at("rows").to_number<std::int64_t>();
  br.stats.out_of_range_rows = b.at("out_of_range_rows").to_number<std::int64_t>();
  const json::array& h = b.at("histogram").as_array();
  for (std::size_t i = 0; i < h.size() && i < br.stats.hist.size(); ++i) {
    br.stats.hist[i] = h[i].to_number<std::int64_t>();
  }
  return br;
}

json::object pair_json(const PairRecord& p) {
  json::object o;
  o["subject"] = p.subject;
  o["family"] = p.family;
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
  json::array repros;
  for (const std::string& r : p.repros) repros.push_back(json::string(r));
  o["repros"] = std::move(repros);
  if (p.has_failure) {
    json::object f;
    f["message"] = p.failure.message;
    f["observed"] = p.failure.observed;
    f["expected_rounded"] = p.failure.expected_rounded;
    f["ulp_error"] = finite_or(p.failure.ulp_error, 1e308);
    f["bound"] = p.failure.bound;
    f["case"] = p.failure.case_text;
    o["failure"] = std::move(f);
  }
  json::array buckets;
  for (const BucketRecord& b : p.precision) buckets.push_back(bucket_json(b));
  o["precision"] = std::move(buckets);
  return o;
}

PairRecord pair_of(const json::object& r) {
  PairRecord rec;
  rec.subject = json::value_to<std::string>(r.at("subject"));
  rec.family = json::value_to<std::string>(r.at("family"));
  rec.op = json::value_to<std::string>(r.at("op"));
  rec.profile = json::value_to<std::string>(r.at("profile"));
  rec.backend = json::value_to<std::string>(r.at("backend"));
  rec.defect = json::value_to<std::string>(r.at("defect"));
  rec.property = json::value_to<std::string>(r.at("property"));
  rec.passed = r.at("passed").as_bool();
  rec.cases = r.at("cases").to_number<long long>();
  rec.not_applicable = r.at("not_applicable").to_number<long long>();
  rec.seconds = r.at("seconds").to_number<double>();
  rec.seeds.push_back(json::value_to<std::string>(r.at("seed")));
  for (const json::value& rp : r.at("repros").as_array()) {
    rec.repros.push_back(json::value_to<std::string>(rp));
  }
  if (r.contains("failure")) {
    const json::object& f = r.at("failure").as_object();
    rec.has_failure = true;
    rec.failure.message = json::value_to<std::string>(f.at("message"));
    rec.failure.observed = json::value_to<std::string>(f.at("observed"));
    rec.failure.expected_rounded = json::value_to<std::string>(f.at("expected_rounded"));
    rec.failure.ulp_error = f.at("ulp_error").to_number<double>();
    rec.failure.bound = f.at("bound").to_number<double>();
    rec.failure.case_text = json::value_to<std::string>(f.at("case"));
  }
  for (const json::value& bv : r.at("precision").as_array()) {
    rec.precision.push_back(bucket_of(bv.as_object()));
  }
  return rec;
}

}  // namespace

void PairRecord::merge(const PairRecord& o) {
  passed = passed && o.passed;
  cases += o.cases;
  not_applicable += o.not_applicable;
  seconds += o.seconds;
  seeds.insert(seeds.end(), o.seeds.begin(), o.seeds.end());
  repros.insert(repros.end(), o.repros.begin(), o.repros.end());
  if (!has_failure && o.has_failure) {
    has_failure = true;
    failure = o.failure;
  }
  for (const BucketRecord& b : o.precision) {
    bool merged = false;
    for (BucketRecord& mine : precision) {
      if (mine.dtype == b.dtype && mine.bucket == b.bucket) {
        mine.stats.merge(b.stats);
        merged = true;
      }
    }
    if (!merged) precision.push_back(b);
  }
}

void ResultSet::add(PairRecord r) {
  for (PairRecord& p : pairs_) {
    if (p.subject == r.subject && p.property == r.property) {
      p.merge(r);
      return;
    }
  }
  pairs_.push_back(std::move(r));
}

void ResultSet::add_families(const std::vector<FamilyReport>& fs) {
  for (const FamilyReport& f : fs) {
    bool known = false;
    for (const FamilyReport& g : families_) known = known || g.family == f.family;
    if (!known) families_.push_back(f);
  }
}

bool ResultSet::load(const std::vector<std::string>& paths, std::string* error) {
  const std::string what = "a kconform check/fuzz result file";
  for (const std::string& path : paths) {
    json::value v;
    if (!read_json_object(path, &v, error, what)) return false;
    const json::object& o = v.as_object();
    if (!o.contains("kconform_check") || !o.at("kconform_check").is_int64() ||
        !o.contains("results")) {
      *error = path + ": not " + what;
      return false;
    }
    if (o.at("kconform_check").as_int64() != kCheckSchemaVersion) {
      *error = path + ": result schema version " +
               std::to_string(o.at("kconform_check").as_int64()) + " (this kconform reads " +
               std::to_string(kCheckSchemaVersion) + "; scripts/migrate_results.py converts)";
      return false;
    }
    try {
      if (o.contains("commit")) commit_ = json::value_to<std::string>(o.at("commit"));
      if (o.contains("gpu")) gpu_ = gpu_ || o.at("gpu").as_bool();
      if (o.contains("families") && !families_from_json(o.at("families"), &families_, error)) {
        *error = path + ": " + *error;
        return false;
      }
      for (const json::value& rv : o.at("results").as_array()) add(pair_of(rv.as_object()));
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
  root["kconform_check"] = kCheckSchemaVersion;
  root["commit"] = commit_;
  root["gpu"] = gpu_;
  json::object summary;
  summary["pairs"] = has_summary_ ? summary_.pairs : static_cast<int>(pairs_.size());
  summary["failed"] = has_summary_ ? summary_.failed : failed_pairs();
  summary["timed_out"] = summary_.timed_out;
  summary["seconds"] = summary_.seconds;
  summary["cases"] = total_cases();
  root["summary"] = std::move(summary);
  if (has_fuzz_) {
    json::object f;
    f["shard"] = fuzz_.shard;
    f["shards"] = fuzz_.shards;
    f["rounds"] = fuzz_.rounds;
    f["seed"] = fuzz_.seed;
    root["fuzz"] = std::move(f);
  }
  root["families"] = to_json(families_);
  std::ofstream out(path);
  if (!out) return false;
  // The header on one line, then one line a result (each carries a histogram: compact).
  std::string head = json::serialize(root);
  head.pop_back();  // the closing brace: the results follow
  out << head << ",\n\"results\": [\n";
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    out << "  " << json::serialize(pair_json(pairs_[i])) << (i + 1 < pairs_.size() ? ",\n" : "\n");
  }
  out << "]}\n";
  return static_cast<bool>(out);
}

}  // namespace kc::results
