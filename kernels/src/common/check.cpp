// Shared argument-check building blocks (check.h).
#include "common/check.h"

#include <limits>

namespace kc::detail {

bool overlaps(const Extent& a, const Extent& b) {
  if (a.end() <= b.base || b.end() <= a.base) return false;
  if (a.stride != b.stride || a.elem != b.elem || a.cols != b.cols || a.rows == 1 || b.rows == 1) {
    return true;
  }
  const std::int64_t d = static_cast<std::int64_t>(b.base - a.base);
  if (d % a.elem != 0) return true;
  const std::int64_t s = a.stride;
  const std::int64_t r = ((d / a.elem) % s + s) % s;
  return !(r >= a.cols && r + a.cols <= s);
}

bool same_rows(const Extent& a, const Extent& b) {
  return a.base == b.base && a.stride == b.stride;
}

Status check_dtype(const char* op, const char* name, DType d, DType want) {
  if (!dtype_valid(d)) {
    return invalid(format("%s: %s dtype %d is not a dtype; use fp32, fp16 or bf16", op, name,
                          static_cast<int>(d)));
  }
  if (d != want) {
    return invalid(
        format("%s: %s dtype %s differs from input dtype %s; all tensors must share "
               "one dtype",
               op, name, dtype_name(d), dtype_name(want)));
  }
  return Status::ok();
}

Status check_stride(const char* op, const char* name, std::int64_t stride, std::int64_t cols,
                    const char* cols_name, std::int64_t rows) {
  if (stride < cols) {
    return invalid(
        format("%s: %s row_stride = %lld is smaller than %s = %lld; row strides "
               "must be >= %s",
               op, name, static_cast<long long>(stride), cols_name, static_cast<long long>(cols),
               cols_name));
  }
  // The last byte touched must be addressable: (rows - 1) * stride + cols elements.
  const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 8;
  if (rows > 1 && (rows - 1) > (limit - cols) / stride) {
    return invalid(format("%s: %s extent (%lld rows of stride %lld) overflows 64-bit addressing",
                          op, name, static_cast<long long>(rows), static_cast<long long>(stride)));
  }
  return Status::ok();
}

Status check_pointer(const char* op, const char* name, const void* p, DType dtype,
                     std::int64_t rows) {
  if (p == nullptr) {
    return invalid(
        format("%s: %s data is null with num_tokens = %lld; data must be non-null "
               "when num_tokens > 0",
               op, name, static_cast<long long>(rows)));
  }
  const std::size_t elem = dtype_size(dtype);
  if (reinterpret_cast<std::uintptr_t>(p) % elem != 0) {
    return invalid(
        format("%s: %s data %p is not aligned to its %zu-byte element; base pointers "
               "must be element-aligned",
               op, name, p, elem));
  }
  return Status::ok();
}

Status check_aliasing(const char* op, const Extent* outs, const int* own, int n_out,
                      const Extent* ins, int n_in) {
  for (int o = 0; o < n_out; ++o) {
    for (int i = 0; i < n_in; ++i) {
      const Extent& in = ins[i];
      if (!overlaps(outs[o], in)) continue;
      if (own[o] == i && same_rows(outs[o], in)) continue;  // exact in place
      return invalid(
          format("%s: %s overlaps %s without being the same pointer and stride; an "
                 "output may only alias its own input exactly",
                 op, outs[o].name, in.name));
    }
    for (int p = o + 1; p < n_out; ++p) {
      if (overlaps(outs[o], outs[p])) {
        return invalid(format("%s: %s overlaps %s; the outputs must not overlap", op, outs[o].name,
                              outs[p].name));
      }
    }
  }
  return Status::ok();
}

}  // namespace kc::detail
