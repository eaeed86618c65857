// Status and enum names.
#include <cstring>

#include "kc/kernels/dtype.h"
#include "kc/kernels/rmsnorm.h"
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

const char* residual_sum_name(ResidualSum v) {
  return v == ResidualSum::kFp32 ? "fp32" : v == ResidualSum::kRounded ? "rounded" : "?";
}
const char* output_rounding_name(OutputRounding v) {
  return v == OutputRounding::kSingle             ? "single"
         : v == OutputRounding::kCastBeforeWeight ? "cast_before_weight"
                                                  : "?";
}
const char* weight_offset_name(WeightOffset v) {
  return v == WeightOffset::kZero ? "zero" : v == WeightOffset::kOne ? "one" : "?";
}

}  // namespace kc
