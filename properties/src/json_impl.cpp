// Boost.JSON in header-only mode: its implementation is compiled once, here; and the file reader
// of json_file.h.
#include <boost/json/src.hpp>
#include <fstream>
#include <sstream>

#include "kc/props/json_file.h"

namespace kc::props {

bool read_json_object(const std::string& path, boost::json::value* out, std::string* error,
                      const std::string& what) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  boost::json::error_code ec;
  *out = boost::json::parse(ss.str(), ec);
  if (ec || !out->is_object()) {
    *error = path + ": not " + what;
    return false;
  }
  return true;
}

}  // namespace kc::props
