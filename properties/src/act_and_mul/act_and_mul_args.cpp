// The act_and_mul family's case helpers for subjects (kc/props/act_and_mul.h).
#include "kc/props/act_and_mul.h"

#include "kc/props/family.h"
#include "kc/ref/act_and_mul.h"

namespace kc::props {

bool act_modes(const std::string& profile, Activation* act, ActRounding* rounding) {
  ref::ActProfile p;
  if (!ref::act_profile_from_name(profile, &p)) return false;
  *act = p.function == ref::ActFunction::kSilu   ? Activation::kSilu
         : p.function == ref::ActFunction::kGelu ? Activation::kGelu
                                                 : Activation::kGeluTanh;
  *rounding = p.rounding == ref::ActRounding::kSingle ? ActRounding::kSingle : ActRounding::kTorch;
  return true;
}

std::vector<std::string> act_kernel_profiles() {
  std::vector<std::string> out;
  for (const ref::ActProfile& p : ref::kAllActProfiles) out.push_back(ref::act_profile_name(p));
  return out;
}

ActAndMulArgs act_and_mul_args(const Case& c, const std::vector<void*>& ptr) {
  using T = ActAndMulTensors;
  ActAndMulArgs a;
  act_modes(c.profile, &a.act, &a.rounding);
  a.num_tokens = c.num_tokens;
  a.d = act_d(c);
  a.input = ConstRows{ptr[T::kInput], c.dtype, c.tensors[T::kInput].row_stride};
  a.output = Rows{ptr[T::kOutput], c.dtype, c.tensors[T::kOutput].row_stride};
  return a;
}

Case act_case(const std::string& profile, DType dtype, std::int64_t tokens, std::int64_t d,
              std::uint64_t seed) {
  Case c;
  c.op = "act_and_mul";
  c.profile = profile;
  c.dtype = dtype;
  c.num_tokens = tokens;
  set_act_d(c, d);
  c.tensors = {TensorLayout{2 * d, 0, false}, TensorLayout{d, 0, false}};
  c.row_classes = {static_cast<std::uint8_t>(ActRowClass::kNormal)};
  c.weight_class = 0;
  c.seed = seed;
  return c;
}

}  // namespace kc::props
