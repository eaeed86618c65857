// Host twin of the act_and_mul kernels: every element through act_and_mul_value of
// act_and_mul_row.h, the definition the kernels share, so GPU and twin agree bit for bit.
// Conforms to the profile the arguments select (act_and_mul.h).
#include "act_and_mul/act_and_mul_job.h"
#include "act_and_mul/act_and_mul_row.h"

namespace kc {
namespace detail {
namespace {

template <class Act, ActRounding R, DType D>
void twin_rows(const ActAndMulArgs& a) {
  using T = typename Storage<D>::Type;
  for (std::int64_t row = 0; row < a.num_tokens; ++row) {
    const T* x = static_cast<const T*>(a.input.data) + row * a.input.row_stride;
    T* y = static_cast<T*>(a.output.data) + row * a.output.row_stride;
    for (std::int64_t j = 0; j < a.d; ++j) {
      y[j] = act_and_mul_value<Act, R, D>(Storage<D>::load(x[j]), Storage<D>::load(x[a.d + j]));
    }
  }
}

template <class Act, ActRounding R>
void by_dtype(const ActAndMulArgs& a) {
  switch (a.input.dtype) {
    case DType::kFp32:
      return twin_rows<Act, R, DType::kFp32>(a);
    case DType::kFp16:
      return twin_rows<Act, R, DType::kFp16>(a);
    case DType::kBf16:
      return twin_rows<Act, R, DType::kBf16>(a);
  }
}

template <class Act>
void by_rounding(const ActAndMulArgs& a) {
  if (a.rounding == ActRounding::kTorch) return by_dtype<Act, ActRounding::kTorch>(a);
  by_dtype<Act, ActRounding::kSingle>(a);
}

}  // namespace
}  // namespace detail

Status act_and_mul_twin(const ActAndMulArgs& args) {
  KC_RETURN_IF_ERROR(detail::check_act_job(args));
  switch (args.act) {
    case Activation::kSilu:
      detail::by_rounding<detail::Silu>(args);
      break;
    case Activation::kGelu:
      detail::by_rounding<detail::Gelu>(args);
      break;
    case Activation::kGeluTanh:
      detail::by_rounding<detail::GeluTanh>(args);
      break;
  }
  return Status::ok();
}

}  // namespace kc
