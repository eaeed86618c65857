// The qknorm_rope twin (the GPU's bits) against the exact reference qknorm_rope.exact
// (kc::ref::evaluate): random heads (N(0, 1) values, weights N(1, 0.3), never ones) at the
// positions where fp32-angle engines drift (0, 1, 2^15, 131071, 2^24 - 1, 2^24, random ones
// below 2^31, and int64 ones beyond), both pairings, full and partial rotary, YaRN on and off.
// Per position bucket it prints the fraction of outputs correctly rounded and the largest ulp
// error, and asserts the bounds derived in qknorm_rope_row.h: bf16/fp16 >= 99.9 % correctly
// rounded and every error < 1 ulp; fp32 every error below 0.5 + 2^3.8 ulp.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "common/scalar.h"
#include "kc/kernels/qknorm_rope.h"
#include "kc/ref/format.h"
#include "kc/ref/qknorm_rope.h"

namespace kc {
namespace {

std::uint32_t encode(DType d, float v) {
  return d == DType::kFp32   ? detail::float_bits(v)
         : d == DType::kBf16 ? detail::float_to_bf16_soft(v)
                             : detail::float_to_fp16_soft(v);
}
float decode(DType d, std::uint32_t b) {
  return d == DType::kFp32   ? detail::bits_float(b)
         : d == DType::kBf16 ? detail::bf16_to_float(static_cast<std::uint16_t>(b))
                             : detail::fp16_to_float_soft(static_cast<std::uint16_t>(b));
}
ref::Format format_of(DType d) {
  return d == DType::kFp32 ? ref::kFp32 : d == DType::kBf16 ? ref::kBf16 : ref::kFp16;
}

struct Shape {
  std::int64_t head_dim, rotary_dim;
  RopePairing pairing;
  double base;
  QkRopeYarn yarn;
};

struct Tally {
  std::int64_t outputs = 0, correct = 0;
  double max_ulp = 0.0;
};

// One token through the twin and the reference; accumulates into t.
void run_token(DType dt, const Shape& s, std::int64_t pos, std::mt19937_64& rng, Tally* t) {
  const std::int64_t nq = 1, nk = 1, nv = 1, n = s.head_dim;
  const std::int64_t hidden = (nq + nk + nv) * n;
  std::normal_distribution<float> val(0.0f, 1.0f), wv(1.0f, 0.3f);
  std::vector<float> row(hidden), qw(n), kw(n);
  for (auto& v : row) v = decode(dt, encode(dt, val(rng)));
  for (auto& v : qw) v = decode(dt, encode(dt, wv(rng)));
  for (auto& v : kw) v = decode(dt, encode(dt, wv(rng)));
  const std::size_t es = dtype_size(dt);
  std::vector<unsigned char> x(hidden * es), y(hidden * es), qwb(n * es), kwb(n * es);
  auto put = [&](std::vector<unsigned char>& buf, std::int64_t i, float v) {
    const std::uint32_t b = encode(dt, v);
    std::memcpy(buf.data() + i * es, &b, es);  // little-endian low bytes
  };
  for (std::int64_t i = 0; i < hidden; ++i) put(x, i, row[i]);
  for (std::int64_t i = 0; i < n; ++i) {
    put(qwb, i, qw[i]);
    put(kwb, i, kw[i]);
  }
  QkNormRopeArgs a;
  a.dtype = dt;
  a.num_tokens = 1;
  a.head_dim = n;
  a.num_q_heads = nq;
  a.num_k_heads = nk;
  a.num_v_heads = nv;
  a.rotary_dim = s.rotary_dim;
  a.pairing = s.pairing;
  a.base = s.base;
  a.eps = 1e-6f;
  a.yarn = s.yarn;
  a.positions = &pos;
  a.position_type = PositionType::kInt64;
  a.qkv = x.data();
  a.qkv_stride = hidden;
  a.output = y.data();
  a.output_stride = hidden;
  a.q_weight = qwb.data();
  a.k_weight = kwb.data();
  ASSERT_TRUE(qknorm_rope_twin(a).is_ok());

  ref::QkNormRopeParams p;
  p.head_dim = n;
  p.num_q_heads = nq;
  p.num_k_heads = nk;
  p.num_v_heads = nv;
  p.rotary_dim = s.rotary_dim;
  p.style = s.pairing == RopePairing::kNeox ? ref::RopeStyle::kNeox : ref::RopeStyle::kInterleaved;
  p.base = s.base;
  p.eps = 1e-6f;
  p.yarn = ref::YarnParams{s.yarn.factor, s.yarn.low, s.yarn.high, s.yarn.attention_factor};
  ref::QkNormRopeTokenInput in;
  in.format = format_of(dt);
  in.row = row.data();
  in.q_weight = qw.data();
  in.k_weight = kw.data();
  in.position = pos;
  const ref::QkNormRopeResult r = ref::evaluate(ref::QkNormRopeProfile::kExact, p, in);
  ASSERT_EQ(r.status, ref::QkNormRopeStatus::kOk) << r.message;
  for (std::int64_t i = 0; i < (nq + nk) * n; ++i) {
    std::uint32_t b = 0;
    std::memcpy(&b, y.data() + i * es, es);
    ++t->outputs;
    if (b == r.y_bits[i]) ++t->correct;
    const double e = ref::ulp_error(format_of(dt), b, r.y_exact[i]);
    if (e > t->max_ulp) t->max_ulp = e;
  }
}

const Shape kShapes[] = {
    {128, 128, RopePairing::kNeox, 1e6, {}},
    {128, 128, RopePairing::kInterleaved, 1e4, {}},
    {80, 40, RopePairing::kNeox, 5e5, {}},
    {64, 64, RopePairing::kInterleaved, 5e5, {2.5f, 4.0f, 32.0f, 0.9f}},
    {256, 64, RopePairing::kNeox, 1e4, {}},
};

void sweep(DType dt, int tokens_per_bucket, double min_fraction, double max_ulp) {
  std::mt19937_64 rng(20240616u + static_cast<unsigned>(dt));
  std::vector<std::int64_t> fixed = {0, 1, 1 << 15, 131071, (1 << 24) - 1, 1 << 24};
  struct Bucket {
    const char* name;
    std::vector<std::int64_t> pos;
  };
  std::vector<Bucket> buckets;
  for (std::int64_t p : fixed) buckets.push_back({nullptr, {p}});
  std::vector<std::int64_t> big31, big63;
  for (int i = 0; i < 8; ++i) big31.push_back(static_cast<std::int64_t>(rng() >> 33));
  for (int i = 0; i < 8; ++i) big63.push_back(static_cast<std::int64_t>(rng() >> 1));
  big63.push_back(-(std::int64_t{1} << 40) - 3);
  buckets.push_back({"random < 2^31", big31});
  buckets.push_back({"random int64", big63});
  Tally all;
  for (const Bucket& b : buckets) {
    Tally t;
    for (int k = 0; k < tokens_per_bucket; ++k) {
      const Shape& s = kShapes[k % std::size(kShapes)];
      run_token(dt, s, b.pos[k % b.pos.size()], rng, &t);
    }
    char name[64];
    if (b.name == nullptr) {
      std::snprintf(name, sizeof name, "p = %lld", static_cast<long long>(b.pos[0]));
    } else {
      std::snprintf(name, sizeof name, "%s", b.name);
    }
    std::printf("%s %-16s outputs %6lld correctly rounded %.4f %% max ulp %.4f\n", dtype_name(dt),
                name, static_cast<long long>(t.outputs), 100.0 * t.correct / t.outputs, t.max_ulp);
    EXPECT_LT(t.max_ulp, max_ulp) << name;
    all.outputs += t.outputs;
    all.correct += t.correct;
  }
  const double frac = static_cast<double>(all.correct) / all.outputs;
  std::printf("%s all: %.4f %% correctly rounded of %lld\n", dtype_name(dt), 100.0 * frac,
              static_cast<long long>(all.outputs));
  EXPECT_GE(frac, min_fraction);
}

TEST(QkNormRopeTwinTest, Bf16AgainstExactReference) { sweep(DType::kBf16, 40, 0.999, 1.0); }
TEST(QkNormRopeTwinTest, Fp16AgainstExactReference) { sweep(DType::kFp16, 40, 0.999, 1.0); }
TEST(QkNormRopeTwinTest, Fp32AgainstExactReference) { sweep(DType::kFp32, 10, 0.0, 0.5 + 14.0); }

}  // namespace
}  // namespace kc
