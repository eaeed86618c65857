// Host calibration mutants of the qknorm_rope family (qknorm_rope_mutants.h): the twin's exact
// structure (kernels/src/qknorm_rope/qknorm_rope_twin.cpp: the same per-head arithmetic from
// qknorm_rope_row.h, the same frequency table, a head read whole before it is written) with one
// defect each, and the control (the same code without a defect), all claiming
// qknorm_rope.exact with kconform's derived bound.
#include "qknorm_rope_mutants.h"

#include <cmath>
#include <memory>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/qknorm_rope.h"
#include "qknorm_rope/qknorm_rope_job.h"

namespace kc::props {
namespace {

using detail::RopeConst;
using detail::SinCos;
using detail::Storage;

std::int64_t position_of(const QkNormRopeArgs& a, std::int64_t t) {
  return a.position_type == PositionType::kInt32
             ? static_cast<std::int64_t>(static_cast<const std::int32_t*>(a.positions)[t])
             : static_cast<const std::int64_t*>(a.positions)[t];
}

// The frequency of pair j from the kernel's table: f_j = 2 pi c_j (c_j < 1 / (2 pi)).
double table_frequency(const RopeConst& c) {
  return 6.283185307179586 * (static_cast<double>(c.hi) * 0x1p-64);
}

// A 128-bit turn constant from a double c in [0, 1) (exact: c has 53 bits).
RopeConst const_of(double c) {
  const double s = c * 0x1p64;
  const auto hi = static_cast<std::uint64_t>(s);
  return RopeConst{hi, static_cast<std::uint64_t>((s - static_cast<double>(hi)) * 0x1p64)};
}

// sin and cos of a turn t (any double): the fraction as a 64-bit fixed-point turn.
SinCos sincos_of_turn(double t) {
  const double f = t - std::floor(t);
  const double s = f * 0x1p64;
  return detail::sincos_turn(s >= 0x1p64 ? 0 : static_cast<std::uint64_t>(s));
}

// __sincosf's argument: RZ32(theta * 0x3E22F983) (the product is exact in double).
double sincosf_turn(float theta) {
  const double d = static_cast<double>(theta) * static_cast<double>(0x1.45f306p-3f);
  float f = static_cast<float>(d);
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) {
    f = std::nextafter(f, 0.0f);
  }
  return static_cast<double>(f);
}

// __powf-style frequency of pair j (YaRN blend applied exactly, as the table does).
double powf_frequency(const QkNormRopeArgs& a, int j) {
  const float l = static_cast<float>(std::log2(a.base));
  const float e = static_cast<float>(-2.0 * j / static_cast<double>(a.rotary_dim));
  const float y = l * e;
  double f = std::exp2(static_cast<double>(y));
  if (a.yarn.factor != 1.0f) {
    const float diff = a.yarn.low - a.yarn.high;
    const float high = (diff <= 1e-6f && diff >= -1e-6f) ? a.yarn.high + 0.001f : a.yarn.high;
    double ramp = (j - static_cast<double>(a.yarn.low)) /
                  (static_cast<double>(high) - static_cast<double>(a.yarn.low));
    ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
    f *= ramp / static_cast<double>(a.yarn.factor) + (1 - ramp);
  }
  return f;
}

double to_bf16(double v) {
  return static_cast<double>(detail::bf16_to_float(detail::float_to_bf16(static_cast<float>(v))));
}

template <DType D>
void mutant_rows(const QkNormRopeArgs& a, const detail::RopeTable& table, QkDefect defect) {
  using S = Storage<D>;
  using T = typename S::Type;
  const int n = static_cast<int>(a.head_dim);
  const int rd = defect == QkDefect::kRotaryDimIgnored ? n : static_cast<int>(a.rotary_dim);
  const RopePairing pairing =
      defect == QkDefect::kPairingSwapped
          ? (a.pairing == RopePairing::kNeox ? RopePairing::kInterleaved : RopePairing::kNeox)
          : a.pairing;
  const int chunk = detail::qk_chunk(n);
  const detail::RowMath math{n, a.eps, detail::exact_inverse_pow2(n)};
  const double af = static_cast<double>(a.yarn.attention_factor);
  const bool oop = detail::qk_out_of_place(a);
  const std::int64_t qk = a.num_q_heads + a.num_k_heads;
  const std::int64_t heads = qk + a.num_v_heads;
  // The constants of every pair the mutant rotates (kRotaryDimIgnored: a table for head_dim).
  detail::RopeTable own = table;
  if (defect == QkDefect::kRotaryDimIgnored) {
    QkNormRopeArgs b = a;
    b.rotary_dim = n;
    detail::rope_table(b, &own);
  }
  std::vector<float> z(static_cast<std::size_t>(n));
  std::vector<double> v(static_cast<std::size_t>(n));
  float lane_sum[detail::kQkLanes];
  for (std::int64_t t = 0; t < a.num_tokens; ++t) {
    std::int64_t p = position_of(a, t);
    if (defect == QkDefect::kPositionsThroughFp32) {
      p = static_cast<std::int64_t>(static_cast<float>(p));
    }
    const T* row = static_cast<const T*>(a.qkv) + t * a.qkv_stride;
    T* out = oop ? static_cast<T*>(a.output) + t * a.output_stride
                 : static_cast<T*>(const_cast<void*>(a.qkv)) + t * a.qkv_stride;
    for (std::int64_t h = 0; h < heads; ++h) {
      const T* x = row + h * n;
      T* y = out + h * n;
      if (h >= qk) {
        if (oop) {
          for (int i = 0; i < n; ++i) y[i] = x[i];
        }
        continue;
      }
      const bool q_head = h < a.num_q_heads || defect == QkDefect::kKWithQWeight;
      const T* w = static_cast<const T*>(q_head ? a.q_weight : a.k_weight);
      for (int i = 0; i < n; ++i) z[i] = S::load(x[i]);
      for (int l = 0; l < detail::kQkLanes; ++l) {
        float acc = 0.0f;
        for (int i = l * chunk; i < n && i < (l + 1) * chunk; ++i) {
          acc = detail::ffma(z[i], z[i], acc);
        }
        lane_sum[l] = acc;
      }
      for (int m = 1; m < detail::kQkLanes; m <<= 1) {
        for (int l = 0; l < detail::kQkLanes; l += 2 * m) {
          lane_sum[l] = detail::fadd(lane_sum[l], lane_sum[l + m]);
        }
      }
      const float r = detail::inv_rms(lane_sum[0], math);
      for (int i = 0; i < n; ++i) {
        v[i] = detail::head_value(z[i], r, S::load(w[i]));
        if (defect == QkDefect::kNormRoundedFirst) {
          v[i] = static_cast<double>(S::load(detail::round_double<D>(v[i])));
        }
      }
      for (int i = 0; i < n; ++i) {
        if (i >= rd) {
          y[i] = detail::round_double<D>(defect == QkDefect::kPassthroughScaled ? v[i] * af : v[i]);
          continue;
        }
        const detail::PairOf po = detail::pair_of(i, rd, pairing);
        SinCos sc;
        switch (defect) {
          case QkDefect::kSincosfReduction: {
            const float f = static_cast<float>(table_frequency(own.c[po.j]));
            const float theta = static_cast<float>(p) * f;
            sc = sincos_of_turn(sincosf_turn(theta));
            break;
          }
          case QkDefect::kPowfFrequency:
            sc = detail::sincos_turn(
                detail::rope_turn(p, const_of(powf_frequency(a, po.j) / 6.283185307179586)));
            break;
          default:
            sc = detail::sincos_turn(detail::rope_turn(p, own.c[po.j]));
            break;
        }
        if (defect == QkDefect::kBf16CosSin) sc = SinCos{to_bf16(sc.s), to_bf16(sc.c)};
        y[i] = detail::round_double<D>(detail::rotated(v[i], v[po.partner], sc, af, po.first));
      }
    }
  }
}

class HostQkMutant : public Subject {
 public:
  explicit HostQkMutant(QkDefect d) : d_(d) {}
  std::string name() const override {
    return d_ == QkDefect::kNone ? "control." + profile()
                                 : std::string("mutant.rope.") + qk_defect_name(d_);
  }
  std::string op() const override { return kQkFamily; }
  std::string profile() const override { return "qknorm_rope.exact"; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kDerivedByFamily;
    b.derivation = "claims kconform's qknorm_rope kernel bound";
    return b;
  }
  Calibration calibration() const override { return qk_defect_calibration(d_); }
  std::string defect() const override { return d_ == QkDefect::kNone ? "" : qk_defect_name(d_); }
  bool control() const override { return d_ == QkDefect::kNone; }
  Status check(const Case& c) const override {
    KC_RETURN_IF_ERROR(qk_layout_check(c));
    QkNormRopeArgs a = qknorm_rope_args(c, placeholder_pointers(c));
    if (d_ == QkDefect::kCheckAcceptsOddRotary && a.rotary_dim % 2 != 0 &&
        a.rotary_dim < a.head_dim) {
      a.rotary_dim -= 1;  // "rotary_dim <= head_dim" tested, evenness forgotten
    }
    return qknorm_rope_check(a);
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    KC_RETURN_IF_ERROR(qk_layout_check(c));
    const QkNormRopeArgs a = qknorm_rope_args(c, p);
    KC_RETURN_IF_ERROR(detail::check_qk_job(a));
    const std::int64_t hidden = (a.num_q_heads + a.num_k_heads + a.num_v_heads) * a.head_dim;
    if (a.num_tokens == 0 || hidden == 0) return Status::ok();
    detail::RopeTable table;
    detail::rope_table(a, &table);
    switch (a.dtype) {
      case DType::kFp32:
        mutant_rows<DType::kFp32>(a, table, d_);
        break;
      case DType::kFp16:
        mutant_rows<DType::kFp16>(a, table, d_);
        break;
      case DType::kBf16:
        mutant_rows<DType::kBf16>(a, table, d_);
        break;
    }
    return Status::ok();
  }

 private:
  QkDefect d_;
};

const struct Registrar {
  Registrar() {
    for (QkDefect d : kQkHostDefects) register_subject(std::make_unique<HostQkMutant>(d));
    register_subject(std::make_unique<HostQkMutant>(QkDefect::kNone));
  }
} kRegistrar;

}  // namespace

const char* qk_defect_name(QkDefect d) {
  switch (d) {
    case QkDefect::kNone:
      return "none";
    case QkDefect::kSincosfReduction:
      return "sincosf_reduction";
    case QkDefect::kPowfFrequency:
      return "powf_frequency";
    case QkDefect::kBf16CosSin:
      return "bf16_cos_sin";
    case QkDefect::kNormRoundedFirst:
      return "norm_rounded_first";
    case QkDefect::kPairingSwapped:
      return "pairing_swapped";
    case QkDefect::kRotaryDimIgnored:
      return "rotary_dim_ignored";
    case QkDefect::kPassthroughScaled:
      return "passthrough_scaled";
    case QkDefect::kKWithQWeight:
      return "k_with_q_weight";
    case QkDefect::kPositionsThroughFp32:
      return "positions_through_fp32";
    case QkDefect::kCheckAcceptsOddRotary:
      return "check_accepts_odd_rotary";
  }
  return "?";
}

// For each defect: the property that must catch it and within how many cases. The limits are
// derived, not tuned: scripts/calibration_limits.py (section "qknorm_rope") computes, from the
// family's generator weights (qknorm_rope_family.cpp) and RapidCheck's size schedule, the case
// count by which the property catches the defect with probability 0.999.
Calibration qk_defect_calibration(QkDefect d) {
  switch (d) {
    case QkDefect::kNone:
      break;
    case QkDefect::kSincosfReduction:
      return {"bounded_error", 19, "positions >= 2^17 with a rotary pair"};
    case QkDefect::kPowfFrequency:
      return {"bounded_error", 20, "positions >= 2^17 with a rotary pair beyond the first"};
    case QkDefect::kBf16CosSin:
      return {"bounded_error", 9, "a rotary pair at a position != 0"};
    case QkDefect::kNormRoundedFirst:
      return {"bounded_error", 13, "16-bit rows with a q/k head"};
    case QkDefect::kPairingSwapped:
      return {"bounded_error", 20, "rotary_dim >= 4 at a position != 0"};
    case QkDefect::kRotaryDimIgnored:
      return {"bounded_error", 30, "rotary_dim < head_dim at a position != 0"};
    case QkDefect::kPassthroughScaled:
      return {"bounded_error", 50, "rotary_dim < head_dim with YaRN's attention factor != 1"};
    case QkDefect::kKWithQWeight:
      return {"bounded_error", 12, "k heads with weights that are not ones"};
    case QkDefect::kPositionsThroughFp32:
      return {"bounded_error", 109,
              "positions of magnitude >= 2^26 (more than 24 significant bits)"};
    case QkDefect::kCheckAcceptsOddRotary:
      return {"support_agrees", 170, "an odd rotary_dim below head_dim (unsupported drawn)"};
  }
  return {};
}

}  // namespace kc::props
