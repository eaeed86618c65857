// Host (and device) memory of a case: one arena per tensor, every byte that is not an element
// of the tensor filled with a canary pattern, outputs poisoned before a run. Also the storage
// formats' bits <-> values and the data generator families fill their tensors with.
//
// Host arenas are whole pages of their own mapping between wide inaccessible zones
// (GuardedAllocator): a subject's write past its canaries faults at its first byte, inside the
// subject's own call, instead of corrupting the harness's heap and crashing it later somewhere
// unrelated; the fault's address names the tensor and the byte (guard_zone_hit), which the
// isolated runner (check.h, Isolation) reports.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kc/kernels/dtype.h"
#include "kc/props/case.h"
#include "kc/ref/format.h"

namespace kc::props {

struct OpSpec;

// Bits <-> values of the storage dtypes (fp16/bf16 rounding is round-to-nearest-even; NaN is the
// canonical NaN). The same conversions the host twins use.
std::uint32_t quantize(DType d, float v);
float value_of(DType d, std::uint32_t bits);
bool bits_are_nan(DType d, std::uint32_t bits);
// The reference library's format of a storage dtype.
ref::Format format_of(DType d);
// The bits of a special value in a dtype.
std::uint32_t special_bits(DType d, Special s);

// The data generator of tensor rows (splitmix64): small, fast, and enough for test data. Seeded
// per (case seed, tensor, row), so a row's data never depends on the other rows.
struct DataRng {
  std::uint64_t s;
  explicit DataRng(std::uint64_t seed) : s(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
  double normal() {
    const double u1 = uniform() + 0x1p-60;
    const double u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  bool coin() { return next() & 1u; }
  // 2^e with e uniform in [lo_exp, hi_exp), as a float.
  float magnitude(double lo_exp, double hi_exp) {
    return static_cast<float>(std::exp2(lo_exp + (hi_exp - lo_exp) * uniform()));
  }
  // A subnormal (or zero) of the dtype, random sign.
  std::uint32_t subnormal_bits(DType d);
};

inline constexpr std::uint8_t kPoisonByte = 0xff;  // 0xffff / 0xffffffff: a NaN no kernel stores
inline constexpr std::size_t kGuardBytes = 256;    // canary bytes before and after each tensor
// Inaccessible bytes mapped before and after every host arena (PROT_NONE; address space only).
inline constexpr std::size_t kGuardZoneBytes = std::size_t{4} << 20;

// The allocator of host arenas: each allocation is its own mapping of whole pages, with
// kGuardZoneBytes of inaccessible memory on both sides. HostTensor sizes its storage to whole
// pages, so the first byte past either end of an arena is in a guard zone.
void* guarded_allocate(std::size_t bytes);
void guarded_free(void* p, std::size_t bytes);
template <typename T>
struct GuardedAllocator {
  using value_type = T;
  GuardedAllocator() = default;
  template <typename U>
  GuardedAllocator(const GuardedAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(guarded_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) { guarded_free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const GuardedAllocator<U>&) const {
    return true;
  }
  template <typename U>
  bool operator!=(const GuardedAllocator<U>&) const {
    return false;
  }
};
using ArenaBytes = std::vector<std::uint8_t, GuardedAllocator<std::uint8_t>>;

// Where an address lies relative to a live host arena's guard zones (async-signal-safe: a fault
// handler calls it). label: the tensor's name as last set by label_guard_zones ("" before);
// offset: bytes from the tensor's element (0, 0) (negative before it).
struct GuardHit {
  const char* label = "";
  long long offset = 0;
  bool after = false;  // past the end of the arena (else before its start)
};
bool guard_zone_hit(std::uintptr_t addr, GuardHit* out);

struct HostTensor {
  ArenaBytes storage;     // canaries + base alignment + data + canaries: whole pages
  std::size_t base = 0;   // byte index of the 256-byte aligned base in storage
  std::size_t begin = 0;  // byte index of element (0, 0)
  std::size_t end = 0;    // one past the last element byte
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;               // elements
  std::size_t elem = 0;                  // bytes: 2, 4 or 8
  bool integer = false;                  // int32 / int64 elements (else the case's float dtype)
  std::vector<std::uint8_t> is_element;  // per storage byte: part of an element?
  const char* name = "";                 // the tensor's name (the op's TensorSpec)

  std::uint8_t* data() { return storage.data() + begin; }
  const std::uint8_t* data() const { return storage.data() + begin; }
  // Elements of 2 or 4 bytes (the float dtypes, int32).
  std::uint32_t get(std::int64_t r, std::int64_t c) const;
  void set(std::int64_t r, std::int64_t c, std::uint32_t bits);
  // Elements of any width (int64 included), zero-extended.
  std::uint64_t get_any(std::int64_t r, std::int64_t c) const;
  void set_any(std::int64_t r, std::int64_t c, std::uint64_t bits);
};

// The tensors of one case; aliased outputs share their input's HostTensor.
struct CaseBuffers {
  std::vector<HostTensor> owned;  // one per tensor that owns memory
  std::vector<int> storage_of;    // tensor -> index into owned
  HostTensor& tensor(int t) {
    return owned[static_cast<std::size_t>(storage_of[static_cast<std::size_t>(t)])];
  }
  const HostTensor& tensor(int t) const {
    return owned[static_cast<std::size_t>(storage_of[static_cast<std::size_t>(t)])];
  }
  // Whether tensor t owns its memory (false for an output aliasing its input).
  bool owns(std::size_t t) const;
};

// Allocates every tensor of the case's op, fills canaries, has the family generate input data
// (value classes, seed), applies the injections and poisons the out-of-place outputs.
// distinct_rows > 0: only the first distinct_rows rows of each row input are generated; row r
// repeats row r % distinct_rows (batch_invariant's large resized batches: their neighbour rows
// need valid values, not fresh ones, and generating 2^20 elements would dominate its time). The
// rows generated are the ones a full materialisation gives.
CaseBuffers materialize(const Case& c, std::int64_t distinct_rows = 0);

// Names each owned arena's guard zones after its tensor, so a fault there is reported as
// "output@byte70000" (the runner calls it before a host subject runs).
void label_guard_zones(const CaseBuffers& b);

// Canary bytes changed in any tensor (empty when intact): "tensor@offset" descriptions.
std::vector<std::string> canary_damage(const OpSpec& op, const CaseBuffers& b);

// Elements of out-of-place outputs still holding the poison pattern.
std::int64_t unwritten_elements(const OpSpec& op, const Case& c, const CaseBuffers& b);

// An element's bits as text: "0x3e27 (0.16309)" for the float dtypes, the integer otherwise.
std::string describe_element(const Case& c, const HostTensor& t, std::uint64_t bits);

// Row values of a float tensor (the case dtype) as floats (exact).
std::vector<float> row_values(const Case& c, const HostTensor& t, std::int64_t row);

// Host pointers of each tensor (aliased outputs repeat their input's pointer).
std::vector<void*> host_pointers(CaseBuffers& b, std::size_t tensors);

// Placeholder addresses laid out like the case (distinct 2^50-spaced bases, 256-byte aligned plus
// the case's offsets, in-place outputs sharing their input's base; null when num_tokens == 0):
// how a subject with a pure check answers "do you support this case" without memory.
std::vector<void*> placeholder_pointers(const Case& c);

}  // namespace kc::props
