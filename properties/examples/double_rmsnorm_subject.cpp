// An example of a user's own subject: a plain host RMSNorm evaluated in double precision,
// checked against the rmsnorm.fp32 profile by every property kconform has.
//
// Build it into kconform without editing kconform:
//   cmake --preset default -DKC_EXTRA_SUBJECTS=properties/examples/double_rmsnorm_subject.cpp
//   kconform check --subject example.double.rmsnorm.fp32
//
// Bound (stated by the subject, with its derivation): the sum of squares of n <= 2^17 values in
// double has relative error <= n 2^-53 <= 2^-36; mean, +eps, sqrt, divide and the two products
// add six roundings of 2^-53. So the double before the final rounding is within 2^-35.9 relative
// of the exact x R w, i.e. within 2^-35.9 * 2^p ulps of the output format (p <= 24): below 2^-11.
// Rounding it costs at most 0.5 ulp plus twice that; 16-bit outputs are rounded via fp32
// (double -> fp32 -> 16-bit), which adds at most half an fp32 ulp, 2^-13 ulp of fp16 or less:
// 0.5 + 2^-10 + 2^-13 < 0.501.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/scalar.h"
#include "kc/props/subject.h"

namespace {

using kc::DType;
using kc::Status;
using kc::StatusCode;
using kc::props::Case;

float load(DType d, const void* p, std::int64_t i) {
  if (d == DType::kFp32) return static_cast<const float*>(p)[i];
  const std::uint16_t h = static_cast<const std::uint16_t*>(p)[i];
  return d == DType::kFp16 ? kc::detail::fp16_to_float(h) : kc::detail::bf16_to_float(h);
}

void store(DType d, void* p, std::int64_t i, double v) {
  const float f = static_cast<float>(v);
  if (d == DType::kFp32) {
    static_cast<float*>(p)[i] = f;
    return;
  }
  const std::uint16_t h =
      d == DType::kFp16 ? kc::detail::float_to_fp16(f) : kc::detail::float_to_bf16(f);
  static_cast<std::uint16_t*>(p)[i] = h;
}

class DoubleRmsNorm : public kc::props::Subject {
 public:
  std::string name() const override { return "example.double.rmsnorm.fp32"; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return "rmsnorm.fp32"; }
  kc::props::Backend backend() const override { return kc::props::Backend::kHost; }
  kc::props::BoundSpec bound() const override {
    kc::props::BoundSpec b;
    b.kind = kc::props::BoundSpec::Kind::kUlps;
    b.ulps = 0.501;
    b.derivation = "double evaluation, one final rounding (see the file's header)";
    return b;
  }
  Status check(const Case& c) const override {
    if (c.num_tokens < 0) return Status(StatusCode::kInvalidArgument, "example: num_tokens < 0");
    if (c.hidden < 1 || c.hidden > (1 << 17)) {
      return Status(StatusCode::kUnsupported, "example: hidden must be in [1, 2^17]");
    }
    if (!(c.eps >= 0.0f) || !std::isfinite(c.eps)) {
      return Status(StatusCode::kInvalidArgument, "example: eps must be finite and >= 0");
    }
    // Tensors: 0 input, 1 weight (one row), 2 output (row stride unused when in place).
    if (c.tensors[0].row_stride < c.hidden ||
        (!c.tensors[2].in_place && c.tensors[2].row_stride < c.hidden)) {
      return Status(StatusCode::kInvalidArgument, "example: row stride < hidden");
    }
    return Status::ok();
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const Status st = check(c);
    if (!st.is_ok() || c.num_tokens == 0) return st;
    const std::int64_t xs = c.tensors[0].row_stride;
    const std::int64_t ys = c.tensors[2].in_place ? xs : c.tensors[2].row_stride;
    const std::size_t es = kc::dtype_size(c.dtype);
    std::vector<double> row(static_cast<std::size_t>(c.hidden));
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      const void* x = static_cast<const char*>(p[0]) + r * xs * static_cast<std::int64_t>(es);
      void* y = static_cast<char*>(p[2]) + r * ys * static_cast<std::int64_t>(es);
      double sum = 0;
      for (std::int64_t i = 0; i < c.hidden; ++i) {
        row[static_cast<std::size_t>(i)] = load(c.dtype, x, i);
        sum += row[static_cast<std::size_t>(i)] * row[static_cast<std::size_t>(i)];
      }
      const double inv = 1.0 / std::sqrt(sum / static_cast<double>(c.hidden) + c.eps);
      for (std::int64_t i = 0; i < c.hidden; ++i) {
        store(c.dtype, y, i, row[static_cast<std::size_t>(i)] * inv * load(c.dtype, p[1], i));
      }
    }
    return Status::ok();
  }
};

KC_REGISTER_SUBJECT(std::make_unique<DoubleRmsNorm>());

}  // namespace
