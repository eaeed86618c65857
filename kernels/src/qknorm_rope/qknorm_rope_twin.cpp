// Host twin of the qknorm_rope kernels: the same operations in the same order as
// qknorm_rope.cuh, from the shared per-head arithmetic in qknorm_rope_row.h and the same
// frequency table (qknorm_rope_table.cpp). Conforms to qknorm_rope.exact and equals the GPU
// result bit for bit. A head is read whole before any of it is written, as on the GPU, so in
// place calls behave the same.
#include <vector>

#include "qknorm_rope/qknorm_rope_job.h"

namespace kc {
namespace detail {
namespace {

std::int64_t position_of(const QkNormRopeArgs& a, std::int64_t t) {
  return a.position_type == PositionType::kInt32
             ? static_cast<std::int64_t>(static_cast<const std::int32_t*>(a.positions)[t])
             : static_cast<const std::int64_t*>(a.positions)[t];
}

template <DType D>
void twin_rows(const QkNormRopeArgs& a, const RopeTable& table) {
  using S = Storage<D>;
  using T = typename S::Type;
  const int n = static_cast<int>(a.head_dim);
  const int rd = static_cast<int>(a.rotary_dim);
  const int chunk = qk_chunk(n);
  const RowMath math{n, a.eps, exact_inverse_pow2(n)};
  const double af = static_cast<double>(a.yarn.attention_factor);
  const bool oop = qk_out_of_place(a);
  const std::int64_t qk = a.num_q_heads + a.num_k_heads;
  const std::int64_t heads = qk + a.num_v_heads;
  std::vector<float> z(static_cast<std::size_t>(n));
  std::vector<double> v(static_cast<std::size_t>(n));
  float lane_sum[kQkLanes];
  for (std::int64_t t = 0; t < a.num_tokens; ++t) {
    const std::int64_t p = position_of(a, t);
    const T* row = static_cast<const T*>(a.qkv) + t * a.qkv_stride;
    T* out = oop ? static_cast<T*>(a.output) + t * a.output_stride
                 : static_cast<T*>(const_cast<void*>(a.qkv)) + t * a.qkv_stride;
    for (std::int64_t h = 0; h < heads; ++h) {
      const T* x = row + h * n;
      T* y = out + h * n;
      if (h >= qk) {  // v head: untouched in place, copied out of place
        if (oop) {
          for (int i = 0; i < n; ++i) y[i] = x[i];
        }
        continue;
      }
      const T* w = static_cast<const T*>(h < a.num_q_heads ? a.q_weight : a.k_weight);
      for (int i = 0; i < n; ++i) z[i] = S::load(x[i]);
      for (int l = 0; l < kQkLanes; ++l) {
        float acc = 0.0f;
        for (int i = l * chunk; i < n && i < (l + 1) * chunk; ++i) acc = ffma(z[i], z[i], acc);
        lane_sum[l] = acc;
      }
      for (int m = 1; m < kQkLanes; m <<= 1) {
        for (int l = 0; l < kQkLanes; l += 2 * m) lane_sum[l] = fadd(lane_sum[l], lane_sum[l + m]);
      }
      const float r = inv_rms(lane_sum[0], math);
      for (int i = 0; i < n; ++i) v[i] = head_value(z[i], r, S::load(w[i]));
      for (int i = 0; i < n; ++i) {
        if (i < rd) {
          const PairOf po = pair_of(i, rd, a.pairing);
          const SinCos sc = sincos_turn(rope_turn(p, table.c[po.j]));
          y[i] = round_double<D>(rotated(v[i], v[po.partner], sc, af, po.first));
        } else {
          y[i] = round_double<D>(v[i]);
        }
      }
    }
  }
}

}  // namespace
}  // namespace detail

Status qknorm_rope_twin(const QkNormRopeArgs& args) {
  KC_RETURN_IF_ERROR(detail::check_qk_job(args));
  if (args.num_tokens == 0) return Status::ok();
  detail::RopeTable table;
  detail::rope_table(args, &table);
  switch (args.dtype) {
    case DType::kFp32:
      detail::twin_rows<DType::kFp32>(args, table);
      break;
    case DType::kFp16:
      detail::twin_rows<DType::kFp16>(args, table);
      break;
    case DType::kBf16:
      detail::twin_rows<DType::kBf16>(args, table);
      break;
  }
  return Status::ok();
}

}  // namespace kc
