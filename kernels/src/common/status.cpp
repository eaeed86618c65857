// Status and dtype names.
#include <cstring>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"

namespace kc {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kUnsupported:
      return "unsupported";
    case StatusCode::kCudaError:
      return "cuda_error";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(status_code_name(code_)) + ": " + message_;
}

bool dtype_from_name(const char* name, DType* out) {
  for (DType d : kAllDTypes) {
    if (std::strcmp(name, dtype_name(d)) == 0) {
      *out = d;
      return true;
    }
  }
  return false;
}

}  // namespace kc
