// The norm family's case helpers for subjects (kc/props/rmsnorm.h): profiles as kernel modes,
// kernel arguments over a case's pointers, and a ready-made case.
#include "kc/props/rmsnorm.h"

#include "kc/props/family.h"
#include "kc/ref/rmsnorm.h"

namespace kc::props {

bool norm_modes(const std::string& profile, ResidualSum* sum, OutputRounding* rounding,
                WeightOffset* offset) {
  ref::NormProfile p;
  if (!ref::profile_from_name(profile, &p) || p == ref::NormProfile::kFusedLegacyMixed) {
    return false;
  }
  const ref::NormStructure st = ref::profile_structure(p);
  *sum = st.ss_from == ref::NormSource::kRoundedSum ? ResidualSum::kRounded : ResidualSum::kFp32;
  *rounding = st.cast_before_weight ? OutputRounding::kCastBeforeWeight : OutputRounding::kSingle;
  *offset = st.weight_offset_one ? WeightOffset::kOne : WeightOffset::kZero;
  return true;
}

std::vector<std::string> norm_kernel_profiles() {
  std::vector<std::string> out;
  for (ref::NormProfile p : ref::kAllNormProfiles) {
    ResidualSum sum;
    OutputRounding rounding;
    WeightOffset offset;
    if (norm_modes(ref::profile_name(p), &sum, &rounding, &offset)) {
      out.push_back(ref::profile_name(p));
    }
  }
  return out;
}

RmsNormArgs rmsnorm_args(const Case& c, const std::vector<void*>& ptr) {
  using T = RmsNormTensors;
  ResidualSum sum;
  RmsNormArgs a;
  norm_modes(c.profile, &sum, &a.output_rounding, &a.weight_offset);
  a.num_tokens = c.num_tokens;
  a.hidden = norm_hidden(c);
  a.eps = norm_eps(c);
  a.input = ConstRows{ptr[T::kInput], c.dtype, c.tensors[T::kInput].row_stride};
  a.weight = ConstVector{ptr[T::kWeight], c.dtype};
  const std::int64_t out_stride = c.tensors[T::kOutput].in_place ? c.tensors[T::kInput].row_stride
                                                                 : c.tensors[T::kOutput].row_stride;
  a.output = Rows{ptr[T::kOutput], c.dtype, out_stride};
  return a;
}

FusedAddRmsNormArgs fused_add_rmsnorm_args(const Case& c, const std::vector<void*>& ptr) {
  using T = FusedAddRmsNormTensors;
  FusedAddRmsNormArgs a;
  norm_modes(c.profile, &a.residual_sum, &a.output_rounding, &a.weight_offset);
  a.num_tokens = c.num_tokens;
  a.hidden = norm_hidden(c);
  a.eps = norm_eps(c);
  a.input = ConstRows{ptr[T::kInput], c.dtype, c.tensors[T::kInput].row_stride};
  a.residual = ConstRows{ptr[T::kResidual], c.dtype, c.tensors[T::kResidual].row_stride};
  a.weight = ConstVector{ptr[T::kWeight], c.dtype};
  a.output = Rows{ptr[T::kOutput], c.dtype,
                  c.tensors[T::kOutput].in_place ? c.tensors[T::kInput].row_stride
                                                 : c.tensors[T::kOutput].row_stride};
  a.residual_out =
      Rows{ptr[T::kResidualOut], c.dtype,
           c.tensors[T::kResidualOut].in_place ? c.tensors[T::kResidual].row_stride
                                               : c.tensors[T::kResidualOut].row_stride};
  return a;
}

Case norm_case(const std::string& profile, DType dtype, std::int64_t tokens, std::int64_t hidden,
               float eps, std::uint64_t seed) {
  Case c;
  c.profile = profile;
  const OpSpec* op = nullptr;
  if (find_profile(profile, nullptr, &op)) c.op = op->name;
  c.dtype = dtype;
  c.num_tokens = tokens;
  set_norm_hidden(c, hidden);
  set_norm_eps(c, eps);
  const std::size_t n = op != nullptr ? op->tensors.size() : 0;
  c.tensors.assign(n, TensorLayout{hidden, 0, false});
  c.row_classes = {static_cast<std::uint8_t>(NormRowClass::kNormal)};
  c.weight_class = static_cast<std::uint8_t>(NormWeightClass::kNormal);
  c.seed = seed;
  return c;
}

}  // namespace kc::props
