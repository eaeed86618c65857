// act_and_mul_check: every rule of act_and_mul.h's contracts, each rejection naming the op, the
// value and the rule; supported calls accepted, num_tokens == 0 included.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kc/kernels/act_and_mul.h"

namespace kc {
namespace {

struct Buffers {
  std::vector<std::uint16_t> x, y;
  Buffers(std::int64_t rows, std::int64_t d)
      : x(static_cast<std::size_t>(rows * 2 * d + 16)),
        y(static_cast<std::size_t>(rows * d + 16)) {}
};

ActAndMulArgs args(Buffers& b, std::int64_t rows, std::int64_t d) {
  ActAndMulArgs a;
  a.act = Activation::kGelu;
  a.rounding = ActRounding::kTorch;
  a.num_tokens = rows;
  a.d = d;
  a.input = ConstRows{b.x.data(), DType::kBf16, 2 * d};
  a.output = Rows{b.y.data(), DType::kBf16, d};
  return a;
}

void expect_rejected(const ActAndMulArgs& a, StatusCode code, const char* says) {
  const Status s = act_and_mul_check(a);
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find("act_and_mul"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
}

TEST(ActAndMulCheckTest, SupportedCalls) {
  Buffers b(3, 3420);
  EXPECT_TRUE(act_and_mul_check(args(b, 3, 3420)).is_ok());
  ActAndMulArgs empty = args(b, 0, 3420);
  empty.input.data = nullptr;
  empty.output.data = nullptr;
  EXPECT_TRUE(act_and_mul_check(empty).is_ok()) << "num_tokens == 0 with null data is a no-op";
  ActAndMulArgs odd = args(b, 2, 7);
  odd.input.data = b.x.data() + 1;  // any element alignment
  odd.input.row_stride = 15;
  EXPECT_TRUE(act_and_mul_check(odd).is_ok());
}

TEST(ActAndMulCheckTest, EachRuleNamesItsValue) {
  Buffers b(4, 64);
  ActAndMulArgs a = args(b, 4, 64);
  a.d = 0;
  expect_rejected(a, StatusCode::kInvalidArgument, "d = 0");
  a = args(b, 4, 64);
  a.d = kMaxActD + 1;
  expect_rejected(a, StatusCode::kUnsupported, "d must be in");
  a = args(b, 4, 64);
  a.num_tokens = -1;
  expect_rejected(a, StatusCode::kInvalidArgument, "num_tokens = -1");
  a = args(b, 4, 64);
  a.input.row_stride = 100;
  expect_rejected(a, StatusCode::kInvalidArgument, "input row_stride = 100");
  a = args(b, 4, 64);
  a.output.row_stride = 63;
  expect_rejected(a, StatusCode::kInvalidArgument, "output row_stride = 63");
  a = args(b, 4, 64);
  a.output.dtype = DType::kFp16;
  expect_rejected(a, StatusCode::kInvalidArgument, "output dtype fp16");
  a = args(b, 4, 64);
  a.input.data = nullptr;
  expect_rejected(a, StatusCode::kInvalidArgument, "input data is null");
  a = args(b, 4, 64);
  a.output.data = reinterpret_cast<char*>(b.y.data()) + 1;
  expect_rejected(a, StatusCode::kInvalidArgument, "not aligned");
  a = args(b, 4, 64);
  a.output.data = b.x.data() + 64;  // over the first row's up half
  expect_rejected(a, StatusCode::kInvalidArgument, "output overlaps input");
  a = args(b, 4, 64);
  a.act = static_cast<Activation>(9);
  expect_rejected(a, StatusCode::kInvalidArgument, "act = 9");
}

}  // namespace
}  // namespace kc
