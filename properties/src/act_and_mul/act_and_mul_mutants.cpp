// Host calibration mutants of the act_and_mul family (act_and_mul_mutants.h): the twin's exact
// structure (every element through kernels/src/act_and_mul/act_and_mul_row.h, the same layout)
// with one defect each; the controls (the same code without a defect) for every profile.
#include "act_and_mul_mutants.h"

#include <cmath>
#include <memory>

#include "act_and_mul/act_and_mul_job.h"
#include "act_and_mul/act_and_mul_row.h"
#include "kc/props/act_and_mul.h"
#include "kc/props/buffers.h"

namespace kc::props {
namespace {

using detail::Storage;

// The element of the twin for a runtime activation and rounding.
template <DType D>
typename Storage<D>::Type twin_value(Activation a, ActRounding r, float g, float u) {
  using detail::Gelu;
  using detail::GeluTanh;
  using detail::Silu;
  const bool torch = r == ActRounding::kTorch;
  switch (a) {
    case Activation::kSilu:
      return torch ? detail::act_and_mul_value<Silu, ActRounding::kTorch, D>(g, u)
                   : detail::act_and_mul_value<Silu, ActRounding::kSingle, D>(g, u);
    case Activation::kGelu:
      return torch ? detail::act_and_mul_value<Gelu, ActRounding::kTorch, D>(g, u)
                   : detail::act_and_mul_value<Gelu, ActRounding::kSingle, D>(g, u);
    case Activation::kGeluTanh:
      break;
  }
  return torch ? detail::act_and_mul_value<GeluTanh, ActRounding::kTorch, D>(g, u)
               : detail::act_and_mul_value<GeluTanh, ActRounding::kSingle, D>(g, u);
}

// __expf-like: 2^(rn32(x log2 e)), the power itself taken exactly (the hardware's ex2.approx adds
// about 2 ulp more; the defect the property must see is the argument's rounding, whose relative
// error |x| 2^-24 grows with |x|, and the overflow of e^-g below g = -88.7).
float fast_exp(float x) {
  const float t = x * 1.44269504f;
  return static_cast<float>(std::exp2(static_cast<double>(t)));
}

// The engines' fp32 formulas (every operation rounded to fp32).
float silu_fast_exp(float g) { return g / (1.0f + fast_exp(-g)); }
float gelu_erf_formula(float g) { return (0.5f * g) * (1.0f + std::erf(g * 0.70710678f)); }

// y for an fp32 activation value a: the claimed profile's output step.
template <DType D>
typename Storage<D>::Type output_of(float a, float u, ActRounding r) {
  using S = Storage<D>;
  if (r == ActRounding::kTorch) return S::store(S::load(S::store(a)) * u);
  return S::store(a * u);
}

template <DType D>
void mutant_rows(const ActAndMulArgs& a, ActDefect defect) {
  using S = Storage<D>;
  using T = typename S::Type;
  const std::int64_t d = a.d;
  const std::int64_t ys = defect == ActDefect::kOutputStrideIgnored ? d : a.output.row_stride;
  const std::int64_t written = defect == ActDefect::kMissingTail ? d - d % 8 : d;
  for (std::int64_t row = 0; row < a.num_tokens; ++row) {
    const T* x = static_cast<const T*>(a.input.data) + row * a.input.row_stride;
    T* y = static_cast<T*>(a.output.data) + row * ys;
    for (std::int64_t j = 0; j < written; ++j) {
      float g = S::load(x[j]);
      float u = S::load(x[d + j]);
      switch (defect) {
        case ActDefect::kTorchAsSingle:
          y[j] = twin_value<D>(a.act, ActRounding::kTorch, g, u);
          continue;
        case ActDefect::kSingleAsTorch:
          y[j] = twin_value<D>(a.act, ActRounding::kSingle, g, u);
          continue;
        case ActDefect::kFastExp:
          y[j] = output_of<D>(silu_fast_exp(g), u, a.rounding);
          continue;
        case ActDefect::kTanhFormAsErf:
          y[j] = twin_value<D>(Activation::kGeluTanh, a.rounding, g, u);
          continue;
        case ActDefect::kTailCancellation:
          y[j] = output_of<D>(gelu_erf_formula(g), u, a.rounding);
          continue;
        case ActDefect::kGateUpSwapped:
          std::swap(g, u);
          break;
        case ActDefect::kFtzGates:
          if (g != 0.0f && std::fabs(g) < 0x1p-126f) g = std::copysign(0.0f, g);
          break;
        default:
          break;
      }
      y[j] = twin_value<D>(a.act, a.rounding, g, u);
    }
  }
}

class HostActMutant : public ActMutantSubject {
 public:
  HostActMutant(ActDefect d, std::string profile) : ActMutantSubject(d, std::move(profile)) {}
  std::string name() const override {
    return d_ == ActDefect::kNone ? "control." + profile_
                                  : std::string("mutant.act.") + act_defect_name(d_);
  }
  Backend backend() const override { return Backend::kHost; }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const ActAndMulArgs a = act_and_mul_args(c, p);
    KC_RETURN_IF_ERROR(detail::check_act_job(a));
    switch (a.input.dtype) {
      case DType::kFp32:
        mutant_rows<DType::kFp32>(a, d_);
        break;
      case DType::kFp16:
        mutant_rows<DType::kFp16>(a, d_);
        break;
      case DType::kBf16:
        mutant_rows<DType::kBf16>(a, d_);
        break;
    }
    return Status::ok();
  }
};

const struct Registrar {
  Registrar() {
    for (ActDefect d : kActHostDefects) {
      register_subject(std::make_unique<HostActMutant>(d, act_defect_profile(d)));
    }
    for (const std::string& p : act_kernel_profiles()) {
      register_subject(std::make_unique<HostActMutant>(ActDefect::kNone, p));
    }
  }
} kRegistrar;

}  // namespace

BoundSpec ActMutantSubject::bound() const {
  BoundSpec b;
  b.kind = BoundSpec::Kind::kDerivedByFamily;
  b.derivation = "claims kconform's act_and_mul kernel bound";
  return b;
}

Status ActMutantSubject::check(const Case& c) const {
  if (d_ == ActDefect::kCheckAcceptsZeroD && act_d(c) == 0) {
    return Status::ok();  // "0 % 8 == 0": the divisibility test passes, the run rejects
  }
  return act_and_mul_check(act_and_mul_args(c, placeholder_pointers(c)));
}

const char* act_defect_name(ActDefect d) {
  switch (d) {
    case ActDefect::kNone:
      return "none";
    case ActDefect::kTorchAsSingle:
      return "torch_as_single";
    case ActDefect::kSingleAsTorch:
      return "single_as_torch";
    case ActDefect::kFastExp:
      return "fast_exp";
    case ActDefect::kTanhFormAsErf:
      return "tanh_form_as_erf";
    case ActDefect::kTailCancellation:
      return "tail_cancellation";
    case ActDefect::kMissingTail:
      return "missing_tail";
    case ActDefect::kOutputStrideIgnored:
      return "output_stride_ignored";
    case ActDefect::kGateUpSwapped:
      return "gate_up_swapped";
    case ActDefect::kFtzGates:
      return "ftz_gates";
    case ActDefect::kCheckAcceptsZeroD:
      return "check_accepts_zero_d";
    case ActDefect::kZeroBlockLaunch:
      return "zero_block_launch";
  }
  return "?";
}

// For each defect: the property that must catch it and within how many cases. The limits are
// derived, not tuned: scripts/calibration_limits.py (section "act_and_mul") computes, from the
// family's generator weights (act_and_mul_family.cpp), the core's shapes (one case in four a big
// batch drawn first, whose rows the family keeps small) and RapidCheck's size schedule of a run
// of that many cases, the case count by which the property catches the defect with probability
// 0.999.
Calibration act_defect_calibration(ActDefect d) {
  switch (d) {
    case ActDefect::kNone:
      break;
    case ActDefect::kTorchAsSingle:
      return {"bounded_error", 29, "16-bit normal rows of d >= 16"};
    case ActDefect::kSingleAsTorch:
      return {"bounded_error", 29, "16-bit normal rows of d >= 16"};
    case ActDefect::kFastExp:
      return {"bounded_error", 82, "silu tail rows (bf16, fp32) of d >= 16"};
    case ActDefect::kTanhFormAsErf:
      return {"bounded_error", 41, "fp32 normal rows"};
    case ActDefect::kTailCancellation:
      return {"bounded_error", 59, "gelu tail rows (bf16, fp32) of d >= 4"};
    case ActDefect::kMissingTail:
      return {"bounded_error", 4, "d % 8 != 0"};
    case ActDefect::kOutputStrideIgnored:
      return {"bounded_error", 35, "two rows (d <= 5461) and a padded output stride"};
    case ActDefect::kGateUpSwapped:
      return {"bounded_error", 11, "normal rows"};
    case ActDefect::kFtzGates:
      return {"bounded_error", 105, "bf16/fp32 rows of subnormal (or mixed, d >= 16) gates"};
    case ActDefect::kCheckAcceptsZeroD:
      return {"support_agrees", 149, "d == 0 (unsupported sizes drawn)"};
    case ActDefect::kZeroBlockLaunch:
      return {"empty_batch", 1, "every case"};
  }
  return {};
}

std::string act_defect_profile(ActDefect d) {
  switch (d) {
    case ActDefect::kTorchAsSingle:
    case ActDefect::kMissingTail:
    case ActDefect::kFtzGates:
    case ActDefect::kZeroBlockLaunch:
      return "act_and_mul.silu.single";
    case ActDefect::kSingleAsTorch:
    case ActDefect::kTailCancellation:
      return "act_and_mul.gelu.torch";
    case ActDefect::kFastExp:
    case ActDefect::kGateUpSwapped:
      return "act_and_mul.silu.torch";
    case ActDefect::kTanhFormAsErf:
      return "act_and_mul.gelu.single";
    case ActDefect::kOutputStrideIgnored:
      return "act_and_mul.gelu_tanh.torch";
    case ActDefect::kCheckAcceptsZeroD:
      return "act_and_mul.gelu_tanh.single";
    case ActDefect::kNone:
      break;
  }
  return "act_and_mul.silu.single";
}

}  // namespace kc::props
