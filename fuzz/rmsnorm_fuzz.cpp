// libFuzzer target of the norm family: decodes bytes into a case (profile, dtype, shape, strides,
// offsets, in place, eps, value and weight classes, special-value injections, data seed) and
// asserts on the host twin of the profile the same properties `kconform check` runs:
// support_agrees, bounded_error, special_values, layout_invariant, batch_invariant. A failure
// prints the case as check would, writes a repro into KC_FUZZ_REPRO_DIR (default .) and aborts,
// so libFuzzer keeps the input.
//
// Built twice: with clang -fsanitize=fuzzer,address,undefined (fuzz/libfuzzer/) and with a
// replay main (replay_main.cpp) that runs files or directories, which is how ctest replays the
// seed corpus fuzz/corpus/rmsnorm on every run. KC_FUZZ_TRACE=1 prints each decoded case and a
// digest of its tensors.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz_support.h"
#include "kc/kernels/rmsnorm.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/property.h"
#include "kc/props/repro.h"
#include "kc/props/rmsnorm.h"

namespace {

using kc::fuzz::Bytes;
using kc::props::Case;

Case decode(Bytes& b) {
  // The profiles kconform's kernels implement, in the family table's order.
  static const std::vector<std::string> profiles = kc::props::norm_kernel_profiles();
  const std::string profile = profiles[b.pick(profiles.size())];
  const kc::DType dtype = kc::kAllDTypes[b.pick(3)];
  // Hidden: edges (0, 1, 7, 8, 9, ..., and two above the maximum), or any size up to 4095.
  static const std::int64_t kEdges[] = {0,
                                        1,
                                        7,
                                        8,
                                        9,
                                        15,
                                        16,
                                        17,
                                        255,
                                        256,
                                        257,
                                        769,
                                        1020,
                                        1024,
                                        4095,
                                        4096,
                                        kc::kMaxHidden,
                                        kc::kMaxHidden + 1};
  const std::uint16_t h = b.u16();
  const std::int64_t hidden = (h & 0x8000u)
                                  ? kEdges[(h & 0x7fffu) % (sizeof kEdges / sizeof kEdges[0])]
                                  : static_cast<std::int64_t>(h & 0x0fffu) + 1;
  std::int64_t tokens = static_cast<std::int64_t>(b.pick(9));  // 0..8
  if (hidden >= kc::kMaxHidden) tokens = std::min<std::int64_t>(tokens, 1);
  static const float kEps[] = {1e-6f, 1e-5f, 0x1p-7f, 0.0f, -1e-6f};
  Case c = kc::props::norm_case(profile, dtype, tokens, hidden, kEps[b.pick(5)]);
  const kc::props::OpSpec& op = *kc::props::find_op(c.op);
  const bool in_place = b.u8() & 1;
  c.tensors.clear();
  for (const kc::props::TensorSpec& spec : op.tensors) {
    kc::props::TensorLayout l;
    const std::uint8_t pad = b.u8();
    l.row_stride = kc::fuzz::padded_stride(pad, hidden);
    l.offset = b.u8() % 16;
    l.in_place = spec.output() && in_place;
    c.tensors.push_back(l);
  }
  const std::size_t classes = 1 + b.pick(3);
  c.row_classes.clear();
  for (std::size_t k = 0; k < classes; ++k) {
    c.row_classes.push_back(static_cast<std::uint8_t>(
        b.pick(static_cast<std::size_t>(kc::props::NormRowClass::kCount))));
  }
  c.weight_class = static_cast<std::uint8_t>(
      b.pick(static_cast<std::size_t>(kc::props::NormWeightClass::kCount)));
  kc::fuzz::decode_injections(b, c, kc::fuzz::InjectionTensor::kAnyOfThree);
  c.seed = b.u64();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes b(data, size);
  const Case c = decode(b);
  // KC_FUZZ_TRACE: print each input's case and a digest of its materialised tensors (how a
  // corpus is shown to decode to the same cases and data across versions).
  if (std::getenv("KC_FUZZ_TRACE") != nullptr) {
    const kc::props::CaseBuffers m = kc::props::materialize(c);
    std::uint64_t h = 1469598103934665603ull;
    for (const kc::props::HostTensor& t : m.owned) {
      for (std::int64_t r = 0; r < t.rows; ++r) {
        for (std::int64_t k = 0; k < t.cols; ++k) h = (h ^ t.get_any(r, k)) * 1099511628211ull;
      }
    }
    std::printf("%s inputs=%016llx\n", kc::props::describe(c).c_str(),
                static_cast<unsigned long long>(h));
  }
  // Rows above 4096 elements: support_agrees alone (keeps exec/s high).
  return kc::fuzz::check_on_twin(c, kc::props::norm_hidden(c) > 4096
                                        ? kc::fuzz::FuzzScope::kSupportOnly
                                        : kc::fuzz::FuzzScope::kAll);
}
