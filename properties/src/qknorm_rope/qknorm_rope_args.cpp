// The qknorm_rope family's case helpers for subjects (kc/props/qknorm_rope.h).
#include <numeric>

#include "kc/props/qknorm_rope.h"
#include "kc/ref/qknorm_rope.h"

namespace kc::props {

std::int64_t qk_hidden(const Case& c) {
  const std::int64_t heads = qk_nq(c) + qk_nk(c) + qk_nv(c);
  return heads > 0 && qk_head_dim(c) > 0 ? heads * qk_head_dim(c) : 0;
}

QkRopeYarn qk_yarn(const Case& c) {
  QkRopeYarn y;
  y.factor = c.param_fp32("yarn_factor", 1.0f);
  y.low = c.param_fp32("yarn_low");
  y.high = c.param_fp32("yarn_high");
  y.attention_factor = c.param_fp32("attention_factor", 1.0f);
  return y;
}

bool qk_kernel_profile(const std::string& profile, QkNormRopeProfile* out) {
  ref::QkNormRopeProfile p;
  if (!ref::qknorm_rope_profile_from_name(profile, &p)) return false;
  switch (p) {
    case ref::QkNormRopeProfile::kExact:
      *out = QkNormRopeProfile::kExact;
      return true;
    case ref::QkNormRopeProfile::kHf:
      *out = QkNormRopeProfile::kHf;
      return true;
    case ref::QkNormRopeProfile::kVllmCache:
      *out = QkNormRopeProfile::kVllmCache;
      return true;
    case ref::QkNormRopeProfile::kFp32Angle:
      break;
  }
  return false;
}

std::vector<std::string> qk_kernel_profiles() {
  return {ref::qknorm_rope_profile_name(ref::QkNormRopeProfile::kExact)};
}

std::int64_t qk_position(const Case& c, std::int64_t row, std::uint64_t draw) {
  const std::int64_t top = qk_pos_max(c) < 0 ? 0 : qk_pos_max(c);
  const auto span = static_cast<std::uint64_t>(top) + 1;
  const std::int64_t tokens = c.num_tokens > 0 ? c.num_tokens : 1;
  const std::int64_t start = top - tokens + 1 > 0 ? top - tokens + 1 : 0;
  switch (qk_pos_mode(c)) {
    case QkPositionMode::kRandom:
      if (draw & 1u) {
        const std::uint64_t near = span < 256 ? span : 256;
        return top - static_cast<std::int64_t>((draw >> 1) % near);
      }
      return static_cast<std::int64_t>((draw >> 1) % span);
    case QkPositionMode::kArange:
      return start + row;
    case QkPositionMode::kShuffled: {
      // row -> row k mod T with k coprime to T: a bijection of the rows.
      std::int64_t k = (tokens / 2) | 1;
      while (std::gcd(k, tokens) != 1) k += 2;
      return start + (row * k) % tokens;
    }
    case QkPositionMode::kRepeated: {
      const std::int64_t p = top - row / 3;
      return p > 0 ? p : 0;
    }
    case QkPositionMode::kNegative:
      return -static_cast<std::int64_t>((draw >> 1) % span);
    case QkPositionMode::kCount:
      break;
  }
  return 0;
}

QkNormRopeArgs qknorm_rope_args(const Case& c, const std::vector<void*>& ptr) {
  using T = QkNormRopeTensors;
  QkNormRopeArgs a;
  if (!qk_kernel_profile(c.profile, &a.profile)) a.profile = static_cast<QkNormRopeProfile>(255);
  a.dtype = c.dtype;
  a.num_tokens = c.num_tokens;
  a.head_dim = qk_head_dim(c);
  a.num_q_heads = qk_nq(c);
  a.num_k_heads = qk_nk(c);
  a.num_v_heads = qk_nv(c);
  a.rotary_dim = qk_rotary_dim(c);
  a.pairing = qk_pairing(c);
  a.base = c.param_fp64("base");
  a.eps = c.param_fp32("eps");
  a.yarn = qk_yarn(c);
  a.positions = ptr[T::kPositions];
  a.position_type = qk_position_type(c);
  a.qkv = ptr[T::kQkv];
  a.qkv_stride = c.tensors[T::kQkv].row_stride;
  a.output = ptr[T::kOutput];
  // In place, the output is qkv's memory: its rows are qkv's rows (the case's own output layout
  // describes an out-of-place output only).
  a.output_stride = c.tensors[T::kOutput].in_place ? c.tensors[T::kQkv].row_stride
                                                   : c.tensors[T::kOutput].row_stride;
  a.q_weight = ptr[T::kQWeight];
  a.k_weight = ptr[T::kKWeight];
  return a;
}

Status qk_layout_check(const Case& c) {
  const std::int64_t stride = c.tensors[QkNormRopeTensors::kPositions].row_stride;
  if (c.num_tokens > 1 && stride != 1) {
    return Status(StatusCode::kUnsupported,
                  "qknorm_rope: positions row stride = " + std::to_string(stride) +
                      " is not supported; positions must be a packed array (stride 1)");
  }
  return Status::ok();
}

namespace {
void set_shape(Case& c, const QkShape& s) {
  c.params.clear();
  c.set_int("head_dim", s.head_dim);
  c.set_int("nq", s.nq);
  c.set_int("nk", s.nk);
  c.set_int("nv", s.nv);
  c.set_int("rotary_dim", s.rotary_dim);
  c.set_int("pairing", static_cast<std::int64_t>(s.pairing));
  c.set_fp64("base", s.base);
  c.set_fp32("eps", s.eps);
  c.set_fp32("yarn_factor", s.yarn.factor);
  c.set_fp32("yarn_low", s.yarn.low);
  c.set_fp32("yarn_high", s.yarn.high);
  c.set_fp32("attention_factor", s.yarn.attention_factor);
  c.set_int("position_type", static_cast<std::int64_t>(s.position_type));
  c.set_int("pos_mode", static_cast<std::int64_t>(s.pos_mode));
  c.set_int("pos_max", s.pos_max);
}
}  // namespace

Case qk_case(const std::string& profile, DType dtype, std::int64_t tokens, const QkShape& shape,
             std::uint64_t seed) {
  Case c;
  c.op = kQkFamily;
  c.profile = profile;
  c.dtype = dtype;
  c.num_tokens = tokens;
  set_shape(c, shape);
  const std::int64_t hidden = qk_hidden(c);
  c.tensors = {TensorLayout{hidden, 0, false}, TensorLayout{1, 0, false},
               TensorLayout{shape.head_dim, 0, false}, TensorLayout{shape.head_dim, 0, false},
               TensorLayout{hidden, 0, false}};
  c.row_classes = {static_cast<std::uint8_t>(QkRowClass::kNormal)};
  c.weight_class = static_cast<std::uint8_t>(QkWeightClass::kNormal);
  c.seed = seed;
  return c;
}

}  // namespace kc::props
