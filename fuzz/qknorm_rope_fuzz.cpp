// libFuzzer target of the qknorm_rope family: decodes bytes into a case (dtype, head_dim, head
// counts, rotary_dim, pairing, base, eps, YaRN, position type, mode and magnitude, tokens,
// strides, offsets, in place or not, value classes, special-value injections, data seed) and
// asserts on the host twin of qknorm_rope.exact the properties `kconform check` runs on twins:
// support_agrees, bounded_error, special_values, layout_invariant, batch_invariant. A failure
// prints the case as check would, writes a repro into KC_FUZZ_REPRO_DIR (default .) and aborts,
// so libFuzzer keeps the input.
//
// Built like rmsnorm_fuzz.cpp (fuzz/CMakeLists.txt finds it by name: a replay build whose ctest
// replays the seed corpus fuzz/corpus/qknorm_rope, written by scripts/make_rope_fuzz_corpus.py,
// and the libFuzzer build). KC_FUZZ_TRACE=1 prints each decoded case.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/property.h"
#include "kc/props/qknorm_rope.h"
#include "kc/props/repro.h"

namespace {

using kc::fuzz::Bytes;
using kc::props::Case;

// The byte layout (scripts/make_rope_fuzz_corpus.py writes it):
//   dtype, head_dim u16 (bit 15: an edge index, else the value), nq, nk, nv, rotary u8 (0..5: hd,
//   hd/2, hd/4, 3hd/4, 0, hd - 1; else the value - 6), pairing, base, eps, yarn, position type,
//   pos mode, pos_max u64 (bit 63: an edge index in the low byte, else the value), tokens,
//   in_place, 5 x (pad, offset), classes count-1 then classes, weight class, injections count
//   then (tensor, row, col u16, kind), seed u64.
Case decode(Bytes& b) {
  using kc::props::QkShape;
  const kc::DType dtype = kc::kAllDTypes[b.pick(3)];
  static const std::int64_t kHeadEdges[] = {0,   1,   2,   62,  63,  64,  80, 96,
                                            112, 128, 160, 192, 256, 512, 514};
  const std::uint16_t h = b.u16();
  QkShape s;
  s.head_dim = (h & 0x8000u)
                   ? kHeadEdges[(h & 0x7fffu) % (sizeof kHeadEdges / sizeof(std::int64_t))]
                   : static_cast<std::int64_t>(h & 0x3ffu);
  s.nq = b.pick(6);
  s.nk = b.pick(4);
  s.nv = b.pick(4);
  const std::uint8_t r = b.u8();
  const std::int64_t hd = s.head_dim;
  const std::int64_t even2 = hd / 2 - hd / 2 % 2, even4 = hd / 4 - hd / 4 % 2;
  const std::int64_t rds[] = {hd, even2, even4, 3 * hd / 4 - 3 * hd / 4 % 2, 0, hd - 1};
  s.rotary_dim = r < 6 ? rds[r] : r - 6;
  s.pairing = b.pick(2) ? kc::RopePairing::kInterleaved : kc::RopePairing::kNeox;
  static const double kBases[] = {1e4, 5e5, 1e6, 1.0, 500.0, 0.5, 0.0, -1e4};
  s.base = kBases[b.pick(8)];
  static const float kEps[] = {1e-6f, 1e-5f, 0.0f, -1e-6f};
  s.eps = kEps[b.pick(4)];
  static const kc::QkRopeYarn kYarn[] = {{1.0f, 0.0f, 0.0f, 1.0f},
                                         {4.0f, 2.0f, 32.0f, 1.3f},
                                         {40.0f, 0.0f, 64.0f, 1.36888795f},
                                         {2.5f, 4.0f, 4.0f, 0.9f},
                                         {0.5f, 0.0f, 32.0f, 1.0f}};
  s.yarn = kYarn[b.pick(5)];
  s.position_type = b.pick(2) ? kc::PositionType::kInt32 : kc::PositionType::kInt64;
  s.pos_mode = static_cast<kc::props::QkPositionMode>(
      b.pick(static_cast<std::size_t>(kc::props::QkPositionMode::kCount)));
  static const std::int64_t kPosEdges[] = {0,
                                           1,
                                           1 << 15,
                                           131071,
                                           (1 << 24) - 1,
                                           1 << 24,
                                           (1 << 24) + 1,
                                           0x7fffffff,
                                           std::int64_t{1} << 40,
                                           INT64_MAX};
  const std::uint64_t pm = b.u64();
  s.pos_max = (pm >> 63) ? kPosEdges[(pm & 0xffu) % 10] : static_cast<std::int64_t>(pm);
  if (s.position_type == kc::PositionType::kInt32 && s.pos_max > 0x7fffffff) s.pos_max = 0x7fffffff;
  const std::int64_t tokens = static_cast<std::int64_t>(b.pick(9));  // 0..8
  Case c = kc::props::qk_case("qknorm_rope.exact", dtype, tokens, s);
  c.tensors[kc::props::QkNormRopeTensors::kOutput].in_place = b.pick(2) == 1;
  for (kc::props::TensorLayout& l : c.tensors) {
    const std::uint8_t pad = b.u8();
    l.row_stride = kc::fuzz::padded_stride(pad, l.row_stride);
    l.offset = b.u8() % 16;
  }
  const std::size_t classes = 1 + b.pick(3);
  c.row_classes.clear();
  for (std::size_t k = 0; k < classes; ++k) {
    c.row_classes.push_back(
        static_cast<std::uint8_t>(b.pick(static_cast<std::size_t>(kc::props::QkRowClass::kCount))));
  }
  c.weight_class =
      static_cast<std::uint8_t>(b.pick(static_cast<std::size_t>(kc::props::QkWeightClass::kCount)));
  kc::fuzz::decode_injections(b, c, kc::fuzz::InjectionTensor::kAnyOfThree);
  c.seed = b.u64();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes b(data, size);
  const Case c = decode(b);
  if (std::getenv("KC_FUZZ_TRACE") != nullptr) {
    std::printf("%s\n", kc::props::describe(c).c_str());
  }
  // Cases above 16384 head elements: support_agrees alone (exec/s).
  const std::int64_t work = c.num_tokens * kc::props::qk_hidden(c);
  return kc::fuzz::check_on_twin(
      c, work > 16384 ? kc::fuzz::FuzzScope::kSupportOnly : kc::fuzz::FuzzScope::kAll);
}
