// Case names and one-line descriptions.
#include <cstdio>
#include <sstream>

#include "kc/props/case.h"
#include "kc/props/op.h"

namespace kc::props {

const char* value_class_name(ValueClass c) {
  static const char* const names[] = {"normal",   "tiny",    "huge",        "subnormal",    "zero",
                                      "constant", "one_hot", "alternating", "eps_dominated"};
  const auto i = static_cast<std::size_t>(c);
  return i < sizeof names / sizeof names[0] ? names[i] : "?";
}

const char* weight_class_name(WeightClass c) {
  static const char* const names[] = {"normal", "ones", "near_minus_one", "wide"};
  const auto i = static_cast<std::size_t>(c);
  return i < sizeof names / sizeof names[0] ? names[i] : "?";
}

const char* special_name(Special s) {
  return s == Special::kNan      ? "nan"
         : s == Special::kPosInf ? "+inf"
         : s == Special::kNegInf ? "-inf"
                                 : "?";
}

std::string describe(const Case& c) {
  std::ostringstream os;
  os << c.profile << ' ' << dtype_name(c.dtype) << " tokens=" << c.num_tokens
     << " hidden=" << c.hidden << " eps=" << c.eps;
  const OpInfo* op = find_op(c.op);
  for (std::size_t t = 0; t < c.tensors.size(); ++t) {
    const TensorLayout& l = c.tensors[t];
    os << ' ' << (op && t < op->tensors.size() ? op->tensors[t].name : "t");
    if (l.in_place) {
      os << "=in_place";
    } else {
      os << "[stride=" << l.row_stride << ",offset=" << l.offset << ']';
    }
  }
  os << " rows={";
  for (std::size_t i = 0; i < c.row_classes.size(); ++i) {
    os << (i ? "," : "") << value_class_name(c.row_classes[i]);
  }
  os << "} weight=" << weight_class_name(c.weight_class);
  for (const Injection& j : c.injections) {
    os << " inject("
       << (op && j.tensor < static_cast<int>(op->tensors.size())
               ? op->tensors[static_cast<std::size_t>(j.tensor)].name
               : "t")
       << '[' << j.row << ',' << j.col << "]=" << special_name(j.kind) << ')';
  }
  os << " seed=" << c.seed;
  return os.str();
}

}  // namespace kc::props
