// kconform's qknorm_rope GPU kernel against its host twin through the harness (twin_bitwise:
// whole arenas, v heads, padding and canaries compared) over a stratified sample: every head_dim
// edge of the generator (the 64/128/256 vector paths aligned and misaligned), head counts with
// no q, k or v heads, rotary dims full/half/quarter/odd quarter/none, both pairings, int32 and
// int64 positions in every mode (random, consecutive, shuffled, repeated, negative) up to 2^62,
// YaRN on and off, in place and out of place, padded strides and offsets, every value class; and
// the empty batch (no launch) and determinism under graph replay. Exits 77 without a GPU.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "kc/props/device.h"
#include "kc/props/property.h"
#include "kc/props/qknorm_rope.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

TEST(QkNormRopeGpuTest, GpuEqualsTwinAcrossTheGeneratorsEdges) {
  if (!gpu_available()) GTEST_SKIP() << "no GPU";
  const Subject* gpu = find_subject("kc.gpu.qknorm_rope.exact");
  ASSERT_NE(gpu, nullptr);
  const std::int64_t head_dims[] = {2, 62, 64, 80, 96, 112, 128, 160, 192, 256, 512};
  const std::int64_t pos_max[] = {0,
                                  1000,
                                  1 << 15,
                                  131071,
                                  (1 << 24) - 1,
                                  1 << 24,
                                  (std::int64_t{1} << 40) + 3,
                                  (std::int64_t{1} << 62) + 5};
  std::mt19937_64 rng(16);
  int cases = 0;
  for (DType dt : {DType::kBf16, DType::kFp16, DType::kFp32}) {
    for (std::int64_t hd : head_dims) {
      for (int k = 0; k < 6; ++k) {
        QkShape s;
        s.head_dim = hd;
        const std::int64_t rds[] = {
            hd, hd / 2 - hd / 2 % 2, hd / 4 - hd / 4 % 2, 3 * hd / 4 - 3 * hd / 4 % 2, 0, 2};
        s.rotary_dim = rds[k];
        s.nq = static_cast<std::int64_t>(rng() % 5);
        s.nk = static_cast<std::int64_t>(rng() % 3);
        s.nv = static_cast<std::int64_t>(rng() % 3);
        s.pairing = rng() % 2 ? RopePairing::kInterleaved : RopePairing::kNeox;
        s.base = k % 3 == 0 ? 1e4 : k % 3 == 1 ? 5e5 : 1e6;
        if (rng() % 3 == 0) s.yarn = QkRopeYarn{4.0f, 2.0f, 32.0f, 1.3f};
        s.pos_mode = static_cast<QkPositionMode>(rng() % 5);
        s.pos_max = pos_max[rng() % 8];
        s.position_type = s.pos_max < (std::int64_t{1} << 31) && rng() % 2 ? PositionType::kInt32
                                                                           : PositionType::kInt64;
        const std::int64_t tokens = hd >= 256 ? 5 : static_cast<std::int64_t>(1 + rng() % 40);
        Case c = qk_case("qknorm_rope.exact", dt, tokens, s, rng());
        c.tensors[QkNormRopeTensors::kOutput].in_place = rng() % 2;
        for (int t : {QkNormRopeTensors::kQkv, QkNormRopeTensors::kOutput}) {
          if (rng() % 3 == 0) c.tensors[static_cast<std::size_t>(t)].row_stride += rng() % 9;
          c.tensors[static_cast<std::size_t>(t)].offset = static_cast<std::int64_t>(rng() % 4);
        }
        c.row_classes = {static_cast<std::uint8_t>(rng() % 8),
                         static_cast<std::uint8_t>(rng() % 8)};
        c.weight_class = static_cast<std::uint8_t>(rng() % 4);
        for (PropertyId p : {PropertyId::kTwinBitwise, PropertyId::kDeterministic}) {
          const Verdict v = run_property(p, *gpu, c);
          ASSERT_FALSE(v.failed()) << describe_failure(*gpu, p, c, v);
        }
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 150);
  Case e = qk_case("qknorm_rope.exact", DType::kBf16, 3, QkShape{}, 1);
  const Verdict v = run_property(PropertyId::kEmptyBatch, *gpu, e);
  EXPECT_EQ(v.kind, Verdict::Kind::kPass) << v.message;
}

}  // namespace
}  // namespace kc::props
