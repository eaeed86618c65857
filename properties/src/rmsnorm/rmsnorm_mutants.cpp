// Host calibration mutants: the twin's exact structure (kernels/src/rmsnorm_row.h arithmetic,
// the same layout, the same reduction tree) with one defect each (mutants.h).
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kc/props/rmsnorm.h"
#include "rmsnorm/rmsnorm_job.h"
#include "rmsnorm_mutant_subject.h"
#include "rmsnorm_mutants.h"

namespace kc::props {
namespace {

using detail::NormJob;
using detail::NormKind;
using detail::OutMode;
using detail::Storage;

template <DType D, NormKind K, OutMode M>
void mutant_rows(const NormJob& j, Defect defect) {
  using S = Storage<D>;
  using T = typename S::Type;
  RowLayout layout = detail::row_layout(S::kVec, j.hidden);
  const bool fewer_lanes = (defect == Defect::kBatchDependentLanes && j.rows >= 256) ||
                           (defect == Defect::kBatchDependentLanesFrom3000 && j.rows >= 3000);
  if (fewer_lanes && layout.lanes >= 2) {
    layout.lanes /= 2;  // a block size picked from the batch size: another reduction order
    layout.per_lane = (layout.vectors + layout.lanes - 1) / layout.lanes;
  }
  const bool ignore_stride = defect == Defect::kRowStrideIgnored;
  const std::int64_t n = j.hidden;
  const std::int64_t xs = ignore_stride ? n : j.x_stride;
  const std::int64_t rs = ignore_stride ? n : j.res_stride;
  const std::int64_t ys = ignore_stride ? n : j.y_stride;
  const std::int64_t ros = ignore_stride ? n : j.res_out_stride;
  const detail::RowMath math = detail::row_math(j);
  std::vector<float> z(static_cast<std::size_t>(n)), u(static_cast<std::size_t>(n));
  std::vector<T> stored_res(static_cast<std::size_t>(n));
  std::vector<float> lane_sum(static_cast<std::size_t>(layout.lanes));
  const T* w = static_cast<const T*>(j.w);
  const std::int64_t rows =
      defect == Defect::kRowsPast4096Unwritten ? std::min<std::int64_t>(j.rows, 4096) : j.rows;
  for (std::int64_t row = 0; row < rows; ++row) {
    const T* x = static_cast<const T*>(j.x) + row * xs;
    const T* res = K == NormKind::kRmsNorm ? nullptr : static_cast<const T*>(j.res) + row * rs;
    for (std::int64_t i = 0; i < n; ++i) {
      const float xv = S::load(x[i]);
      float sum = 0.0f;
      float stored = 0.0f;
      if (res != nullptr) {
        sum = detail::residual_sum(xv, S::load(res[i]));
        stored_res[i] = S::store(sum);
        stored = S::load(stored_res[i]);
      }
      z[i] = detail::norm_input<K>(xv, sum, stored);
      u[i] = z[i];
      if (K == NormKind::kFusedFp32Sum && defect == Defect::kRoundedSumAsFp32Sum) {
        z[i] = u[i] = stored;
      }
      if (K == NormKind::kFusedFp32Sum && defect == Defect::kLegacyMixedAsFp32Sum) {
        u[i] = stored;  // the variance of the fp32 sum, the scale of the rounded one
      }
    }
    for (int t = 0; t < layout.lanes; ++t) {
      float acc = 0.0f;
      for (int v = t; v < layout.vectors; v += layout.lanes) {
        for (int e = 0; e < layout.vec; ++e) {
          const std::int64_t i = static_cast<std::int64_t>(v) * layout.vec + e;
          if (i >= n) continue;
          acc = detail::ffma(z[i], z[i], acc);
          if (defect == Defect::kFp16Accumulation) {
            acc = detail::fp16_to_float(detail::float_to_fp16(acc));
          }
        }
      }
      lane_sum[t] = acc;
    }
    for (int m = 1; m < layout.lanes; m <<= 1) {
      for (int t = 0; t < layout.lanes; t += 2 * m) {
        lane_sum[t] = detail::fadd(lane_sum[t], lane_sum[t + m]);
      }
    }
    float r = detail::inv_rms(lane_sum[0], math);
    if (defect == Defect::kEpsOutsideSqrt) {
      const float mean = detail::fdiv(lane_sum[0], static_cast<float>(n));
      r = detail::fdiv(1.0f, detail::fadd(detail::fsqrt(mean), math.eps));
    }
    T* y = static_cast<T*>(j.y) + row * ys;
    T* ro = K == NormKind::kRmsNorm ? nullptr : static_cast<T*>(j.res_out) + row * ros;
    const std::int64_t written = defect == Defect::kMissingTail && n % 8 != 0 ? n - n % 8 : n;
    for (std::int64_t i = 0; i < written; ++i) {
      const float wv = S::load(w[i]);
      y[i] = defect == Defect::kSingleRoundingAsHf
                 ? S::store(detail::norm_value<D, OutMode::kSingle>(u[i], r, wv))
                 : S::store(detail::norm_value<D, M>(u[i], r, wv));
      if (ro) ro[i] = stored_res[i];
    }
    if (defect == Defect::kOutOfBoundsWrite) y[n] = y[n - 1];
    if (defect == Defect::kLastElementAbove8000 && n > 8000)
      y[n - 1] = S::store(-S::load(y[n - 1]));
  }
}

template <DType D, NormKind K>
void by_mode(const NormJob& j, Defect d) {
  switch (detail::out_mode(j)) {
    case OutMode::kSingle:
      return mutant_rows<D, K, OutMode::kSingle>(j, d);
    case OutMode::kSingleOffset:
      return mutant_rows<D, K, OutMode::kSingleOffset>(j, d);
    case OutMode::kCast:
      return mutant_rows<D, K, OutMode::kCast>(j, d);
  }
}

template <DType D>
void by_kind(const NormJob& j, Defect d) {
  switch (j.kind) {
    case NormKind::kRmsNorm:
      return by_mode<D, NormKind::kRmsNorm>(j, d);
    case NormKind::kFusedFp32Sum:
      return by_mode<D, NormKind::kFusedFp32Sum>(j, d);
    case NormKind::kFusedRoundedSum:
      return by_mode<D, NormKind::kFusedRoundedSum>(j, d);
  }
}

void run_mutant(const NormJob& j, Defect d) {
  switch (j.dtype) {
    case DType::kFp32:
      return by_kind<DType::kFp32>(j, d);
    case DType::kFp16:
      return by_kind<DType::kFp16>(j, d);
    case DType::kBf16:
      return by_kind<DType::kBf16>(j, d);
  }
}

class HostMutant : public NormMutantSubject {
 public:
  HostMutant(Defect d, std::string profile) : NormMutantSubject(d, std::move(profile)) {}
  std::string name() const override {
    return d_ == Defect::kNone ? "control." + profile_ : std::string("mutant.") + defect_name(d_);
  }
  Backend backend() const override { return Backend::kHost; }
  std::string defect() const override { return d_ == Defect::kNone ? "" : defect_name(d_); }
  bool control() const override { return d_ == Defect::kNone; }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    NormJob j;
    Status st;
    if (op() == "rmsnorm") {
      const RmsNormArgs a = rmsnorm_args(c, p);
      j = detail::job_of(a);
      st = detail::check_job(a, j);
    } else {
      const FusedAddRmsNormArgs a = fused_add_rmsnorm_args(c, p);
      j = detail::job_of(a);
      st = detail::check_job(a, j);
    }
    if (!st.is_ok()) return st;
    if (j.rows == 0) return Status::ok();
    if (d_ == Defect::kNoopAtHidden256 && j.hidden == 256) return Status::ok();
    if (d_ == Defect::kNoopAboveHidden32768 && j.hidden > 32768) return Status::ok();
    run_mutant(j, d_);
    return Status::ok();
  }
};

}  // namespace

const char* defect_name(Defect d) {
  switch (d) {
    case Defect::kNone:
      return "none";
    case Defect::kFp16Accumulation:
      return "fp16_accumulation";
    case Defect::kEpsOutsideSqrt:
      return "eps_outside_sqrt";
    case Defect::kLegacyMixedAsFp32Sum:
      return "legacy_mixed_as_fp32_sum";
    case Defect::kRoundedSumAsFp32Sum:
      return "rounded_sum_as_fp32_sum";
    case Defect::kSingleRoundingAsHf:
      return "single_rounding_as_hf";
    case Defect::kMissingTail:
      return "missing_tail";
    case Defect::kRowStrideIgnored:
      return "row_stride_ignored";
    case Defect::kBatchDependentLanes:
      return "batch_dependent_lanes";
    case Defect::kNoopAtHidden256:
      return "noop_at_hidden_256";
    case Defect::kCheckAcceptsTooLarge:
      return "check_accepts_too_large";
    case Defect::kOutOfBoundsWrite:
      return "out_of_bounds_write";
    case Defect::kLastElementAbove8000:
      return "last_element_above_8000";
    case Defect::kRowsPast4096Unwritten:
      return "rows_past_4096_unwritten";
    case Defect::kBatchDependentLanesFrom3000:
      return "batch_dependent_lanes_from_3000";
    case Defect::kNoopAboveHidden32768:
      return "noop_above_hidden_32768";
  }
  return "?";
}

// For each defect: the property that must catch it and within how many cases. The limits are
// derived, not tuned: scripts/calibration_limits.py computes, from the generator's weights and
// RapidCheck's size schedule, the case count by which the property catches the defect with
// probability 0.999 (each defect shows only on some cases: a hidden size, a stride, a batch
// size, a dtype). The calibration test runs the property with exactly that many cases.
Calibration defect_calibration(Defect d) {
  switch (d) {
    case Defect::kNone:
      break;
    case Defect::kFp16Accumulation:
      return {"bounded_error", 22, "fp32 rows of more than 4 elements"};
    case Defect::kEpsOutsideSqrt:
      return {"bounded_error", 20, "rows with eps = 2^-7"};
    case Defect::kLegacyMixedAsFp32Sum:
      return {"bounded_error", 20, "16-bit normal rows whose sums need extra bits"};
    case Defect::kRoundedSumAsFp32Sum:
      return {"bounded_error", 20, "16-bit normal rows whose sums need extra bits"};
    case Defect::kSingleRoundingAsHf:
      return {"bounded_error", 31, "16-bit normal rows > 512 long"};
    case Defect::kMissingTail:
      return {"bounded_error", 14, "hidden % 8 != 0, out of place"};
    case Defect::kRowStrideIgnored:
      return {"bounded_error", 14, "two rows and a padded stride"};
    case Defect::kBatchDependentLanes:
      return {"batch_invariant", 117, "fp32 random rows > 32 in batches on both sides of 256"};
    case Defect::kNoopAtHidden256:
      return {"bounded_error", 1179, "hidden == 256, one edge of ~54"};
    case Defect::kCheckAcceptsTooLarge:
      return {"support_agrees", 140, "65536 < hidden <= 131072 (unsupported sizes drawn)"};
    case Defect::kOutOfBoundsWrite:
      return {"bounded_error", 1, "every case"};
    case Defect::kLastElementAbove8000:
      return {"bounded_error", 24, "hidden > 8000"};
    case Defect::kRowsPast4096Unwritten:
      return {"bounded_error", 67, "num_tokens > 4096 (big batches of small rows)"};
    case Defect::kBatchDependentLanesFrom3000:
      return {"batch_invariant", 174,
              "random rows > 32 in batches on both sides of 3000 (resized up to 2^22 elements)"};
    case Defect::kNoopAboveHidden32768:
      return {"bounded_error", 100, "hidden > 32768"};
  }
  return {};
}

std::string defect_profile(Defect d) {
  switch (d) {
    case Defect::kEpsOutsideSqrt:
    case Defect::kSingleRoundingAsHf:
      return "rmsnorm.hf";
    case Defect::kLegacyMixedAsFp32Sum:
    case Defect::kRoundedSumAsFp32Sum:
      return "fused_add_rmsnorm.fp32_sum";
    case Defect::kRowStrideIgnored:
      return "fused_add_rmsnorm.hf";
    case Defect::kNoopAtHidden256:
      return "rmsnorm.gemma";
    case Defect::kOutOfBoundsWrite:
      return "fused_add_rmsnorm.gemma";
    case Defect::kNoopAboveHidden32768:
      return "fused_add_rmsnorm.fp32_sum";
    case Defect::kRowsPast4096Unwritten:
      return "rmsnorm.hf";
    default:
      return "rmsnorm.fp32";
  }
}

std::unique_ptr<Subject> make_host_mutant(Defect d) {
  return std::make_unique<HostMutant>(d, defect_profile(d));
}

std::unique_ptr<Subject> make_control(const std::string& profile) {
  return std::make_unique<HostMutant>(Defect::kNone, profile);
}

namespace {
#define KC_HOST_MUTANT(d) KC_REGISTER_SUBJECT(make_host_mutant(d))
KC_HOST_MUTANT(Defect::kFp16Accumulation);
KC_HOST_MUTANT(Defect::kEpsOutsideSqrt);
KC_HOST_MUTANT(Defect::kLegacyMixedAsFp32Sum);
KC_HOST_MUTANT(Defect::kRoundedSumAsFp32Sum);
KC_HOST_MUTANT(Defect::kSingleRoundingAsHf);
KC_HOST_MUTANT(Defect::kMissingTail);
KC_HOST_MUTANT(Defect::kRowStrideIgnored);
KC_HOST_MUTANT(Defect::kBatchDependentLanes);
KC_HOST_MUTANT(Defect::kNoopAtHidden256);
KC_HOST_MUTANT(Defect::kCheckAcceptsTooLarge);
KC_HOST_MUTANT(Defect::kOutOfBoundsWrite);
KC_HOST_MUTANT(Defect::kLastElementAbove8000);
KC_HOST_MUTANT(Defect::kRowsPast4096Unwritten);
KC_HOST_MUTANT(Defect::kBatchDependentLanesFrom3000);
KC_HOST_MUTANT(Defect::kNoopAboveHidden32768);
const struct Controls {
  Controls() {
    for (const std::string& p : norm_kernel_profiles()) register_subject(make_control(p));
  }
} kControls;
}  // namespace

}  // namespace kc::props
