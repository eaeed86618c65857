// Repro files (repro.h).
#include "kc/props/repro.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/scalar.h"
#include "kc/props/family.h"
#include "kc/results/json_file.h"

namespace kc::props {
namespace json = boost::json;
namespace {

std::string hex64(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%016llx", static_cast<unsigned long long>(v));
  return b;
}
std::string hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// Typed fields: each throws std::invalid_argument naming the field, its value and the rule.
std::string shown(const json::value& v) {
  std::string t = json::serialize(v);
  return t.size() > 40 ? t.substr(0, 40) + "..." : t;
}

const json::value& field(const json::object& o, const std::string& where, const char* name) {
  const auto it = o.find(name);
  if (it == o.end()) throw std::invalid_argument("field " + where + name + " is missing");
  return it->value();
}

std::string string_field(const json::object& o, const std::string& where, const char* name) {
  const json::value& v = field(o, where, name);
  if (!v.is_string()) {
    throw std::invalid_argument("field " + where + name + " = " + shown(v) + ": want a string");
  }
  return std::string(v.as_string());
}

std::int64_t int_field(const json::object& o, const std::string& where, const char* name) {
  const json::value& v = field(o, where, name);
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.as_uint64());
  }
  throw std::invalid_argument("field " + where + name + " = " + shown(v) +
                              ": want a 64-bit integer");
}

bool bool_field(const json::object& o, const std::string& where, const char* name) {
  const json::value& v = field(o, where, name);
  if (!v.is_bool()) {
    throw std::invalid_argument("field " + where + name + " = " + shown(v) +
                                ": want true or false");
  }
  return v.as_bool();
}

const json::array& array_field(const json::object& o, const std::string& where, const char* name) {
  const json::value& v = field(o, where, name);
  if (!v.is_array()) {
    throw std::invalid_argument("field " + where + name + " = " + shown(v) + ": want an array");
  }
  return v.as_array();
}

double number_field(const json::object& o, const std::string& where, const char* name) {
  const json::value& v = field(o, where, name);
  if (!v.is_number()) {
    throw std::invalid_argument("field " + where + name + " = " + shown(v) + ": want a number");
  }
  return v.to_number<double>();
}

const json::object& as_object(const json::value& v, const std::string& where) {
  if (!v.is_object()) {
    throw std::invalid_argument("field " + where + " = " + shown(v) + ": want an object");
  }
  return v.as_object();
}

// A hexadecimal or decimal unsigned integer (a string); throws naming the field.
std::uint64_t parse_unsigned(const json::value& v, const std::string& field_name) {
  if (!v.is_string()) {
    throw std::invalid_argument("field " + field_name + " = " + shown(v) +
                                ": want a string holding an unsigned integer (\"0x...\")");
  }
  const std::string s(v.as_string());
  char* end = nullptr;
  errno = 0;
  const unsigned long long x = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || end == s.c_str() || *end != '\0' || errno != 0 || s[0] == '-') {
    throw std::invalid_argument("field " + field_name + " = \"" + s +
                                "\": want an unsigned 64-bit integer, decimal or 0x hex");
  }
  return x;
}

int class_index(const std::vector<ClassInfo>& table, const std::string& name) {
  for (std::size_t k = 0; k < table.size(); ++k) {
    if (name == table[k].name) return static_cast<int>(k);
  }
  return -1;
}

json::object case_object(const Case& c) {
  const Family* fam = family_for(c.op);
  const OpSpec* op = fam != nullptr ? fam->find_op(c.op) : nullptr;
  json::object o;
  o["op"] = c.op;
  o["profile"] = c.profile;
  o["dtype"] = dtype_name(c.dtype);
  o["num_tokens"] = c.num_tokens;
  json::object params;
  for (const Param& p : c.params) {
    if (p.kind == ParamKind::kInt) {
      params[p.name] = p.i;
    } else if (p.kind == ParamKind::kFp32) {
      json::object f;
      f["fp32"] = hex32(detail::float_bits(static_cast<float>(p.f)));
      f["value"] = p.f;
      params[p.name] = std::move(f);
    } else {
      std::uint64_t bits;
      std::memcpy(&bits, &p.f, 8);
      json::object f;
      f["fp64"] = hex64(bits);
      f["value"] = p.f;
      params[p.name] = std::move(f);
    }
  }
  o["params"] = std::move(params);
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
  auto class_name = [](const std::vector<ClassInfo>* table, std::uint8_t k) -> std::string {
    return table != nullptr && k < table->size() ? (*table)[k].name : "?";
  };
  json::array rows;
  for (std::uint8_t k : c.row_classes) {
    rows.push_back(json::string(class_name(fam ? &fam->row_classes() : nullptr, k)));
  }
  o["row_classes"] = std::move(rows);
  o["weight_class"] = class_name(fam ? &fam->weight_classes() : nullptr, c.weight_class);
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

// Version 2 parameters: numbers are integers; objects carry an fp32 or fp64 bit pattern (the
// decimal "value" is for reading only).
void parse_params(const json::object& o, Case* c) {
  c->params.clear();
  for (const auto& kv : as_object(field(o, "", "params"), "params")) {
    Param p;
    p.name = std::string(kv.key());
    const json::value& v = kv.value();
    const std::string where = "params." + p.name;
    if (v.is_int64() || v.is_uint64()) {
      p.kind = ParamKind::kInt;
      p.i = int_field(o.at("params").as_object(), "params.", p.name.c_str());
    } else if (v.is_object() && v.as_object().contains("fp32")) {
      p.kind = ParamKind::kFp32;
      const std::uint64_t bits = parse_unsigned(v.as_object().at("fp32"), where + ".fp32");
      if (bits > 0xffffffffu) {
        throw std::invalid_argument("field " + where + ".fp32: more than 32 bits");
      }
      p.f = static_cast<double>(detail::bits_float(static_cast<std::uint32_t>(bits)));
    } else if (v.is_object() && v.as_object().contains("fp64")) {
      p.kind = ParamKind::kFp64;
      const std::uint64_t bits = parse_unsigned(v.as_object().at("fp64"), where + ".fp64");
      std::memcpy(&p.f, &bits, 8);
    } else {
      throw std::invalid_argument("field " + where + " = " + shown(v) +
                                  ": want an integer or an {\"fp32\"|\"fp64\": bits} object");
    }
    c->params.push_back(std::move(p));
  }
}

// Version 1 (the norm family only): hidden and eps_bits at the top level.
void parse_params_v1(const json::object& o, Case* c) {
  c->params.clear();
  c->set_int("hidden", int_field(o, "", "hidden"));
  const std::uint64_t bits = parse_unsigned(field(o, "", "eps_bits"), "eps_bits");
  if (bits > 0xffffffffu) throw std::invalid_argument("field eps_bits: more than 32 bits");
  c->set_fp32("eps", detail::bits_float(static_cast<std::uint32_t>(bits)));
}

bool replayable(const Family& fam, const Case& c, std::string* error);

bool parse_case(const json::object& o, int version, Case* c, std::string* error) {
  try {
    c->op = string_field(o, "", "op");
    c->profile = string_field(o, "", "profile");
    const Family* fam = family_for(c->op);
    if (fam == nullptr) {
      *error = "field op = \"" + c->op + "\": not an op of any family";
      return false;
    }
    const std::string dtype = string_field(o, "", "dtype");
    if (!dtype_from_name(dtype.c_str(), &c->dtype)) {
      *error = "field dtype = \"" + dtype + "\": want fp32, fp16 or bf16";
      return false;
    }
    c->num_tokens = int_field(o, "", "num_tokens");
    if (version == 1) {
      parse_params_v1(o, c);
    } else {
      parse_params(o, c);
    }
    c->tensors.clear();
    for (const json::value& v : array_field(o, "", "tensors")) {
      const std::string where = "tensors[" + std::to_string(c->tensors.size()) + "]";
      const json::object& l = as_object(v, where);
      TensorLayout t;
      t.row_stride = int_field(l, where + ".", "row_stride");
      t.offset = int_field(l, where + ".", "offset");
      t.in_place = bool_field(l, where + ".", "in_place");
      c->tensors.push_back(t);
    }
    c->row_classes.clear();
    for (const json::value& v : array_field(o, "", "row_classes")) {
      if (!v.is_string()) {
        *error = "field row_classes: " + shown(v) + " is not a class name";
        return false;
      }
      const std::string name(v.as_string());
      const int k = class_index(fam->row_classes(), name);
      if (k < 0) {
        *error = "field row_classes: '" + name + "' is not a row class of the " + fam->name() +
                 " family";
        return false;
      }
      c->row_classes.push_back(static_cast<std::uint8_t>(k));
    }
    const std::string wname = string_field(o, "", "weight_class");
    const int wk = class_index(fam->weight_classes(), wname);
    if (wk < 0) {
      *error = "field weight_class: '" + wname + "' is not a weight class of the " + fam->name() +
               " family";
      return false;
    }
    c->weight_class = static_cast<std::uint8_t>(wk);
    c->injections.clear();
    for (const json::value& v : array_field(o, "", "injections")) {
      const std::string where = "injections[" + std::to_string(c->injections.size()) + "]";
      const json::object& x = as_object(v, where);
      Injection j;
      const std::int64_t tensor = int_field(x, where + ".", "tensor");
      if (tensor < 0 || tensor > 1000) {
        *error = "field " + where + ".tensor = " + std::to_string(tensor) +
                 ": want an input index in [0, 1000] (taken modulo the op's inputs)";
        return false;
      }
      j.tensor = static_cast<int>(tensor);
      j.row = int_field(x, where + ".", "row");
      j.col = int_field(x, where + ".", "col");
      const std::string kind = string_field(x, where + ".", "kind");
      bool found = false;
      for (int k = 0; k < static_cast<int>(Special::kCount); ++k) {
        if (kind == special_name(static_cast<Special>(k))) {
          j.kind = static_cast<Special>(k);
          found = true;
        }
      }
      if (!found) {
        *error = "field " + where + ".kind = \"" + kind + "\": want nan, +inf or -inf";
        return false;
      }
      c->injections.push_back(j);
    }
    c->seed = parse_unsigned(field(o, "", "seed"), "seed");
    const Status valid = fam->validate(*c);
    if (!valid.is_ok()) {
      *error = valid.message();
      return false;
    }
    if (!replayable(*fam, *c, error)) return false;
  } catch (const std::invalid_argument& e) {
    *error = e.what();
    return false;
  } catch (const std::exception& e) {
    *error = std::string("malformed case: ") + e.what();
    return false;
  }
  return true;
}

// The layout rules of a case kconform can materialise: num_tokens in [0, 2^31), row strides and
// offsets non-negative (offsets below 2^16 elements), injections on tensor indices >= 0, and at
// most 2^31 bytes of tensors in all. (A stride below the columns is a valid unsupported case.)
bool replayable(const Family& fam, const Case& c, std::string* error) {
  if (c.num_tokens < 0 || c.num_tokens >= (std::int64_t{1} << 31)) {
    *error = "num_tokens = " + std::to_string(c.num_tokens) + ": must be in [0, 2^31)";
    return false;
  }
  double bytes = 0;
  const OpSpec& op = *fam.find_op(c.op);
  for (std::size_t t = 0; t < c.tensors.size(); ++t) {
    const TensorLayout& l = c.tensors[t];
    const std::string name = op.tensors[t].name;
    if (l.row_stride < 0) {
      *error = name + " row_stride = " + std::to_string(l.row_stride) + ": must be >= 0";
      return false;
    }
    if (l.offset < 0 || l.offset >= (std::int64_t{1} << 16)) {
      *error = name + " offset = " + std::to_string(l.offset) + ": must be in [0, 2^16)";
      return false;
    }
    const std::int64_t columns = fam.columns(c, static_cast<int>(t));
    if (columns < 0) {
      *error = name + " has " + std::to_string(columns) +
               " columns (from the case's parameters): must be >= 0";
      return false;
    }
    const double cols = static_cast<double>(columns);
    const double rows = op.tensors[t].rows ? static_cast<double>(c.num_tokens) : 1.0;
    const ElementType type = fam.element_type(c, static_cast<int>(t));
    const double elem = type == ElementType::kInt64   ? 8.0
                        : type == ElementType::kInt32 ? 4.0
                                                      : static_cast<double>(dtype_size(c.dtype));
    bytes += (rows * static_cast<double>(std::max(l.row_stride, std::int64_t{0})) + cols) * elem;
  }
  if (bytes > 0x1p31) {
    *error = "the case's tensors need about " + std::to_string(bytes / 0x1p30) +
             " GiB; a repro must describe a case of at most 2 GiB";
    return false;
  }
  for (const Injection& j : c.injections) {
    if (j.tensor < 0) {
      *error = "injection tensor = " + std::to_string(j.tensor) + ": must be >= 0";
      return false;
    }
  }
  return true;
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

json::object failure_object(const std::string& message, const ElementReport& w) {
  json::object f;
  f["message"] = message;
  f["tensor"] = w.tensor;
  f["row"] = w.row;
  f["col"] = w.col;
  f["expected_exact"] = w.expected_exact;
  f["expected_rounded"] = w.expected_rounded;
  f["observed"] = w.observed;
  f["admissible"] = w.admissible;
  f["ulp_error"] = std::isfinite(w.ulp_error) ? w.ulp_error : 1e308;
  f["bound"] = w.bound;
  return f;
}

bool write_file(const std::string& path, const json::object& o) {
  std::ofstream out(path);
  if (!out) return false;
  out << results::pretty_json(o) << "\n";
  return static_cast<bool>(out);
}

json::object repro_object(const std::string& subject, const std::string& property, const Case& c) {
  json::object o;
  o["kconform_repro"] = kReproVersion;
  o["subject"] = subject;
  o["property"] = property;
  for (auto& kv : case_object(c)) o[kv.key()] = kv.value();
  return o;
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
  return parse_case(v.as_object(), kReproVersion, out, error);
}

std::string write_repro(const std::string& dir, const Subject& s, PropertyId p, const Case& c,
                        const Verdict& v) {
  json::object o = repro_object(s.name(), property_name(p), c);
  o["failure"] = failure_object(v.message, v.worst);
  char hash[16];
  std::snprintf(
      hash, sizeof hash, "%012llx",
      static_cast<unsigned long long>(fnv1a(case_to_json(c) + s.name()) & 0xffffffffffffull));
  const std::string path = dir + "/" + c.op + "-" + property_name(p) + "-" + hash + ".json";
  return write_file(path, o) ? path : "";
}

bool rewrite_repro(const Repro& r, const std::string& path, std::string* error) {
  json::object o = repro_object(r.subject, r.property, r.c);
  o["failure"] = failure_object(r.message, r.failure);
  if (!write_file(path, o)) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

bool read_repro(const std::string& path, Repro* out, std::string* error) {
  json::value v;
  if (!results::read_json_object(path, &v, error)) return false;
  const json::object& o = v.as_object();
  if (!o.contains("kconform_repro") || !o.contains("subject") || !o.contains("property")) {
    *error = path + ": not a kconform repro (kconform_repro, subject, property missing)";
    return false;
  }
  try {
    const std::int64_t version = int_field(o, "", "kconform_repro");
    out->version = version == 1 || version == kReproVersion ? static_cast<int>(version) : -1;
    if (out->version != 1 && out->version != kReproVersion) {
      *error = path + ": field kconform_repro = " + std::to_string(version) + ": repro version" +
               " (this kconform reads 1 and " + std::to_string(kReproVersion) + ")";
      return false;
    }
    out->subject = string_field(o, "", "subject");
    out->property = string_field(o, "", "property");
    if (!parse_case(o, out->version, &out->c, error)) {
      *error = path + ": " + *error;
      return false;
    }
    if (o.contains("failure")) {
      const json::object& f = as_object(o.at("failure"), "failure");
      out->message = string_field(f, "failure.", "message");
      out->failure.tensor = string_field(f, "failure.", "tensor");
      out->failure.row = int_field(f, "failure.", "row");
      out->failure.col = int_field(f, "failure.", "col");
      out->failure.observed = string_field(f, "failure.", "observed");
      out->failure.expected_rounded = string_field(f, "failure.", "expected_rounded");
      out->failure.expected_exact = string_field(f, "failure.", "expected_exact");
      out->failure.admissible =
          f.contains("admissible") ? string_field(f, "failure.", "admissible") : "";
      out->failure.ulp_error = number_field(f, "failure.", "ulp_error");
      out->failure.bound = number_field(f, "failure.", "bound");
    }
  } catch (const std::invalid_argument& e) {
    *error = path + ": " + e.what();
    return false;
  } catch (const std::exception& e) {
    *error = path + ": malformed repro (" + e.what() + ")";
    return false;
  }
  return true;
}

std::string replay_command(const std::string& path) { return "kconform replay " + path; }

}  // namespace kc::props
