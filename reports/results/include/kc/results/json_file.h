// Reading a JSON document from a file: the one helper behind repros, result sets, reports and
// the bench merge.
#pragma once

#include <boost/json.hpp>
#include <string>

namespace kc::results {

// Parses `path` into *out. False, with *error = "cannot read PATH" or "PATH: not WHAT", when the
// file cannot be opened, is not JSON or its top level is not an object.
bool read_json_object(const std::string& path, boost::json::value* out, std::string* error,
                      const std::string& what = "a JSON object");

// One field per line: repros and result files stay readable and diffable.
std::string pretty_json(const boost::json::value& v);

}  // namespace kc::results
