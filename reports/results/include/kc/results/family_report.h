// What a report needs to know of an op family, as data: its profiles, what its precision buckets
// and benchmark shapes are named by, and its performance targets. The families (properties/)
// describe themselves with it; `kconform check`, `fuzz` and `bench` write it into their JSON, and
// the report generator (reports/) reads it from there, so reports never include the harness.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace kc::results {

// A performance target over the benchmark rows of one kind.
//  - kind "bandwidth": rows of `dtypes` whose shape parameter `param` is >= `min_value` reach
//    `pct_copy` percent of the copy ceiling measured in the same run.
//  - kind "decode": rows of `dtypes` (PDL off, the headline) are faster than the best peer timed
//    at the same shape.
struct PerfTarget {
  std::string kind;
  std::vector<std::string> dtypes;
  std::string param;
  long long min_value = 0;
  double pct_copy = 0;
  std::string
      text;  // one line for the report ("bf16/fp16 bandwidth >= 90 % of copy, hidden >= 2048")
};

struct FamilyReport {
  std::string family;                        // "rmsnorm"
  std::vector<std::string> ops;              // "rmsnorm", "fused_add_rmsnorm"
  std::vector<std::string> profiles;         // every profile of every op
  std::string bucket_param;                  // precision buckets are ranges of this ("hidden")
  std::vector<std::string> shape_params;     // a benchmark shape, in order ("tokens", "hidden")
  std::string bandwidth_axis;                // bandwidth tables and plots run along this ("hidden")
  std::string decode_axis;                   // decode plots run along this ("tokens")
  std::vector<std::string> decode_profiles;  // the decode table's columns
  std::vector<PerfTarget> targets;
  // Shape parameters that tell bandwidth lines apart besides source, profile and dtype (empty:
  // one line each; qknorm_rope: {"nq", "nk", "nv", "pos_max"}, two models on the same tokens).
  std::vector<std::string> bandwidth_series;
};

boost::json::value to_json(const FamilyReport& f);
bool from_json(const boost::json::value& v, FamilyReport* out, std::string* error);
boost::json::array to_json(const std::vector<FamilyReport>& fs);
// Reads an array of families (unknown families of one file and another merge by name).
bool families_from_json(const boost::json::value& v, std::vector<FamilyReport>* out,
                        std::string* error);

}  // namespace kc::results
