// Comparisons of case buffers (compare.h).
#include "compare.h"

#include <sstream>

namespace kc::props {

std::string first_difference(const OpSpec& op, const Case& c, const CaseBuffers& a,
                             const CaseBuffers& b, const char* what_a, const char* what_b) {
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (!a.owns(t)) continue;
    const HostTensor& x = a.tensor(static_cast<int>(t));
    const HostTensor& y = b.tensor(static_cast<int>(t));
    for (std::size_t i = 0; i < x.storage.size(); ++i) {
      if (x.storage[i] == y.storage[i]) continue;
      std::ostringstream os;
      os << op.tensors[t].name;
      if (x.is_element[i]) {
        const std::int64_t el = static_cast<std::int64_t>((i - x.begin) / x.elem);
        const std::int64_t row = el / x.stride;
        const std::int64_t col = el % x.stride;
        os << " row " << row << " element " << col << ": " << what_a << ' '
           << describe_element(c, x, x.get_any(row, col)) << ", " << what_b << ' '
           << describe_element(c, y, y.get_any(row, col));
      } else {
        os << " padding/canary byte " << static_cast<long long>(i) - static_cast<long long>(x.begin)
           << " (relative to element 0): " << what_a << " 0x" << std::hex << int(x.storage[i])
           << ", " << what_b << " 0x" << int(y.storage[i]);
      }
      return os.str();
    }
  }
  return "";
}

std::string changed_inputs(const OpSpec& op, const Case& c, const CaseBuffers& before,
                           const CaseBuffers& after) {
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (op.tensors[t].output() || !before.owns(t)) continue;
    bool aliased = false;
    for (std::size_t o = 0; o < op.tensors.size(); ++o) {
      aliased = aliased || (op.tensors[o].output() && c.tensors[o].in_place &&
                            op.tensors[o].alias_of == static_cast<int>(t));
    }
    if (aliased) continue;
    if (before.tensor(static_cast<int>(t)).storage != after.tensor(static_cast<int>(t)).storage) {
      return std::string("input tensor '") + op.tensors[t].name + "' was modified";
    }
  }
  return "";
}

std::string compare_output_rows(const OpSpec& op, const Case& ca, const CaseBuffers& a,
                                std::int64_t ra, const Case& cb, const CaseBuffers& b,
                                std::int64_t rb) {
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (!op.tensors[t].output()) continue;
    const HostTensor& x = a.tensor(static_cast<int>(t));
    const HostTensor& y = b.tensor(static_cast<int>(t));
    const std::int64_t xr = op.tensors[t].rows ? ra : 0;
    const std::int64_t yr = op.tensors[t].rows ? rb : 0;
    for (std::int64_t i = 0; i < x.cols; ++i) {
      if (x.get_any(xr, i) != y.get_any(yr, i)) {
        std::ostringstream os;
        os << op.tensors[t].name << " element " << i << ": row " << ra << " of the first run "
           << describe_element(ca, x, x.get_any(xr, i)) << ", row " << rb << " of the second "
           << describe_element(cb, y, y.get_any(yr, i)) << " (second case: " << describe(cb) << ")";
        return os.str();
      }
    }
  }
  return "";
}

}  // namespace kc::props
