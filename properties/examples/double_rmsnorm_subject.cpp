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

#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"
#include "kc/props/values.h"

namespace {

using kc::DType;
using kc::Status;
using kc::StatusCode;
using kc::props::Case;

using kc::props::load_element;
using kc::props::store_element;

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
  // The sizes it supports, so that the generators reach them (hidden up to 2^17; kconform's own
  // kernels stop at 65536, the family's default claim).
  kc::props::SizeClaims claims() const override {
    kc::props::SizeClaims c;
    c.max_params = {{"hidden", std::int64_t{1} << 17}};
    return c;
  }
  Status check(const Case& c) const override {
    const std::int64_t hidden = kc::props::norm_hidden(c);
    const float eps = kc::props::norm_eps(c);
    if (c.num_tokens < 0) return Status(StatusCode::kInvalidArgument, "example: num_tokens < 0");
    if (hidden < 1 || hidden > (1 << 17)) {
      return Status(StatusCode::kUnsupported, "example: hidden must be in [1, 2^17]");
    }
    if (!(eps >= 0.0f) || !std::isfinite(eps)) {
      return Status(StatusCode::kInvalidArgument, "example: eps must be finite and >= 0");
    }
    // Tensors (kc/props/rmsnorm.h): 0 input, 1 weight (one row), 2 output (when in place, the
    // output is the input's memory and its own row stride is unused).
    using T = kc::props::RmsNormTensors;
    if (c.tensors[T::kInput].row_stride < hidden ||
        (!c.tensors[T::kOutput].in_place && c.tensors[T::kOutput].row_stride < hidden)) {
      return Status(StatusCode::kInvalidArgument, "example: row stride < hidden");
    }
    return Status::ok();
  }
  // run() returns the Status check() would (support_agrees holds a subject to that).
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const Status st = check(c);
    if (!st.is_ok() || c.num_tokens == 0) return st;
    using T = kc::props::RmsNormTensors;
    const std::int64_t hidden = kc::props::norm_hidden(c);
    const std::int64_t xs = c.tensors[T::kInput].row_stride;
    const std::int64_t ys = c.tensors[T::kOutput].in_place ? xs : c.tensors[T::kOutput].row_stride;
    std::vector<double> row(static_cast<std::size_t>(hidden));
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      double sum = 0;
      for (std::int64_t i = 0; i < hidden; ++i) {
        row[static_cast<std::size_t>(i)] = load_element(c.dtype, p[T::kInput], r * xs + i);
        sum += row[static_cast<std::size_t>(i)] * row[static_cast<std::size_t>(i)];
      }
      const double inv =
          1.0 / std::sqrt(sum / static_cast<double>(hidden) + kc::props::norm_eps(c));
      for (std::int64_t i = 0; i < hidden; ++i) {
        // Rounded to fp32 first, then to the storage format (see the bound's derivation).
        const double v =
            row[static_cast<std::size_t>(i)] * inv * load_element(c.dtype, p[T::kWeight], i);
        store_element(c.dtype, p[T::kOutput], r * ys + i, static_cast<float>(v));
      }
    }
    return Status::ok();
  }
};

KC_REGISTER_SUBJECT(std::make_unique<DoubleRmsNorm>());

}  // namespace
