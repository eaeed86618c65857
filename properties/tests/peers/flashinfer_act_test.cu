// FlashInfer's act_and_mul peer on the GPU, beyond the property suite (compiled with
// -use_fast_math like the peer, so the premises are measured as the peer computes them).
//  - Premises of its bound (properties/peers/flashinfer_act_subjects.cpp), measured on every
//    float of their domain: ex2.approx.ftz.f32 (what __expf becomes) within 2^-22 relative on
//    [-125, 128); the fast-math division within 2^-22 for divisors in [1, 2^126] (every divisor,
//    a hashed dividend each); erff within 2^-22 on every normal float; tanh.approx.f32 within
//    2^-16 on every normal float. References in double (exp2, erf, tanh of glibc: < 1e-15
//    relative, far below the premises).
//  - The launcher on shapes that exercise every vector width (d = 3420, d % 8 == 4, which faulted
//    before FlashInfer's fix; odd d; d = 11008, 28672; one and several rows) in fp32, fp16, bf16:
//    no CUDA error, every element within the subject's stated bound against act computed in
//    double (flat ULPs plus 2^-N |g u|, zeros admitted where act(g) < 2^-126), nothing written
//    past the output.
//  - Behaviour asserted so that a change shows up as a failing test: silu returns a zero for
//    gates in (-88.72, -87.34), where the exact value is a normal number (the reciprocal of
//    1 + e^-g > 2^126 flushes; admitted only by the absolute rule); gelu returns NaN for a gate in
//    its cancelling tail times an infinite up, where the single profile gives an infinity (a
//    special-value disagreement: act32 is zero there); num_tokens == 0 is refused (an empty
//    grid; FlashInfer's launcher reads the error back with cudaGetLastError and raises).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <flashinfer/math.cuh>

#include "common/scalar.h"
#include "flashinfer_act.h"
#include "flashinfer_act_bound.h"

namespace {

using kc::DType;
using kc::peers::FlashInferAct;

__device__ void max_into(unsigned long long* out, double rel) {
  for (int o = 16; o > 0; o >>= 1) rel = fmax(rel, __shfl_xor_sync(0xffffffffu, rel, o));
  if ((threadIdx.x & 31) == 0)
    atomicMax(out, static_cast<unsigned long long>(__double_as_longlong(rel)));
}

__device__ std::uint32_t mix(std::uint32_t v) {
  v ^= v >> 16;
  v *= 0x7feb352du;
  v ^= v >> 15;
  v *= 0x846ca68bu;
  v ^= v >> 16;
  return v;
}

__device__ float ex2_approx(float t) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(t));
  return y;
}

enum class Premise : int { kEx2, kDivision, kErf, kTanh };

// Every float of [lo, hi] (bit patterns, positive) and its negation where `both_signs`.
__global__ void premise_error(Premise what, std::uint32_t lo, std::uint32_t hi,
                              unsigned long long* out) {
  const std::uint32_t stride = gridDim.x * blockDim.x;
  double worst = 0;
  for (std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i <= hi - lo; i += stride) {
    const float x = __uint_as_float(lo + i);
    double rel = 0;
    switch (what) {
      case Premise::kEx2: {
        for (float t : {x, -x}) {
          // Below -125 the result nears the flush threshold; silu never needs it (bound header).
          if (t >= 128.0f || t < -125.0f) continue;
          const double ref = exp2(static_cast<double>(t));
          rel = fmax(rel, fabs(static_cast<double>(ex2_approx(t)) - ref) / ref);
        }
        break;
      }
      case Premise::kDivision: {
        // x is the divisor D in [1, 2^126]; a hashed dividend of magnitude 2^-20 .. 2^20.
        const std::uint32_t h = mix(lo + i);
        const float n = __uint_as_float(((107u + (h >> 23) % 41u) << 23) | (h & 0x7fffffu));
        const float q = n / x;  // as the silu functor divides
        const double ref = static_cast<double>(n) / static_cast<double>(x);
        if (fabs(ref) >= 0x1p-126) rel = fabs(static_cast<double>(q) - ref) / fabs(ref);
        break;
      }
      case Premise::kErf: {
        for (float s : {x, -x}) {
          const double ref = erf(static_cast<double>(s));
          rel = fmax(rel, fabs(static_cast<double>(erff(s)) - ref) / fabs(ref));
        }
        break;
      }
      case Premise::kTanh: {
        for (float z : {x, -x}) {
          const double ref = tanh(static_cast<double>(z));
          rel = fmax(rel, fabs(static_cast<double>(flashinfer::math::tanh(z)) - ref) / fabs(ref));
        }
        break;
      }
    }
    worst = fmax(worst, rel);
  }
  max_into(out, worst);
}

double measure(Premise what, float lo, float hi) {
  unsigned long long* d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, sizeof *d), cudaSuccess);
  EXPECT_EQ(cudaMemset(d, 0, sizeof *d), cudaSuccess);
  std::uint32_t a, b;
  std::memcpy(&a, &lo, 4);
  std::memcpy(&b, &hi, 4);
  premise_error<<<132 * 16, 256>>>(what, a, b, d);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  unsigned long long bits = 0;
  EXPECT_EQ(cudaMemcpy(&bits, d, sizeof bits, cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(d);
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  std::printf("premise %d: max relative error %.4g = 2^%.2f\n", static_cast<int>(what), v,
              std::log2(v));
  return v;
}

constexpr float kSmallestNormal = 0x1p-126f;
constexpr float kLargest = 3.40282347e38f;

TEST(FlashInferActPremises, Ex2ApproxWithin2ToMinus22) {
  const double w = measure(Premise::kEx2, 0.0f, 128.0f);
  EXPECT_GT(w, 0.0);
  EXPECT_LE(w, 0x1p-22);
}
TEST(FlashInferActPremises, FastDivisionWithin2ToMinus22ForDivisorsUpTo2To126) {
  EXPECT_LE(measure(Premise::kDivision, 1.0f, 0x1p126f), 0x1p-22);
}
TEST(FlashInferActPremises, ErffWithin2ToMinus22) {
  EXPECT_LE(measure(Premise::kErf, kSmallestNormal, kLargest), 0x1p-22);
}
TEST(FlashInferActPremises, TanhApproxWithin2ToMinus16) {
  const double w = measure(Premise::kTanh, kSmallestNormal, kLargest);
  EXPECT_GT(w, 0.0);
  EXPECT_LE(w, 0x1p-16);
}

// ---- the launcher on shapes ----

std::uint32_t to_bits(DType d, float v) {
  return d == DType::kFp32   ? kc::detail::float_bits(v)
         : d == DType::kFp16 ? kc::detail::float_to_fp16(v)
                             : kc::detail::float_to_bf16(v);
}
float from_bits(DType d, std::uint32_t b) {
  if (d == DType::kFp32) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  return d == DType::kFp16 ? kc::detail::fp16_to_float(static_cast<std::uint16_t>(b))
                           : kc::detail::bf16_to_float(static_cast<std::uint16_t>(b));
}
int precision(DType d) { return d == DType::kFp32 ? 24 : d == DType::kFp16 ? 11 : 8; }
// The spacing of the format at |v| (subnormal spacing below the normal range).
double ulp_of(DType d, double v) {
  const int p = precision(d);
  const int emin = d == DType::kFp16 ? -14 : -126;
  int e = std::ilogb(v == 0 ? 1e-300 : std::fabs(v));
  if (e < emin) e = emin;
  return std::ldexp(1.0, e - p + 1);
}

double act_exact(FlashInferAct a, double g) {
  switch (a) {
    case FlashInferAct::kSilu:
      return g / (1 + std::exp(-g));
    case FlashInferAct::kGelu:
      return 0.5 * g * std::erfc(-g / std::sqrt(2.0));
    case FlashInferAct::kGeluTanh:
      break;
  }
  const double z = std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g);
  return 0.5 * g * (1 + std::tanh(z));
}

// The bound the subjects state (flashinfer_act_bound.h); fp32 (not a subject: FlashInfer's
// binding has no fp32) with the same derivation and no second rounding: theta 2^24 ULP, taken
// as 0.5 + 2 theta 2^24.
struct Bound {
  double ulps;
  int n;
};
Bound bound(FlashInferAct a, DType d) {
  return {kc::peers::flashinfer_act_flat_ulps(a, precision(d)),
          kc::peers::flashinfer_act_absolute_n(a)};
}

void check_shape(FlashInferAct a, DType d, std::int64_t tokens, std::int64_t dim) {
  SCOPED_TRACE(testing::Message() << "act " << static_cast<int>(a) << " " << kc::dtype_name(d)
                                  << " " << tokens << " x " << dim);
  const std::size_t es = kc::dtype_size(d);
  const std::size_t nin = static_cast<std::size_t>(tokens * 2 * dim);
  const std::size_t nout = static_cast<std::size_t>(tokens * dim);
  constexpr std::size_t kGuard = 64;  // elements past the output that must stay untouched
  std::vector<float> in(nin);
  std::uint32_t s = 12345u + static_cast<std::uint32_t>(dim);
  auto uni = [&] {
    s = s * 1664525u + 1013904223u;
    return static_cast<double>(s >> 8) / 16777216.0;
  };
  for (std::size_t i = 0; i < nin; ++i) {
    const bool gate = (i / static_cast<std::size_t>(dim)) % 2 == 0;
    // Gates over [-12, 12] (both tails, the cancelling region included), ups over [-2, 2].
    const double v = gate ? 24 * uni() - 12 : 4 * uni() - 2;
    in[i] = from_bits(d, to_bits(d, static_cast<float>(v)));
  }
  std::vector<std::uint8_t> hin(nin * es), hout((nout + kGuard) * es, 0xA5);
  for (std::size_t i = 0; i < nin; ++i) {
    const std::uint32_t b = to_bits(d, in[i]);
    std::memcpy(hin.data() + i * es, &b, es);
  }
  void *din = nullptr, *dout = nullptr;
  ASSERT_EQ(cudaMalloc(&din, hin.size()), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dout, hout.size()), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(din, hin.data(), hin.size(), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(dout, hout.data(), hout.size(), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(kc::peers::flashinfer_act_and_mul(a, d, dout, din, tokens, dim, kc::Pdl::kOff, nullptr),
            cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<std::uint8_t> got(hout.size());
  ASSERT_EQ(cudaMemcpy(got.data(), dout, got.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(din);
  cudaFree(dout);
  for (std::size_t i = nout * es; i < got.size(); ++i) ASSERT_EQ(got[i], 0xA5) << "byte " << i;
  const Bound b = bound(a, d);
  double worst = 0;
  int bad = 0;
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t j = 0; j < dim; ++j) {
      const double g = in[static_cast<std::size_t>(t * 2 * dim + j)];
      const double u = in[static_cast<std::size_t>(t * 2 * dim + dim + j)];
      std::uint32_t yb = 0;
      std::memcpy(&yb, got.data() + static_cast<std::size_t>(t * dim + j) * es, es);
      const double y = from_bits(d, yb);
      const double act = act_exact(a, g);
      const double v = act * u;
      const double err = std::fabs(y - v);
      const double ulp = ulp_of(d, v);
      worst = std::max(worst, err / ulp);
      const bool flat = err <= b.ulps * ulp;
      const bool absolute = err <= b.ulps * ulp + std::ldexp(std::fabs(g * u), -b.n);
      const bool tail = y == 0 && std::fabs(act) < 0x1p-126;
      if (!(flat || absolute || tail) && ++bad <= 5) {
        ADD_FAILURE() << "row " << t << " col " << j << ": g " << g << " u " << u << " got " << y
                      << " exact " << v << " (" << err / ulp << " ulp; bound " << b.ulps
                      << " ulp + 2^-" << b.n << " |g u|)";
      }
    }
  }
  std::printf("%d %s %lld x %lld (vec %d): largest error %.4f ulp\n", static_cast<int>(a),
              kc::dtype_name(d), static_cast<long long>(tokens), static_cast<long long>(dim),
              kc::peers::flashinfer_act_vec(d, dim), worst);
  EXPECT_EQ(bad, 0);
}

TEST(FlashInferActLauncher, ShapesWithinTheStatedBound) {
  const std::int64_t shapes[][2] = {{1, 1},    {3, 7},     {5, 3420},  {2, 12},
                                    {4, 4098}, {2, 11008}, {1, 28672}, {64, 1024}};
  for (FlashInferAct a : {FlashInferAct::kSilu, FlashInferAct::kGelu, FlashInferAct::kGeluTanh}) {
    for (DType d : {DType::kFp32, DType::kFp16, DType::kBf16}) {
      for (const auto& sh : shapes) check_shape(a, d, sh[0], sh[1]);
    }
  }
}

// One element through the peer: gate g, up u, in bf16.
float one_bf16(FlashInferAct a, float g, float u) {
  const std::uint16_t in[2] = {static_cast<std::uint16_t>(kc::detail::float_to_bf16(g)),
                               static_cast<std::uint16_t>(kc::detail::float_to_bf16(u))};
  void *din = nullptr, *dout = nullptr;
  EXPECT_EQ(cudaMalloc(&din, 4), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&dout, 2), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(din, in, 4, cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(
      kc::peers::flashinfer_act_and_mul(a, DType::kBf16, dout, din, 1, 1, kc::Pdl::kOff, nullptr),
      cudaSuccess);
  std::uint16_t out = 0;
  EXPECT_EQ(cudaMemcpy(&out, dout, 2, cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(din);
  cudaFree(dout);
  return kc::detail::bf16_to_float(out);
}

TEST(FlashInferActKnownBehaviour, SiluZeroWhereTheReciprocalFlushes) {
  for (float g : {-88.5f, -88.0f, -87.5f}) {
    const float y = one_bf16(FlashInferAct::kSilu, g, 1.0f);
    std::printf("silu(%g) * 1 = %g (exact %.4g)\n", g, y, act_exact(FlashInferAct::kSilu, g));
    EXPECT_EQ(y, 0.0f) << "FlashInfer's silu no longer flushes at g = " << g;
    EXPECT_TRUE(std::signbit(y));
  }
  // Just above the band the value survives.
  EXPECT_NE(one_bf16(FlashInferAct::kSilu, -87.0f, 1.0f), 0.0f);
}

TEST(FlashInferActKnownBehaviour, GeluTailTimesInfinityIsNan) {
  const float y = one_bf16(FlashInferAct::kGelu, -8.0f, INFINITY);
  std::printf("gelu(-8) * inf = %g (single profile: -inf)\n", y);
  EXPECT_TRUE(std::isnan(y)) << "FlashInfer's gelu(-8) is no longer a zero";
}

TEST(FlashInferActKnownDefects, EmptyBatchIsRefused) {
  void* buf = nullptr;
  ASSERT_EQ(cudaMalloc(&buf, 4096), cudaSuccess);
  const cudaError_t e = kc::peers::flashinfer_act_and_mul(FlashInferAct::kSilu, DType::kBf16, buf,
                                                          buf, 0, 64, kc::Pdl::kOff, nullptr);
  // The launcher returns cudaGetLastError() after the launch, as FlashInfer's does before it
  // raises: the refusal is reported and cleared.
  std::printf("num_tokens 0: %s\n", cudaGetErrorName(e));
  EXPECT_NE(e, cudaSuccess) << "FlashInfer now accepts num_tokens == 0";
  cudaFree(buf);
}

}  // namespace
