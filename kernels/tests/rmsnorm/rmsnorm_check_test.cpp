// The norm checks: every unsupported case of rmsnorm.h is rejected with a Status naming the op,
// the value and the rule; the twin (which runs the same check) then writes nothing. Supported
// edge cases (in place, hidden 1 and kMaxHidden, zero tokens with null data) are accepted.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kc/kernels/rmsnorm.h"

namespace kc {
namespace {

// Host tensors with a byte pattern to detect writes.
struct Buffers {
  std::vector<std::uint16_t> x, r, w, y, ro;
  explicit Buffers(std::size_t n)
      : x(n, 0x3f80), r(n, 0x3f80), w(n, 0x3f80), y(n, 0xabcd), ro(n, 0xabcd) {}
};

RmsNormArgs good_rmsnorm(Buffers& b, std::int64_t rows, std::int64_t hidden) {
  RmsNormArgs a;
  a.num_tokens = rows;
  a.hidden = hidden;
  a.input = ConstRows{b.x.data(), DType::kBf16, hidden};
  a.weight = ConstVector{b.w.data(), DType::kBf16};
  a.output = Rows{b.y.data(), DType::kBf16, hidden};
  return a;
}

FusedAddRmsNormArgs good_fused(Buffers& b, std::int64_t rows, std::int64_t hidden) {
  FusedAddRmsNormArgs a;
  a.num_tokens = rows;
  a.hidden = hidden;
  a.input = ConstRows{b.x.data(), DType::kBf16, hidden};
  a.residual = ConstRows{b.r.data(), DType::kBf16, hidden};
  a.weight = ConstVector{b.w.data(), DType::kBf16};
  a.output = Rows{b.y.data(), DType::kBf16, hidden};
  a.residual_out = Rows{b.ro.data(), DType::kBf16, hidden};
  return a;
}

// The Status is a rejection with `code` whose message names op, value and rule.
void expect_rejected(const Status& s, StatusCode code, const std::string& op,
                     const std::string& value, const std::string& rule) {
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_EQ(s.message().rfind(op + ":", 0), 0u) << s.message();
  EXPECT_NE(s.message().find(value), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(rule), std::string::npos) << s.message();
}

bool untouched(const Buffers& b) {
  for (std::uint16_t v : b.y) {
    if (v != 0xabcd) return false;
  }
  for (std::uint16_t v : b.ro) {
    if (v != 0xabcd) return false;
  }
  for (std::uint16_t v : b.x) {
    if (v != 0x3f80) return false;
  }
  return true;
}

TEST(RmsNormCheckTest, AcceptsSupportedEdges) {
  Buffers b(4 * 64);
  EXPECT_TRUE(rmsnorm_check(good_rmsnorm(b, 4, 64)).is_ok());
  EXPECT_TRUE(rmsnorm_check(good_rmsnorm(b, 1, 1)).is_ok());
  RmsNormArgs in_place = good_rmsnorm(b, 4, 64);
  in_place.output = Rows{b.x.data(), DType::kBf16, 64};
  EXPECT_TRUE(rmsnorm_check(in_place).is_ok());
  Buffers big(kMaxHidden);
  EXPECT_TRUE(rmsnorm_check(good_rmsnorm(big, 1, kMaxHidden)).is_ok());
  // Zero tokens: a successful no-op even with null data.
  RmsNormArgs empty;
  empty.hidden = 64;
  empty.input.row_stride = 64;
  empty.output.row_stride = 64;
  EXPECT_TRUE(rmsnorm_check(empty).is_ok());
  EXPECT_TRUE(rmsnorm_twin(empty).is_ok());
  // Engines' in-place fused form.
  EXPECT_TRUE(
      fused_add_rmsnorm_check(fused_add_rmsnorm_in_place(4, 64, DType::kBf16, b.x.data(), 64,
                                                         b.r.data(), 64, b.w.data(), 1e-6f))
          .is_ok());
  // Interleaved rows in one buffer (stride 2H, output in the other half) do not overlap.
  Buffers wide(4 * 128);
  RmsNormArgs interleaved = good_rmsnorm(wide, 4, 64);
  interleaved.input.row_stride = 128;
  interleaved.output = Rows{wide.x.data() + 64, DType::kBf16, 128};
  EXPECT_TRUE(rmsnorm_check(interleaved).is_ok());
}

TEST(RmsNormCheckTest, RejectsShapes) {
  Buffers b(4 * 64);
  RmsNormArgs a = good_rmsnorm(b, -1, 64);
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "-1", ">= 0");
  a = good_rmsnorm(b, 4, 0);
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "hidden = 0",
                  "[1, 65536]");
  Buffers big(kMaxHidden + 1);
  a = good_rmsnorm(big, 1, kMaxHidden + 1);
  expect_rejected(rmsnorm_check(a), StatusCode::kUnsupported, "rmsnorm", "65537", "[1, 65536]");
  a = good_rmsnorm(b, 4, 64);
  a.input.row_stride = 63;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "row_stride = 63",
                  ">= hidden");
  a = good_rmsnorm(b, 4, 64);
  a.output.row_stride = 10;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "output row_stride",
                  ">= hidden");
  a = good_rmsnorm(b, std::int64_t{1} << 40, 64);
  a.input.row_stride = std::int64_t{1} << 30;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "input extent",
                  "64-bit");
}

TEST(RmsNormCheckTest, RejectsDtypesEpsAndProfiles) {
  Buffers b(4 * 64);
  RmsNormArgs a = good_rmsnorm(b, 4, 64);
  a.weight.dtype = DType::kFp16;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "weight dtype fp16",
                  "share one dtype");
  a = good_rmsnorm(b, 4, 64);
  a.output.dtype = DType::kFp32;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "output dtype fp32",
                  "share one dtype");
  a = good_rmsnorm(b, 4, 64);
  a.eps = -1e-6f;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "eps = -1e-06",
                  "finite and >= 0");
  a.eps = std::numeric_limits<float>::quiet_NaN();
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "eps = nan", "finite");
  a = good_rmsnorm(b, 4, 64);
  a.output_rounding = OutputRounding::kCastBeforeWeight;
  a.weight_offset = WeightOffset::kOne;
  expect_rejected(rmsnorm_check(a), StatusCode::kUnsupported, "rmsnorm", "cast_before_weight",
                  "no profile");
  Buffers f(4 * 64);
  FusedAddRmsNormArgs fa = good_fused(f, 4, 64);
  fa.residual_sum = ResidualSum::kRounded;  // rounded sum, single rounding, no offset
  expect_rejected(fused_add_rmsnorm_check(fa), StatusCode::kUnsupported, "fused_add_rmsnorm",
                  "residual_sum = rounded", "no profile");
  fa = good_fused(f, 4, 64);
  fa.weight_offset = WeightOffset::kOne;  // fp32 sum with the Gemma offset
  expect_rejected(fused_add_rmsnorm_check(fa), StatusCode::kUnsupported, "fused_add_rmsnorm",
                  "residual_sum = fp32", "no profile");
  fa = good_fused(f, 4, 64);
  fa.residual.dtype = DType::kFp32;
  expect_rejected(fused_add_rmsnorm_check(fa), StatusCode::kInvalidArgument, "fused_add_rmsnorm",
                  "residual dtype fp32", "share one dtype");
}

TEST(RmsNormCheckTest, RejectsPointers) {
  Buffers b(4 * 64);
  RmsNormArgs a = good_rmsnorm(b, 4, 64);
  a.input.data = nullptr;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "input data is null",
                  "num_tokens > 0");
  a = good_rmsnorm(b, 4, 64);
  a.weight.data = nullptr;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "weight data is null",
                  "non-null");
  a = good_rmsnorm(b, 4, 64);
  a.output.data = reinterpret_cast<std::uint8_t*>(b.y.data()) + 1;
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm", "output data",
                  "element-aligned");
}

TEST(RmsNormCheckTest, RejectsOverlaps) {
  Buffers b(8 * 64);
  // Output overlapping the input with a shift (not exact in place).
  RmsNormArgs a = good_rmsnorm(b, 4, 64);
  a.output = Rows{b.x.data() + 1, DType::kBf16, 64};
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm",
                  "output overlaps input", "alias its own input exactly");
  // Same base, different stride: overlapping but not in place.
  a = good_rmsnorm(b, 4, 64);
  a.output = Rows{b.x.data(), DType::kBf16, 65};
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm",
                  "output overlaps input", "exactly");
  // Output over the weight.
  a = good_rmsnorm(b, 1, 64);
  a.output = Rows{b.w.data(), DType::kBf16, 64};
  expect_rejected(rmsnorm_check(a), StatusCode::kInvalidArgument, "rmsnorm",
                  "output overlaps weight", "exactly");
  // Fused: y written over the residual; residual_out over the input; the two outputs together.
  Buffers f(8 * 64);
  FusedAddRmsNormArgs fa = good_fused(f, 4, 64);
  fa.output = Rows{f.r.data(), DType::kBf16, 64};
  expect_rejected(fused_add_rmsnorm_check(fa), StatusCode::kInvalidArgument, "fused_add_rmsnorm",
                  "output overlaps residual", "its own input");
  fa = good_fused(f, 4, 64);
  fa.residual_out = Rows{f.x.data(), DType::kBf16, 64};
  expect_rejected(fused_add_rmsnorm_check(fa), StatusCode::kInvalidArgument, "fused_add_rmsnorm",
                  "residual_out overlaps input", "its own input");
  fa = good_fused(f, 4, 64);
  fa.residual_out = Rows{f.y.data() + 32, DType::kBf16, 64};
  expect_rejected(fused_add_rmsnorm_check(fa), StatusCode::kInvalidArgument, "fused_add_rmsnorm",
                  "output overlaps residual_out", "must not overlap");
}

// A rejected twin call writes nothing.
TEST(RmsNormCheckTest, RejectedTwinWritesNothing) {
  Buffers b(4 * 64);
  RmsNormArgs a = good_rmsnorm(b, 4, 64);
  a.weight.dtype = DType::kFp32;
  EXPECT_FALSE(rmsnorm_twin(a).is_ok());
  EXPECT_TRUE(untouched(b));
  FusedAddRmsNormArgs fa = good_fused(b, 4, 64);
  fa.hidden = kMaxHidden + 8;
  EXPECT_FALSE(fused_add_rmsnorm_twin(fa).is_ok());
  EXPECT_TRUE(untouched(b));
  // And an accepted one writes.
  EXPECT_TRUE(rmsnorm_twin(good_rmsnorm(b, 4, 64)).is_ok());
  EXPECT_FALSE(untouched(b));
}

TEST(RmsNormLayoutTest, DependsOnlyOnDtypeAndHidden) {
  for (DType d : kAllDTypes) {
    for (std::int64_t h = 1; h <= kMaxHidden; h += (h < 4096 ? 1 : 61)) {
      const RowLayout l = rmsnorm_layout(d, h);
      ASSERT_EQ(l.vec, d == DType::kFp32 ? 4 : 8);
      ASSERT_EQ(l.vectors, (h + l.vec - 1) / l.vec);
      ASSERT_TRUE(l.lanes >= 1 && l.lanes <= 1024 && (l.lanes & (l.lanes - 1)) == 0) << h;
      ASSERT_EQ(l.per_lane, (l.vectors + l.lanes - 1) / l.lanes);
      ASSERT_EQ(l.streamed, l.per_lane > 2);
      if (!l.streamed) {
        ASSERT_LE(l.per_lane, 2);
      }
    }
  }
  // The rule of rmsnorm_row.h: next_pow2(vectors) lanes, at most 1024.
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 8).lanes, 1);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 100).lanes, 16);  // 13 vectors: one a lane, 3 idle
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 100).per_lane, 1);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 1024).lanes, 128);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 4096).lanes, 512);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 8192).lanes, 1024);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 8192).per_lane, 1);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 8200).per_lane, 2);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 16384).lanes, 1024);
  EXPECT_FALSE(rmsnorm_layout(DType::kBf16, 16384).streamed);  // 2 vectors a lane
  EXPECT_TRUE(rmsnorm_layout(DType::kBf16, 16392).streamed);
  EXPECT_EQ(rmsnorm_layout(DType::kFp32, 1024).lanes, 256);
  EXPECT_EQ(rmsnorm_layout(DType::kFp16, 65536).per_lane, 8);  // streamed
  EXPECT_TRUE(rmsnorm_layout(DType::kFp16, 65536).streamed);
  EXPECT_EQ(rmsnorm_layout(DType::kBf16, 0).lanes, 0);  // unsupported: empty layout
}

}  // namespace
}  // namespace kc
