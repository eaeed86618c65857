// Host subjects that misbehave the way a user's kernel can, for the isolation tests: kconform's
// rmsnorm.fp32 twin followed by a write far past the output arena, an abort, or a hang, each
// only on some cases (so that the repro has something to shrink). Registered only into the
// test-only executables (kconform_misbehaving, props_core_isolation), never into kconform.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kc/props/buffers.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

enum class Misbehaviour : std::uint8_t {
  kWildWrite,      // from 3 tokens on: one element 8 KiB past the end of the output's elements
  kFirstBytePast,  // every case: one byte at the first page boundary past the output's canaries
  kAbort,          // bf16 rows longer than 1000: std::abort()
  kHang,           // from 2 tokens of 2 elements on: spins forever
};

class Misbehaving : public Subject {
 public:
  Misbehaving(Misbehaviour m, const char* name) : m_(m), name_(name) {}
  std::string name() const override { return name_; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return "rmsnorm.fp32"; }
  Backend backend() const override { return Backend::kHost; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.derivation = "kconform's twin (NormKernelBound)";
    return b;
  }
  Status check(const Case& c) const override {
    return rmsnorm_check(rmsnorm_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t) const override {
    const RmsNormArgs a = rmsnorm_args(c, p);
    const Status st = rmsnorm_twin(a);
    if (!st.is_ok() || c.num_tokens == 0) return st;
    const std::size_t elem = dtype_size(c.dtype);
    auto* out = static_cast<unsigned char*>(a.output.data);
    const std::size_t span =
        static_cast<std::size_t>((c.num_tokens - 1) * a.output.row_stride + a.hidden) * elem;
    switch (m_) {
      case Misbehaviour::kWildWrite:
        if (c.num_tokens >= 3) std::memset(out + span + 8192, 0, elem);
        break;
      case Misbehaviour::kFirstBytePast: {
        // The arena's canaries end on the first page boundary at least kGuardBytes past the
        // elements (buffers.cpp): the next byte is the first of the guard zone.
        const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
        const auto end = reinterpret_cast<std::uintptr_t>(out + span) + kGuardBytes;
        *reinterpret_cast<volatile unsigned char*>((end + page - 1) / page * page) = 0;
      } break;
      case Misbehaviour::kAbort:
        if (c.dtype == DType::kBf16 && a.hidden > 1000) std::abort();
        break;
      case Misbehaviour::kHang:
        if (c.num_tokens >= 2 && a.hidden >= 2) {
          static std::atomic<int> spin{0};
          for (;;) spin.fetch_add(1, std::memory_order_relaxed);
        }
        break;
    }
    return Status::ok();
  }

 private:
  Misbehaviour m_;
  const char* name_;
};

KC_REGISTER_SUBJECT(std::make_unique<Misbehaving>(Misbehaviour::kWildWrite,
                                                  "test.host.wild_write"));
KC_REGISTER_SUBJECT(std::make_unique<Misbehaving>(Misbehaviour::kFirstBytePast,
                                                  "test.host.first_byte_past"));
KC_REGISTER_SUBJECT(std::make_unique<Misbehaving>(Misbehaviour::kAbort, "test.host.abort"));
KC_REGISTER_SUBJECT(std::make_unique<Misbehaving>(Misbehaviour::kHang, "test.host.hang"));

}  // namespace
}  // namespace kc::props
