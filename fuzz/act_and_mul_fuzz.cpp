// libFuzzer target of the act_and_mul family: decodes bytes into a case (profile, dtype, d,
// tokens, strides, offsets, value classes, special-value injections, data seed) and asserts on
// the host twin of the profile the properties `kconform check` runs on twins: support_agrees,
// bounded_error, special_values, layout_invariant, batch_invariant. A failure prints the case as
// check would, writes a repro into KC_FUZZ_REPRO_DIR (default .) and aborts, so libFuzzer keeps
// the input.
//
// Built like rmsnorm_fuzz.cpp (fuzz/CMakeLists.txt: a replay build whose ctest replays the seed
// corpus fuzz/corpus/act_and_mul, and the libFuzzer build). KC_FUZZ_TRACE=1 prints each decoded
// case.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "kc/kernels/act_and_mul.h"
#include "kc/props/act_and_mul.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/property.h"
#include "kc/props/repro.h"

namespace {

using kc::fuzz::Bytes;
using kc::props::Case;

Case decode(Bytes& b) {
  static const std::vector<std::string> profiles = kc::props::act_kernel_profiles();
  const std::string profile = profiles[b.pick(profiles.size())];
  const kc::DType dtype = kc::kAllDTypes[b.pick(3)];
  // d: edges (0, 1..9, 15..17, multiples of 8 +- 4 (3420), model sizes, above the maximum), or
  // any size up to 4096.
  static const std::int64_t kEdges[] = {0,
                                        1,
                                        2,
                                        3,
                                        4,
                                        5,
                                        6,
                                        7,
                                        8,
                                        9,
                                        15,
                                        16,
                                        17,
                                        252,
                                        1020,
                                        1028,
                                        3420,
                                        4096,
                                        11008,
                                        14336,
                                        kc::kMaxActD,
                                        kc::kMaxActD + 1};
  const std::uint16_t h = b.u16();
  const std::int64_t d = (h & 0x8000u) ? kEdges[(h & 0x7fffu) % (sizeof kEdges / sizeof kEdges[0])]
                                       : static_cast<std::int64_t>(h & 0x0fffu) + 1;
  std::int64_t tokens = static_cast<std::int64_t>(b.pick(9));  // 0..8
  if (d >= 4096) tokens = std::min<std::int64_t>(tokens, 1);
  Case c = kc::props::act_case(profile, dtype, tokens, d);
  for (kc::props::TensorLayout& l : c.tensors) {
    const std::uint8_t pad = b.u8();
    l.row_stride = kc::fuzz::padded_stride(pad, l.row_stride);
    l.offset = b.u8() % 16;
  }
  const std::size_t classes = 1 + b.pick(3);
  c.row_classes.clear();
  for (std::size_t k = 0; k < classes; ++k) {
    c.row_classes.push_back(static_cast<std::uint8_t>(
        b.pick(static_cast<std::size_t>(kc::props::ActRowClass::kCount))));
  }
  kc::fuzz::decode_injections(b, c, kc::fuzz::InjectionTensor::kFirst);
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
  // Rows above 4096 elements: support_agrees alone (exec/s).
  return kc::fuzz::check_on_twin(c, kc::props::act_d(c) > 4096 ? kc::fuzz::FuzzScope::kSupportOnly
                                                               : kc::fuzz::FuzzScope::kAll);
}
