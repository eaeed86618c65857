// Building blocks of the pure argument checks of every op family (no CUDA call): one-sentence
// Status messages that name the op, the value and the rule, and the row-extent arithmetic that
// decides whether two tensors may share a byte. A family's check (e.g.
// rmsnorm/rmsnorm_check.cpp) composes them in the order its header's contract states.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"

namespace kc::detail {

template <typename... A>
std::string format(const char* fmt, A... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

inline Status invalid(std::string msg) {
  return Status(StatusCode::kInvalidArgument, std::move(msg));
}
inline Status unsupported(std::string msg) {
  return Status(StatusCode::kUnsupported, std::move(msg));
}

// The bytes a batch of rows can touch, and the rows themselves for the exact overlap test:
// `rows` rows of `cols` elements of `elem` bytes, `stride` elements apart, from `base`.
struct Extent {
  const char* name;
  std::uintptr_t base;
  std::int64_t stride;  // elements
  std::int64_t rows;
  std::int64_t cols;
  std::int64_t elem;
  std::uintptr_t end() const {
    return base + static_cast<std::uintptr_t>(((rows - 1) * stride + cols) * elem);
  }
};

// True when two row sets may share a byte. Exact for equal strides and column counts (the
// column windows modulo the stride must intersect), conservative (address ranges) otherwise.
bool overlaps(const Extent& a, const Extent& b);
// The same rows: same base and stride (an exact in-place alias).
bool same_rows(const Extent& a, const Extent& b);

// `name`'s dtype is a dtype and equals `want` (the input's).
Status check_dtype(const char* op, const char* name, DType d, DType want);

// A row stride of at least `cols` elements (`cols_name` says what cols is, e.g. "hidden"), and a
// last touched element, (rows - 1) * stride + cols, that 64-bit byte addressing reaches.
Status check_stride(const char* op, const char* name, std::int64_t stride, std::int64_t cols,
                    const char* cols_name, std::int64_t rows);

// Non-null and element-aligned data (asked only when rows > 0).
Status check_pointer(const char* op, const char* name, const void* p, DType dtype,
                     std::int64_t rows);

// Every output is either exactly its own input (same pointer and stride: in place) or overlaps
// nothing, and no two outputs overlap. own[o] is the index in `ins` of the input output o may
// alias exactly, or -1.
Status check_aliasing(const char* op, const Extent* outs, const int* own, int n_out,
                      const Extent* ins, int n_in);

}  // namespace kc::detail
