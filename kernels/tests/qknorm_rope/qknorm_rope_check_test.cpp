// qknorm_rope_check and the twin's rejection path: every rule of qknorm_rope.h's contract gives
// a Status naming the op and the value, and a rejected twin call writes nothing.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "kc/kernels/qknorm_rope.h"

namespace kc {
namespace {

struct Bufs {
  std::vector<std::uint16_t> qkv = std::vector<std::uint16_t>(4 * 3 * 64, 0x3f80);
  std::vector<std::uint16_t> out = std::vector<std::uint16_t>(4 * 3 * 64, 0x1234);
  std::vector<std::uint16_t> w = std::vector<std::uint16_t>(64, 0x3f80);
  std::vector<std::int64_t> pos = {0, 1, 2, 3};
  QkNormRopeArgs args() {
    QkNormRopeArgs a;
    a.num_tokens = 4;
    a.head_dim = 64;
    a.rotary_dim = 64;
    a.num_q_heads = a.num_k_heads = a.num_v_heads = 1;
    a.qkv = qkv.data();
    a.qkv_stride = 3 * 64;
    a.output = out.data();
    a.output_stride = 3 * 64;
    a.q_weight = a.k_weight = w.data();
    a.positions = pos.data();
    return a;
  }
};

void expect_rejected(const std::function<void(QkNormRopeArgs&)>& edit, StatusCode code,
                     const char* value) {
  Bufs b;
  QkNormRopeArgs a = b.args();
  edit(a);
  const Status s = qknorm_rope_check(a);
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find("qknorm_rope"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(value), std::string::npos) << s.message();
  const std::vector<std::uint16_t> qkv0 = b.qkv, out0 = b.out;
  EXPECT_EQ(qknorm_rope_twin(a).code(), code);
  EXPECT_EQ(b.qkv, qkv0);
  EXPECT_EQ(b.out, out0);
}

TEST(QkNormRopeCheckTest, AcceptsTheBaseCase) {
  Bufs b;
  EXPECT_TRUE(qknorm_rope_check(b.args()).is_ok());
  QkNormRopeArgs a = b.args();
  a.output = nullptr;  // in place
  EXPECT_TRUE(qknorm_rope_check(a).is_ok());
  a.num_tokens = 0;
  a.qkv = nullptr;
  EXPECT_TRUE(qknorm_rope_check(a).is_ok());
}

TEST(QkNormRopeCheckTest, RejectsEveryRule) {
  using C = StatusCode;
  expect_rejected([](auto& a) { a.profile = QkNormRopeProfile::kHf; }, C::kUnsupported, "hf");
  expect_rejected([](auto& a) { a.dtype = static_cast<DType>(7); }, C::kInvalidArgument, "dtype");
  expect_rejected([](auto& a) { a.pairing = static_cast<RopePairing>(9); }, C::kInvalidArgument,
                  "pairing");
  expect_rejected([](auto& a) { a.num_tokens = -1; }, C::kInvalidArgument, "num_tokens = -1");
  expect_rejected([](auto& a) { a.head_dim = 63; }, C::kInvalidArgument, "head_dim = 63");
  expect_rejected([](auto& a) { a.head_dim = 514; }, C::kUnsupported, "head_dim = 514");
  expect_rejected([](auto& a) { a.num_v_heads = -2; }, C::kInvalidArgument, "num_v_heads = -2");
  expect_rejected([](auto& a) { a.rotary_dim = 33; }, C::kInvalidArgument, "rotary_dim = 33");
  expect_rejected([](auto& a) { a.rotary_dim = 66; }, C::kInvalidArgument, "rotary_dim = 66");
  expect_rejected([](auto& a) { a.base = 0.0; }, C::kInvalidArgument, "base = 0");
  expect_rejected([](auto& a) { a.base = 0.5; }, C::kUnsupported, "base = 0.5");
  expect_rejected([](auto& a) { a.eps = -1.0f; }, C::kInvalidArgument, "eps = -1");
  expect_rejected([](auto& a) { a.yarn.factor = 0.5f; }, C::kUnsupported, "factor = 0.5");
  expect_rejected(
      [](auto& a) {
        a.yarn.factor = 2.0f;
        a.yarn.low = 1e10f;  // high + 0.001 rounds back to high: the ramp divides by 0
        a.yarn.high = 1e10f;
      },
      C::kInvalidArgument, "yarn.low");
  expect_rejected([](auto& a) { a.qkv_stride = 100; }, C::kInvalidArgument, "row_stride = 100");
  expect_rejected([](auto& a) { a.qkv = nullptr; }, C::kInvalidArgument, "qkv data is null");
  expect_rejected([](auto& a) { a.positions = nullptr; }, C::kInvalidArgument, "positions");
  expect_rejected([](auto& a) { a.k_weight = nullptr; }, C::kInvalidArgument, "k_weight");
  expect_rejected(
      [](auto& a) { a.output = static_cast<std::uint16_t*>(const_cast<void*>(a.qkv)) + 1; },
      C::kInvalidArgument, "output");
}

}  // namespace
}  // namespace kc
