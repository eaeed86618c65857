// Boost.JSON in header-only mode: its implementation is compiled once, here; the file reader and
// the pretty printer of json_file.h.
#include <boost/json/src.hpp>
#include <fstream>
#include <sstream>

#include "kc/results/json_file.h"

namespace kc::results {

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

std::string pretty_json(const boost::json::value& v) {
  const std::string text = boost::json::serialize(v);
  std::string pretty;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char ch : text) {
    if (in_string) {
      pretty += ch;
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
      pretty += ch;
    } else if (ch == '{' || ch == '[') {
      pretty += ch;
      pretty += '\n' + std::string(static_cast<std::size_t>(2 * ++depth), ' ');
    } else if (ch == '}' || ch == ']') {
      pretty += '\n' + std::string(static_cast<std::size_t>(2 * --depth), ' ') + ch;
    } else if (ch == ',') {
      pretty += ",\n" + std::string(static_cast<std::size_t>(2 * depth), ' ');
    } else if (ch == ':') {
      pretty += ": ";
    } else {
      pretty += ch;
    }
  }
  return pretty;
}

}  // namespace kc::results
