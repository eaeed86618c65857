// Case parameters and one-line descriptions.
#include "kc/props/case.h"

#include <sstream>

#include "kc/props/family.h"

namespace kc::props {

const char* special_name(Special s) {
  return s == Special::kNan      ? "nan"
         : s == Special::kPosInf ? "+inf"
         : s == Special::kNegInf ? "-inf"
                                 : "?";
}

const Param* Case::find_param(const std::string& name) const {
  for (const Param& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::int64_t Case::param_int(const std::string& name, std::int64_t fallback) const {
  const Param* p = find_param(name);
  return p != nullptr && p->kind == ParamKind::kInt ? p->i : fallback;
}

float Case::param_fp32(const std::string& name, float fallback) const {
  const Param* p = find_param(name);
  return p != nullptr && p->kind == ParamKind::kFp32 ? static_cast<float>(p->f) : fallback;
}

double Case::param_fp64(const std::string& name, double fallback) const {
  const Param* p = find_param(name);
  return p != nullptr && p->kind == ParamKind::kFp64 ? p->f : fallback;
}

namespace {
Param& slot(std::vector<Param>& params, const std::string& name) {
  for (Param& p : params) {
    if (p.name == name) return p;
  }
  params.push_back(Param{name, ParamKind::kInt, 0, 0});
  return params.back();
}
}  // namespace

void Case::set_int(const std::string& name, std::int64_t v) {
  Param& p = slot(params, name);
  p.kind = ParamKind::kInt;
  p.i = v;
}
void Case::set_fp32(const std::string& name, float v) {
  Param& p = slot(params, name);
  p.kind = ParamKind::kFp32;
  p.f = static_cast<double>(v);
}
void Case::set_fp64(const std::string& name, double v) {
  Param& p = slot(params, name);
  p.kind = ParamKind::kFp64;
  p.f = v;
}

std::string describe(const Case& c) {
  std::ostringstream os;
  os << c.profile << ' ' << dtype_name(c.dtype) << " tokens=" << c.num_tokens;
  for (const Param& p : c.params) {
    os << ' ' << p.name << '=';
    if (p.kind == ParamKind::kInt) {
      os << p.i;
    } else if (p.kind == ParamKind::kFp32) {
      os << static_cast<float>(p.f);
    } else {
      os << p.f;
    }
  }
  const Family* fam = family_for(c.op);
  const OpSpec* op = fam != nullptr ? fam->find_op(c.op) : nullptr;
  for (std::size_t t = 0; t < c.tensors.size(); ++t) {
    const TensorLayout& l = c.tensors[t];
    os << ' ' << (op && t < op->tensors.size() ? op->tensors[t].name : "t");
    if (l.in_place) {
      os << "=in_place";
    } else {
      os << "[stride=" << l.row_stride << ",offset=" << l.offset << ']';
    }
  }
  auto class_name = [](const std::vector<ClassInfo>* table, std::uint8_t k) -> std::string {
    if (table != nullptr && k < table->size()) return (*table)[k].name;
    return "class" + std::to_string(k);
  };
  os << " rows={";
  for (std::size_t i = 0; i < c.row_classes.size(); ++i) {
    os << (i ? "," : "") << class_name(fam ? &fam->row_classes() : nullptr, c.row_classes[i]);
  }
  os << "} weight=" << class_name(fam ? &fam->weight_classes() : nullptr, c.weight_class);
  std::vector<std::size_t> inputs;
  if (op != nullptr) {
    for (std::size_t t = 0; t < op->tensors.size(); ++t) {
      if (op->tensors[t].injectable()) inputs.push_back(t);
    }
  }
  for (const Injection& j : c.injections) {
    // The tensor an injection lands on (materialize: modulo the injectable inputs).
    const std::size_t k = static_cast<std::size_t>(j.tensor < 0 ? -j.tensor : j.tensor);
    os << " inject(" << (inputs.empty() ? "t" : op->tensors[inputs[k % inputs.size()]].name) << '['
       << j.row << ',' << j.col << "]=" << special_name(j.kind) << ')';
  }
  os << " seed=" << c.seed;
  return os.str();
}

}  // namespace kc::props
