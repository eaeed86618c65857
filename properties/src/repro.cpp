// Repro files (repro.h).
#include "kc/props/repro.h"
#include "kc/props/json_file.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/scalar.h"
#include "kc/props/op.h"

namespace kc::props {
namespace json = boost::json;
namespace {

template <typename E>
bool enum_from(const std::string& name, const char* (*namer)(E), int count, E* out) {
  for (int i = 0; i < count; ++i) {
    if (name == namer(static_cast<E>(i))) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

std::string hex64(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%016llx", static_cast<unsigned long long>(v));
  return b;
}

json::object case_object(const Case& c) {
  const OpInfo* op = find_op(c.op);
  json::object o;
  o["op"] = c.op;
  o["profile"] = c.profile;
  o["dtype"] = dtype_name(c.dtype);
  o["num_tokens"] = c.num_tokens;
  o["hidden"] = c.hidden;
  o["eps"] = static_cast<double>(c.eps);
  char eb[16];
  std::snprintf(eb, sizeof eb, "0x%08x", detail::float_bits(c.eps));
  o["eps_bits"] = eb;
  json::array tensors;
  for (std::size_t t = 0; t < c.tensors.size(); ++t) {
    json::object l;
    l["name"] = op && t < op->tensors.size() ? op->tensors[t].name : "?";
    l["row_stride"] = c.tensors[t].row_stride;
    l["offset"] = c.tensors[t].offset;
    l["in_place"] = c.tensors[t].in_place;
    tensors.push_back(std::move(l));
  }
  o["tensors"] = std::move(tensors);
  json::array rows;
  for (ValueClass v : c.row_classes) rows.push_back(json::string(value_class_name(v)));
  o["row_classes"] = std::move(rows);
  o["weight_class"] = weight_class_name(c.weight_class);
  json::array inj;
  for (const Injection& j : c.injections) {
    json::object x;
    x["tensor"] = j.tensor;
    x["row"] = j.row;
    x["col"] = j.col;
    x["kind"] = special_name(j.kind);
    inj.push_back(std::move(x));
  }
  o["injections"] = std::move(inj);
  o["seed"] = hex64(c.seed);
  return o;
}

bool parse_case(const json::object& o, Case* c, std::string* error) {
  try {
    c->op = json::value_to<std::string>(o.at("op"));
    c->profile = json::value_to<std::string>(o.at("profile"));
    if (!dtype_from_name(json::value_to<std::string>(o.at("dtype")).c_str(), &c->dtype)) {
      *error = "unknown dtype";
      return false;
    }
    c->num_tokens = o.at("num_tokens").to_number<std::int64_t>();
    c->hidden = o.at("hidden").to_number<std::int64_t>();
    // eps_bits is authoritative (the decimal is for reading).
    c->eps = detail::bits_float(static_cast<std::uint32_t>(
        std::stoul(json::value_to<std::string>(o.at("eps_bits")), nullptr, 16)));
    c->tensors.clear();
    for (const json::value& v : o.at("tensors").as_array()) {
      const json::object& l = v.as_object();
      TensorLayout t;
      t.row_stride = l.at("row_stride").to_number<std::int64_t>();
      t.offset = l.at("offset").to_number<std::int64_t>();
      t.in_place = l.at("in_place").as_bool();
      c->tensors.push_back(t);
    }
    c->row_classes.clear();
    for (const json::value& v : o.at("row_classes").as_array()) {
      ValueClass vc;
      if (!enum_from(json::value_to<std::string>(v), value_class_name,
                     static_cast<int>(ValueClass::kCount), &vc)) {
        *error = "unknown value class";
        return false;
      }
      c->row_classes.push_back(vc);
    }
    if (!enum_from(json::value_to<std::string>(o.at("weight_class")), weight_class_name,
                   static_cast<int>(WeightClass::kCount), &c->weight_class)) {
      *error = "unknown weight class";
      return false;
    }
    c->injections.clear();
    for (const json::value& v : o.at("injections").as_array()) {
      const json::object& x = v.as_object();
      Injection j;
      j.tensor = x.at("tensor").to_number<int>();
      j.row = x.at("row").to_number<std::int64_t>();
      j.col = x.at("col").to_number<std::int64_t>();
      if (!enum_from(json::value_to<std::string>(x.at("kind")), special_name,
                     static_cast<int>(Special::kCount), &j.kind)) {
        *error = "unknown special kind";
        return false;
      }
      c->injections.push_back(j);
    }
    c->seed = std::stoull(json::value_to<std::string>(o.at("seed")), nullptr, 16);
    const OpInfo* op = find_op(c->op);
    if (op == nullptr || op->tensors.size() != c->tensors.size()) {
      *error = "unknown op or wrong tensor count";
      return false;
    }
  } catch (const std::exception& e) {
    *error = std::string("malformed case: ") + e.what();
    return false;
  }
  return true;
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

}  // namespace

std::string case_to_json(const Case& c) { return json::serialize(case_object(c)); }

bool case_from_json(const std::string& text, Case* out, std::string* error) {
  json::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  return parse_case(v.as_object(), out, error);
}

std::string write_repro(const std::string& dir, const Subject& s, PropertyId p, const Case& c,
                        const Verdict& v) {
  json::object o = case_object(c);
  o["kconform_repro"] = 1;
  o["subject"] = s.name();
  o["property"] = property_name(p);
  json::object f;
  f["message"] = v.message;
  f["tensor"] = v.worst.tensor;
  f["row"] = v.worst.row;
  f["col"] = v.worst.col;
  f["expected_exact"] = v.worst.expected_exact;
  f["expected_rounded"] = v.worst.expected_rounded;
  f["observed"] = v.worst.observed;
  f["admissible"] = v.worst.admissible;
  f["ulp_error"] = std::isfinite(v.worst.ulp_error) ? v.worst.ulp_error : 1e308;
  f["bound"] = v.worst.bound;
  o["failure"] = std::move(f);
  const std::string text = json::serialize(o);
  char hash[16];
  std::snprintf(
      hash, sizeof hash, "%012llx",
      static_cast<unsigned long long>(fnv1a(case_to_json(c) + s.name()) & 0xffffffffffffull));
  const std::string path = dir + "/" + c.op + "-" + property_name(p) + "-" + hash + ".json";
  std::ofstream out(path);
  if (!out) return "";
  // One field per line keeps repros readable and diffable.
  std::string pretty;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '"' && (i == 0 || text[i - 1] != '\\')) in_string = !in_string;
    if (in_string) {
      pretty += ch;
      continue;
    }
    if (ch == '{' || ch == '[') {
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
  out << pretty << "\n";
  return out ? path : "";
}

bool read_repro(const std::string& path, Repro* out, std::string* error) {
  json::value v;
  if (!read_json_object(path, &v, error)) return false;
  const json::object& o = v.as_object();
  if (!o.contains("kconform_repro") || !o.contains("subject") || !o.contains("property")) {
    *error = path + ": not a kconform repro (kconform_repro, subject, property missing)";
    return false;
  }
  out->subject = json::value_to<std::string>(o.at("subject"));
  out->property = json::value_to<std::string>(o.at("property"));
  if (!parse_case(o, &out->c, error)) return false;
  if (o.contains("failure")) {
    const json::object& f = o.at("failure").as_object();
    out->message = json::value_to<std::string>(f.at("message"));
    out->failure.tensor = json::value_to<std::string>(f.at("tensor"));
    out->failure.row = f.at("row").to_number<std::int64_t>();
    out->failure.col = f.at("col").to_number<std::int64_t>();
    out->failure.observed = json::value_to<std::string>(f.at("observed"));
    out->failure.expected_rounded = json::value_to<std::string>(f.at("expected_rounded"));
    out->failure.expected_exact = json::value_to<std::string>(f.at("expected_exact"));
    out->failure.ulp_error = f.at("ulp_error").to_number<double>();
    out->failure.bound = f.at("bound").to_number<double>();
  }
  return true;
}

std::string replay_command(const std::string& path) { return "kconform replay " + path; }

}  // namespace kc::props
