// qknorm_rope on the GPU against its host twin, bit for bit, over whole buffers (outputs, the
// v heads, padding): every dtype, head_dim 2..512 (every even value in bf16, samples in the
// others), both pairings, full/partial/zero rotary, YaRN on and off, positions at the drift
// edges (0, 1, 2^15, 131071, 2^24 - 1, 2^24) and random int32/int64 ones, in place and out of
// place, padded strides and odd element offsets (vector and element paths), num_tokens 0 (no
// launch), and rejected calls that write nothing and leave no CUDA error pending.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kc/kernels/qknorm_rope.h"

namespace kc {
namespace {

#define CUDA_OK(x) ASSERT_EQ((x), cudaSuccess)

struct Case {
  DType dt;
  std::int64_t tokens, head_dim, nq, nk, nv, rotary_dim;
  RopePairing pairing;
  PositionType ptype;
  bool in_place;
  std::int64_t pad, offset;
  QkRopeYarn yarn;
};

void run_case(const Case& c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::size_t es = dtype_size(c.dt);
  const std::int64_t hidden = (c.nq + c.nk + c.nv) * c.head_dim;
  const std::int64_t stride = hidden + c.pad;
  const std::int64_t elems = c.offset + c.tokens * stride + 8;
  std::vector<std::uint8_t> qkv(elems * es), out(elems * es), w(2 * c.head_dim * es);
  // bf16/fp16/fp32 patterns of N(0, 1)-ish values: random sign/exponent near 1, random mantissa.
  auto fill = [&](std::vector<std::uint8_t>& b) {
    for (std::size_t i = 0; i < b.size() / es; ++i) {
      const float f = std::ldexp(static_cast<float>(rng() % 2048) / 1024.0f - 1.0f,
                                 static_cast<int>(rng() % 4) - 1);
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      if (c.dt == DType::kBf16) bits >>= 16;
      if (c.dt == DType::kFp16) {
        const std::uint16_t h = static_cast<std::uint16_t>(0x3000u + (rng() % 0x1800u)) |
                                static_cast<std::uint16_t>((rng() & 1) << 15);
        bits = h;
      }
      std::memcpy(b.data() + i * es, &bits, es);
    }
  };
  fill(qkv);
  fill(out);
  fill(w);
  const std::int64_t specials[] = {0, 1, 1 << 15, 131071, (1 << 24) - 1, 1 << 24, 2147483647};
  std::vector<std::int64_t> pos64(c.tokens);
  std::vector<std::int32_t> pos32(c.tokens);
  for (std::int64_t t = 0; t < c.tokens; ++t) {
    std::int64_t p = t < 7 ? specials[t] : static_cast<std::int64_t>(rng() >> 33);
    if (c.ptype == PositionType::kInt64 && t % 5 == 4) p = static_cast<std::int64_t>(rng() >> 2);
    pos64[t] = p;
    pos32[t] = static_cast<std::int32_t>(p & 0x7fffffff);
  }
  const void* pos_host = c.ptype == PositionType::kInt64 ? static_cast<const void*>(pos64.data())
                                                         : static_cast<const void*>(pos32.data());
  const std::size_t pos_bytes = c.tokens * (c.ptype == PositionType::kInt64 ? 8 : 4);

  void *dq, *dout, *dw, *dp;
  CUDA_OK(cudaMalloc(&dq, qkv.size()));
  CUDA_OK(cudaMalloc(&dout, out.size()));
  CUDA_OK(cudaMalloc(&dw, w.size()));
  CUDA_OK(cudaMalloc(&dp, pos_bytes + 8));
  CUDA_OK(cudaMemcpy(dq, qkv.data(), qkv.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dout, out.data(), out.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dw, w.data(), w.size(), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dp, pos_host, pos_bytes, cudaMemcpyHostToDevice));

  auto args = [&](void* q, void* o, const void* wp, const void* pp) {
    QkNormRopeArgs a;
    a.dtype = c.dt;
    a.num_tokens = c.tokens;
    a.head_dim = c.head_dim;
    a.num_q_heads = c.nq;
    a.num_k_heads = c.nk;
    a.num_v_heads = c.nv;
    a.rotary_dim = c.rotary_dim;
    a.pairing = c.pairing;
    a.base = 1e6;
    a.eps = 1e-6f;
    a.yarn = c.yarn;
    a.positions = pp;
    a.position_type = c.ptype;
    a.qkv = static_cast<std::uint8_t*>(q) + c.offset * es;
    a.qkv_stride = stride;
    a.output = c.in_place ? nullptr : static_cast<std::uint8_t*>(o) + c.offset * es;
    a.output_stride = stride;
    a.q_weight = wp;
    a.k_weight = static_cast<const std::uint8_t*>(wp) + c.head_dim * es;
    return a;
  };
  ASSERT_TRUE(qknorm_rope(args(dq, dout, dw, dp), nullptr).is_ok());
  ASSERT_TRUE(qknorm_rope_twin(args(qkv.data(), out.data(), w.data(), pos_host)).is_ok());
  std::vector<std::uint8_t> gq(qkv.size()), gout(out.size());
  CUDA_OK(cudaMemcpy(gq.data(), dq, gq.size(), cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(gout.data(), dout, gout.size(), cudaMemcpyDeviceToHost));
  EXPECT_TRUE(gq == qkv) << "qkv differs: dtype " << dtype_name(c.dt) << " head_dim " << c.head_dim
                         << " rd " << c.rotary_dim << " seed " << seed;
  EXPECT_TRUE(gout == out) << "output differs: dtype " << dtype_name(c.dt) << " head_dim "
                           << c.head_dim << " rd " << c.rotary_dim << " seed " << seed;
  CUDA_OK(cudaFree(dq));
  CUDA_OK(cudaFree(dout));
  CUDA_OK(cudaFree(dw));
  CUDA_OK(cudaFree(dp));
  CUDA_OK(cudaGetLastError());
}

TEST(QkNormRopeGpuTest, MatchesTwinBitForBit) {
  std::mt19937_64 rng(7);
  std::uint64_t seed = 1;
  for (DType dt : kAllDTypes) {
    for (std::int64_t hd = 2; hd <= 512; hd += 2) {
      if (dt != DType::kBf16 && hd % 16 != 0 && hd != 2 && hd != 62) continue;
      Case c;
      c.dt = dt;
      c.head_dim = hd;
      c.tokens = 9 + static_cast<std::int64_t>(rng() % 8);
      c.nq = 1 + static_cast<std::int64_t>(rng() % 3);
      c.nk = static_cast<std::int64_t>(rng() % 3);
      c.nv = static_cast<std::int64_t>(rng() % 2);
      const std::int64_t rds[] = {hd, hd / 2 / 2 * 2, 0, hd / 4 / 2 * 2};
      c.rotary_dim = rds[rng() % 4];
      c.pairing = rng() % 2 ? RopePairing::kNeox : RopePairing::kInterleaved;
      c.ptype = rng() % 2 ? PositionType::kInt64 : PositionType::kInt32;
      c.in_place = rng() % 2 == 0;
      c.pad = rng() % 3 == 0 ? static_cast<std::int64_t>(rng() % 9) : 0;
      c.offset = rng() % 3 == 0 ? static_cast<std::int64_t>(rng() % 8) : 0;
      if (rng() % 4 == 0) c.yarn = QkRopeYarn{4.0f, 3.0f, 20.0f, 1.1f};
      run_case(c, seed++);
    }
  }
}

TEST(QkNormRopeGpuTest, BandwidthShapeMatchesTwin) {
  // Qwen3-8B heads (32/8/8 x 128), both position types, aligned (vector path).
  for (PositionType pt : {PositionType::kInt32, PositionType::kInt64}) {
    Case c{DType::kBf16, 300, 128, 32, 8, 8, 128, RopePairing::kNeox, pt, true, 0, 0, {}};
    run_case(c, 99 + static_cast<int>(pt));
  }
}

TEST(QkNormRopeGpuTest, EmptyAndRejectedCallsLaunchNothing) {
  QkNormRopeArgs a;
  a.num_tokens = 0;
  a.num_q_heads = 4;
  EXPECT_TRUE(qknorm_rope(a, nullptr).is_ok());
  std::vector<std::uint16_t> h(3 * 64, 0x3f80);
  void* d;
  CUDA_OK(cudaMalloc(&d, h.size() * 2));
  CUDA_OK(cudaMemcpy(d, h.data(), h.size() * 2, cudaMemcpyHostToDevice));
  a.num_tokens = 1;
  a.head_dim = 64;
  a.rotary_dim = 65;  // rejected
  a.num_q_heads = 1;
  a.qkv = d;
  a.qkv_stride = 64;
  EXPECT_FALSE(qknorm_rope(a, nullptr).is_ok());
  CUDA_OK(cudaDeviceSynchronize());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  std::vector<std::uint16_t> back(h.size());
  CUDA_OK(cudaMemcpy(back.data(), d, back.size() * 2, cudaMemcpyDeviceToHost));
  EXPECT_EQ(back, h);
  CUDA_OK(cudaFree(d));
}

}  // namespace
}  // namespace kc
