// Checks of the qknorm_rope family: pure host code, no CUDA call. Each rejection names the op,
// the value and the rule (qknorm_rope.h, "Contracts"), in the order the contract lists them.
#include <cmath>
#include <cstdint>
#include <string>

#include "common/check.h"
#include "common/launch.h"
#include "qknorm_rope/qknorm_rope_job.h"

namespace kc {
namespace detail {
namespace {

constexpr const char* kOp = "qknorm_rope";
constexpr std::int64_t kMaxHeads = std::int64_t{1} << 20;  // per kind; head indices fit an int

Status check_count(const char* name, std::int64_t v) {
  if (v < 0) {
    return invalid(format("%s: %s = %lld is negative; %s must be >= 0", kOp, name,
                          static_cast<long long>(v), name));
  }
  if (v > kMaxHeads) {
    return unsupported(format("%s: %s = %lld is not supported; %s must be <= 2^20", kOp, name,
                              static_cast<long long>(v), name));
  }
  return Status::ok();
}

Status check_weight(const char* name, const void* p, DType dt, std::int64_t heads) {
  if (heads == 0) return Status::ok();
  if (p == nullptr) {
    return invalid(
        format("%s: %s is null with %lld heads; the weight must be non-null when its "
               "heads are present",
               kOp, name, static_cast<long long>(heads)));
  }
  if (reinterpret_cast<std::uintptr_t>(p) % dtype_size(dt) != 0) {
    return invalid(format("%s: %s is not aligned to its %s element; data must be element-aligned",
                          kOp, name, dtype_name(dt)));
  }
  return Status::ok();
}

}  // namespace

Status check_qk_job(const QkNormRopeArgs& a) {
  if (a.profile != QkNormRopeProfile::kExact && a.profile != QkNormRopeProfile::kHf &&
      a.profile != QkNormRopeProfile::kVllmCache) {
    return invalid(format("%s: profile = %d is not a profile; use exact, hf or vllm_cache", kOp,
                          static_cast<int>(a.profile)));
  }
  if (a.profile != QkNormRopeProfile::kExact) {
    return unsupported(format("%s: profile = %s is not implemented by these kernels yet; use exact",
                              kOp, qknorm_rope_profile_name(a.profile)));
  }
  if (!dtype_valid(a.dtype)) {
    return invalid(format("%s: dtype = %d is not a dtype; use fp32, fp16 or bf16", kOp,
                          static_cast<int>(a.dtype)));
  }
  if (a.pairing != RopePairing::kNeox && a.pairing != RopePairing::kInterleaved) {
    return invalid(format("%s: pairing = %d is not a pairing; use neox or interleaved", kOp,
                          static_cast<int>(a.pairing)));
  }
  if (a.position_type != PositionType::kInt32 && a.position_type != PositionType::kInt64) {
    return invalid(format("%s: position_type = %d is not a position type; use int32 or int64", kOp,
                          static_cast<int>(a.position_type)));
  }
  if (a.num_tokens < 0) {
    return invalid(format("%s: num_tokens = %lld is negative; num_tokens must be >= 0", kOp,
                          static_cast<long long>(a.num_tokens)));
  }
  if (a.head_dim < 2 || a.head_dim > kMaxQkHeadDim || a.head_dim % 2 != 0) {
    const std::string msg =
        format("%s: head_dim = %lld is not supported; head_dim must be even and in [2, %lld]", kOp,
               static_cast<long long>(a.head_dim), static_cast<long long>(kMaxQkHeadDim));
    return a.head_dim > kMaxQkHeadDim ? unsupported(msg) : invalid(msg);
  }
  KC_RETURN_IF_ERROR(check_count("num_q_heads", a.num_q_heads));
  KC_RETURN_IF_ERROR(check_count("num_k_heads", a.num_k_heads));
  KC_RETURN_IF_ERROR(check_count("num_v_heads", a.num_v_heads));
  if (a.rotary_dim < 0 || a.rotary_dim > a.head_dim || a.rotary_dim % 2 != 0) {
    return invalid(
        format("%s: rotary_dim = %lld is not valid for head_dim = %lld; rotary_dim "
               "must be even and in [0, head_dim]",
               kOp, static_cast<long long>(a.rotary_dim), static_cast<long long>(a.head_dim)));
  }
  if (!(a.base > 0.0) || !std::isfinite(a.base)) {
    return invalid(format("%s: base = %g is not valid; base must be finite and > 0", kOp, a.base));
  }
  if (a.base < 1.0 || a.base > 0x1p127) {
    return unsupported(
        format("%s: base = %g is not supported; base must be in [1, 2^127]", kOp, a.base));
  }
  if (!std::isfinite(a.eps) || a.eps < 0.0f) {
    return invalid(format("%s: eps = %g is not valid; eps must be finite and >= 0", kOp,
                          static_cast<double>(a.eps)));
  }
  const QkRopeYarn& y = a.yarn;
  if (!std::isfinite(y.factor) || !(y.factor >= 1.0f)) {
    return unsupported(
        format("%s: yarn.factor = %g is not supported; factor must be finite and "
               ">= 1 (1: no YaRN)",
               kOp, static_cast<double>(y.factor)));
  }
  if (!std::isfinite(y.attention_factor)) {
    return invalid(format("%s: yarn.attention_factor = %g is not finite; it must be finite", kOp,
                          static_cast<double>(y.attention_factor)));
  }
  if (y.factor != 1.0f) {
    if (!std::isfinite(y.low) || !std::isfinite(y.high)) {
      return invalid(
          format("%s: yarn.low = %g, yarn.high = %g; both must be finite when "
                 "factor != 1",
                 kOp, static_cast<double>(y.low), static_cast<double>(y.high)));
    }
    const float diff = y.low - y.high;
    const float high = (diff <= 1e-6f && diff >= -1e-6f) ? y.high + 0.001f : y.high;
    if (high == y.low) {
      return invalid(
          format("%s: yarn.low = %g equals the guarded high = %g; the ramp needs "
                 "high != low",
                 kOp, static_cast<double>(y.low), static_cast<double>(high)));
    }
  }
  const std::int64_t hidden = (a.num_q_heads + a.num_k_heads + a.num_v_heads) * a.head_dim;
  if (a.num_tokens == 0 || hidden == 0) return Status::ok();
  const DType dt = a.dtype;
  const bool oop = qk_out_of_place(a);
  KC_RETURN_IF_ERROR(
      check_stride(kOp, "qkv", a.qkv_stride, hidden, "(nq + nk + nv) head_dim", a.num_tokens));
  if (oop) {
    KC_RETURN_IF_ERROR(check_stride(kOp, "output", a.output_stride, hidden,
                                    "(nq + nk + nv) head_dim", a.num_tokens));
  }
  KC_RETURN_IF_ERROR(check_pointer(kOp, "qkv", a.qkv, dt, a.num_tokens));
  if (oop) KC_RETURN_IF_ERROR(check_pointer(kOp, "output", a.output, dt, a.num_tokens));
  if (a.positions == nullptr) {
    return invalid(
        format("%s: positions is null with num_tokens = %lld; positions must be "
               "non-null when num_tokens > 0",
               kOp, static_cast<long long>(a.num_tokens)));
  }
  const std::int64_t pos_size = a.position_type == PositionType::kInt32 ? 4 : 8;
  if (reinterpret_cast<std::uintptr_t>(a.positions) % static_cast<std::uintptr_t>(pos_size) != 0) {
    return invalid(
        format("%s: positions is not aligned to its %lld-byte element; data must be "
               "element-aligned",
               kOp, static_cast<long long>(pos_size)));
  }
  KC_RETURN_IF_ERROR(check_weight("q_weight", a.q_weight, dt, a.num_q_heads));
  KC_RETURN_IF_ERROR(check_weight("k_weight", a.k_weight, dt, a.num_k_heads));

  // Aliasing: the written rows are either qkv itself (in place) or overlap nothing read.
  const auto elem = static_cast<std::int64_t>(dtype_size(dt));
  Extent ins[4];
  int n_in = 0;
  ins[n_in++] = {"qkv", reinterpret_cast<std::uintptr_t>(a.qkv), a.qkv_stride, a.num_tokens, hidden,
                 elem};
  if (a.num_q_heads > 0) {
    ins[n_in++] = {
        "q_weight", reinterpret_cast<std::uintptr_t>(a.q_weight), a.head_dim, 1, a.head_dim, elem};
  }
  if (a.num_k_heads > 0) {
    ins[n_in++] = {
        "k_weight", reinterpret_cast<std::uintptr_t>(a.k_weight), a.head_dim, 1, a.head_dim, elem};
  }
  ins[n_in++] = {"positions",  reinterpret_cast<std::uintptr_t>(a.positions),
                 a.num_tokens, 1,
                 a.num_tokens, pos_size};
  const Extent out[] = {oop ? Extent{"output", reinterpret_cast<std::uintptr_t>(a.output),
                                     a.output_stride, a.num_tokens, hidden, elem}
                            : ins[0]};
  const int own[] = {oop ? -1 : 0};
  return check_aliasing(kOp, out, own, 1, ins, n_in);
}

QkLaunchShape qk_launch_shape(const QkNormRopeArgs& a, bool aligned, int sms) {
  QkLaunchShape s;
  const std::int64_t heads =
      a.num_q_heads + a.num_k_heads + (qk_out_of_place(a) ? a.num_v_heads : 0);
  s.units = a.num_tokens * heads;
  // Eight warps a block, fewer when a token has fewer heads (no idle warps in decode shapes).
  s.warps_per_block = heads < 8 ? static_cast<int>(heads < 1 ? 1 : heads) : 8;
  s.groups_per_token = (heads + s.warps_per_block - 1) / s.warps_per_block;
  s.groups = a.num_tokens * s.groups_per_token;
  const std::int64_t need = s.groups;
  const std::int64_t cap = static_cast<std::int64_t>(sms > 0 ? sms : 1) * 8 * 8;
  std::int64_t b = need < cap ? need : cap;
  if (b > kMaxGrid) b = kMaxGrid;
  s.blocks = b < 1 ? 1 : b;
  s.vector = aligned && (a.head_dim == 64 || a.head_dim == 128 || a.head_dim == 256);
  return s;
}

}  // namespace detail

const char* qknorm_rope_profile_name(QkNormRopeProfile p) {
  return p == QkNormRopeProfile::kExact       ? "exact"
         : p == QkNormRopeProfile::kHf        ? "hf"
         : p == QkNormRopeProfile::kVllmCache ? "vllm_cache"
                                              : "?";
}
const char* rope_pairing_name(RopePairing p) {
  return p == RopePairing::kNeox ? "neox" : p == RopePairing::kInterleaved ? "interleaved" : "?";
}

Status qknorm_rope_check(const QkNormRopeArgs& args) { return detail::check_qk_job(args); }

}  // namespace kc
