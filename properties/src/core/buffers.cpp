// Materialising a case: arenas with canaries, the family's data, injections, poison.
#include "kc/props/buffers.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include "common/scalar.h"  // kernels/src: the same fp16/bf16 conversions the twins use
#include "kc/props/family.h"

namespace kc::props {
namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  DataRng r(a ^ (b * 0x2545f4914f6cdd1dull));
  return r.next();
}

// Canary bytes are a function of the offset from element (0, 0), so a case sees the same pattern
// wherever the allocator puts its arena (and a repro reports the same damaged byte). Bytes before
// element (0, 0) wrap around in the unsigned arithmetic, the same way every time.
std::uint8_t canary_byte(std::size_t i, std::size_t begin) {
  const std::size_t rel = i - begin + 4096;
  return static_cast<std::uint8_t>(0xa5u ^ (rel * 131u) ^ (rel >> 8));
}

// Calls f(from, to) for each run of non-element bytes of an arena: before the first row, the
// padding between rows, after the last row (so large arenas are filled and checked in time
// proportional to their canaries, not their data).
template <typename F>
void for_each_gap(const HostTensor& t, std::size_t total, F f) {
  if (t.rows <= 0 || t.cols <= 0) {
    f(std::size_t{0}, total);
    return;
  }
  const std::size_t row_bytes = static_cast<std::size_t>(t.cols) * t.elem;
  const std::size_t pitch = static_cast<std::size_t>(t.stride) * t.elem;
  f(std::size_t{0}, t.begin);
  if (pitch > row_bytes) {
    for (std::int64_t r = 0; r + 1 < t.rows; ++r) {
      const std::size_t from = t.begin + static_cast<std::size_t>(r) * pitch + row_bytes;
      f(from, from + pitch - row_bytes);
    }
  }
  f(t.end, total);
}

std::size_t page_bytes() {
  static const std::size_t page = [] {
    const long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<std::size_t>(p) : std::size_t{4096};
  }();
  return page;
}

std::size_t round_to_pages(std::size_t n) {
  const std::size_t page = page_bytes();
  return (n + page - 1) / page * page;
}

// Live guarded mappings, for the fault handler's attribution: the accessible range [lo, hi), the
// tensor's label and the address of its element (0, 0). A fixed table of atomics, so the lookup
// is async-signal-safe; an allocation that finds no free slot is still guarded, only unnamed.
struct GuardSlot {
  std::atomic<std::uintptr_t> lo{0};
  std::atomic<std::uintptr_t> hi{0};
  std::atomic<const char*> label{nullptr};
  std::atomic<std::uintptr_t> origin{0};
};
constexpr std::size_t kGuardSlots = 1024;
GuardSlot g_guard_slots[kGuardSlots];

void register_guarded(std::uintptr_t lo, std::uintptr_t hi) {
  for (GuardSlot& s : g_guard_slots) {
    std::uintptr_t expected = 0;
    if (s.lo.compare_exchange_strong(expected, lo)) {
      s.hi.store(hi);
      s.label.store(nullptr);
      s.origin.store(lo);
      return;
    }
  }
}

void unregister_guarded(std::uintptr_t lo) {
  for (GuardSlot& s : g_guard_slots) {
    if (s.lo.load() == lo) {
      s.hi.store(0);
      s.label.store(nullptr);
      s.lo.store(0);
      return;
    }
  }
}

std::size_t element_bytes(ElementType type, DType d) {
  switch (type) {
    case ElementType::kInt32:
      return 4;
    case ElementType::kInt64:
      return 8;
    case ElementType::kCaseDtype:
      break;
  }
  return dtype_size(d);
}

// Row r of t from element bits (the low elem bytes of each), in one pass.
template <typename T>
void store_row_as(HostTensor& t, std::int64_t r, const std::vector<std::uint64_t>& bits) {
  std::uint8_t* out = t.storage.data() + t.begin + static_cast<std::size_t>(r * t.stride) * t.elem;
  const std::size_t n = std::min(bits.size(), static_cast<std::size_t>(t.cols));
  for (std::size_t i = 0; i < n; ++i) {
    const T v = static_cast<T>(bits[i]);
    std::memcpy(out + i * sizeof(T), &v, sizeof(T));
  }
}

void store_row(HostTensor& t, std::int64_t r, const std::vector<std::uint64_t>& bits) {
  if (t.elem == 2) return store_row_as<std::uint16_t>(t, r, bits);
  if (t.elem == 4) return store_row_as<std::uint32_t>(t, r, bits);
  store_row_as<std::uint64_t>(t, r, bits);
}

HostTensor allocate(std::size_t elem, std::int64_t rows, std::int64_t cols, std::int64_t stride,
                    std::int64_t offset) {
  HostTensor t;
  t.elem = elem;
  t.rows = rows;
  t.cols = cols;
  t.stride = stride;
  const std::size_t span =
      rows > 0 ? static_cast<std::size_t>((rows - 1) * stride + cols) * t.elem : 0;
  // Whole pages (the storage starts on a page, so its byte indices have the alignment of their
  // addresses): the data ends at least kGuardBytes and less than kGuardBytes + 256 before the
  // last page's end, where the guard zone begins; the base (256-byte aligned, as cudaMalloc's
  // memory is, so alignment classes match the device copy) keeps at least kGuardBytes before it.
  const std::size_t tail = static_cast<std::size_t>(offset) * t.elem + span + kGuardBytes;
  const std::size_t total = round_to_pages(kGuardBytes + 255 + tail);
  t.storage.resize(total);
  t.base = (total - tail) / 256 * 256;
  t.begin = t.base + static_cast<std::size_t>(offset) * t.elem;
  t.end = t.begin + span;
  t.is_element.assign(total, 0);
  // Element bytes are all written next (input data, output poison); the rest is canary.
  for_each_gap(t, total, [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) t.storage[i] = canary_byte(i, t.begin);
  });
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::size_t row_begin = t.begin + static_cast<std::size_t>(r * stride) * t.elem;
    std::memset(&t.is_element[row_begin], 1, static_cast<std::size_t>(cols) * t.elem);
  }
  return t;
}

}  // namespace

namespace {

// Freed arenas are kept for reuse (up to kArenaCacheBytes): a check allocates arenas of similar
// sizes case after case, and a fresh mapping's pages cost a fault and a zeroing each on first
// touch, where the heap's reused memory did not. A cached mapping of B bytes serves a request
// of b <= B <= 2b bytes with its last b bytes: the b bytes still end at the trailing guard zone,
// and the first B - b bytes are made inaccessible too for as long as the arena lives.
constexpr std::size_t kArenaCacheBytes = std::size_t{256} << 20;

struct Mapping {
  std::uint8_t* base;  // first byte after the leading guard zone
  std::size_t body;    // accessible bytes when free
};

struct ArenaCache {
  std::mutex mu;
  std::multimap<std::size_t, std::uint8_t*> free;    // body -> base
  std::unordered_map<std::uintptr_t, Mapping> live;  // arena start -> its mapping
  std::size_t cached = 0;
};

ArenaCache& arena_cache() {
  static ArenaCache* cache = new ArenaCache;  // never destroyed: arenas may outlive statics
  return *cache;
}

std::uint8_t* map_arena(std::size_t body) {
  void* m = mmap(nullptr, body + 2 * kGuardZoneBytes, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  auto* p = static_cast<std::uint8_t*>(m) + kGuardZoneBytes;
  if (mprotect(p, body, PROT_READ | PROT_WRITE) != 0) {
    munmap(m, body + 2 * kGuardZoneBytes);
    throw std::bad_alloc();
  }
  return p;
}

}  // namespace

void* guarded_allocate(std::size_t bytes) {
  const std::size_t body = round_to_pages(bytes == 0 ? 1 : bytes);
  ArenaCache& cache = arena_cache();
  Mapping m{nullptr, body};
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    const auto it = cache.free.lower_bound(body);
    if (it != cache.free.end() && it->first <= 2 * body) {
      m = Mapping{it->second, it->first};
      cache.cached -= it->first;
      cache.free.erase(it);
    }
  }
  if (m.base == nullptr) m.base = map_arena(body);
  std::uint8_t* p = m.base + (m.body - body);
  if (p != m.base && mprotect(m.base, m.body - body, PROT_NONE) != 0) {
    munmap(m.base - kGuardZoneBytes, m.body + 2 * kGuardZoneBytes);
    throw std::bad_alloc();
  }
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    cache.live[reinterpret_cast<std::uintptr_t>(p)] = m;
  }
  register_guarded(reinterpret_cast<std::uintptr_t>(p), reinterpret_cast<std::uintptr_t>(p) + body);
  return p;
}

void guarded_free(void* ptr, std::size_t bytes) {
  if (ptr == nullptr) return;
  auto* p = static_cast<std::uint8_t*>(ptr);
  unregister_guarded(reinterpret_cast<std::uintptr_t>(p));
  ArenaCache& cache = arena_cache();
  Mapping m{p, round_to_pages(bytes == 0 ? 1 : bytes)};
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    const auto it = cache.live.find(reinterpret_cast<std::uintptr_t>(p));
    if (it != cache.live.end()) {
      m = it->second;
      cache.live.erase(it);
    }
  }
  if (m.base != p &&
      mprotect(m.base, static_cast<std::size_t>(p - m.base), PROT_READ | PROT_WRITE) != 0) {
    munmap(m.base - kGuardZoneBytes, m.body + 2 * kGuardZoneBytes);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.cached + m.body <= kArenaCacheBytes) {
      cache.cached += m.body;
      cache.free.emplace(m.body, m.base);
      return;
    }
  }
  munmap(m.base - kGuardZoneBytes, m.body + 2 * kGuardZoneBytes);
}

bool guard_zone_hit(std::uintptr_t addr, GuardHit* out) {
  for (const GuardSlot& s : g_guard_slots) {
    const std::uintptr_t lo = s.lo.load();
    const std::uintptr_t hi = s.hi.load();
    if (lo == 0 || hi == 0) continue;
    const bool before = addr < lo && addr + kGuardZoneBytes >= lo;
    const bool after = addr >= hi && addr < hi + kGuardZoneBytes;
    if (!before && !after) continue;
    const char* label = s.label.load();
    out->label = label != nullptr ? label : "";
    out->offset = static_cast<long long>(addr) - static_cast<long long>(s.origin.load());
    out->after = after;
    return true;
  }
  return false;
}

void label_guard_zones(const CaseBuffers& b) {
  for (const HostTensor& h : b.owned) {
    const auto lo = reinterpret_cast<std::uintptr_t>(h.storage.data());
    for (GuardSlot& s : g_guard_slots) {
      if (s.lo.load() != lo) continue;
      s.label.store(h.name);
      s.origin.store(lo + h.begin);
      break;
    }
  }
}

std::uint32_t quantize(DType d, float v) {
  switch (d) {
    case DType::kFp32:
      return detail::float_bits(v);
    case DType::kFp16:
      return detail::float_to_fp16(v);
    case DType::kBf16:
      return detail::float_to_bf16(v);
  }
  return 0;
}

float value_of(DType d, std::uint32_t bits) {
  switch (d) {
    case DType::kFp32:
      return detail::bits_float(bits);
    case DType::kFp16:
      return detail::fp16_to_float(static_cast<std::uint16_t>(bits));
    case DType::kBf16:
      return detail::bf16_to_float(static_cast<std::uint16_t>(bits));
  }
  return 0;
}

ref::Format format_of(DType d) {
  return d == DType::kFp32 ? ref::kFp32 : d == DType::kFp16 ? ref::kFp16 : ref::kBf16;
}

std::string describe_element(const Case& c, const HostTensor& t, std::uint64_t bits) {
  if (t.integer) {
    return std::to_string(t.elem == 8 ? static_cast<long long>(bits)
                                      : static_cast<long long>(static_cast<std::int32_t>(bits)));
  }
  return ref::describe_bits(format_of(c.dtype), static_cast<std::uint32_t>(bits));
}

bool bits_are_nan(DType d, std::uint32_t bits) { return std::isnan(value_of(d, bits)); }

std::uint32_t special_bits(DType d, Special s) {
  switch (s) {
    case Special::kNan:
      return d == DType::kFp32 ? 0x7fc00000u : d == DType::kFp16 ? 0x7e00u : 0x7fc0u;
    case Special::kPosInf:
      return d == DType::kFp32 ? 0x7f800000u : d == DType::kFp16 ? 0x7c00u : 0x7f80u;
    case Special::kNegInf:
    case Special::kCount:
      break;
  }
  return d == DType::kFp32 ? 0xff800000u : d == DType::kFp16 ? 0xfc00u : 0xff80u;
}

std::uint32_t DataRng::subnormal_bits(DType d) {
  const std::uint32_t frac_bits = d == DType::kFp32 ? 23 : d == DType::kFp16 ? 10 : 7;
  const std::uint32_t sign = coin() ? (d == DType::kFp32 ? 0x80000000u : 0x8000u) : 0u;
  return sign | static_cast<std::uint32_t>(next() & ((1u << frac_bits) - 1u));
}

std::uint32_t HostTensor::get(std::int64_t r, std::int64_t c) const {
  const std::uint8_t* p = storage.data() + begin + static_cast<std::size_t>(r * stride + c) * elem;
  if (elem == 4) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

void HostTensor::set(std::int64_t r, std::int64_t c, std::uint32_t bits) {
  std::uint8_t* p = storage.data() + begin + static_cast<std::size_t>(r * stride + c) * elem;
  if (elem == 4) {
    std::memcpy(p, &bits, 4);
  } else {
    const auto v = static_cast<std::uint16_t>(bits);
    std::memcpy(p, &v, 2);
  }
}

std::uint64_t HostTensor::get_any(std::int64_t r, std::int64_t c) const {
  if (elem != 8) return get(r, c);
  std::uint64_t v;
  std::memcpy(&v, storage.data() + begin + static_cast<std::size_t>(r * stride + c) * elem, 8);
  return v;
}

void HostTensor::set_any(std::int64_t r, std::int64_t c, std::uint64_t bits) {
  if (elem != 8) {
    set(r, c, static_cast<std::uint32_t>(bits));
    return;
  }
  std::memcpy(storage.data() + begin + static_cast<std::size_t>(r * stride + c) * elem, &bits, 8);
}

bool CaseBuffers::owns(std::size_t t) const {
  for (std::size_t u = 0; u < t; ++u) {
    if (storage_of[u] == storage_of[t]) return false;
  }
  return true;
}

CaseBuffers materialize(const Case& c, std::int64_t distinct_rows) {
  const Family& fam = *family_for(c.op);
  const OpSpec& op = *fam.find_op(c.op);
  CaseBuffers b;
  b.storage_of.assign(op.tensors.size(), -1);
  std::vector<std::uint64_t> row;
  int input_index = 0;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    const TensorSpec& spec = op.tensors[t];
    const TensorLayout& l = c.tensors[t];
    if (spec.output() && l.in_place && spec.alias_of >= 0) {
      b.storage_of[t] = b.storage_of[static_cast<std::size_t>(spec.alias_of)];
      continue;
    }
    const int ti = static_cast<int>(t);
    const std::int64_t cols = fam.columns(c, ti);
    const std::int64_t rows = spec.rows ? c.num_tokens : 1;
    const std::int64_t stride = spec.rows ? l.row_stride : cols;
    const ElementType type = fam.element_type(c, ti);
    HostTensor h = allocate(element_bytes(type, c.dtype), rows, cols, stride, l.offset);
    h.integer = type != ElementType::kCaseDtype;
    h.name = spec.name;
    if (spec.output()) {
      for (std::int64_t r = 0; r < rows; ++r) {
        std::memset(h.storage.data() + h.begin + static_cast<std::size_t>(r * stride) * h.elem,
                    kPoisonByte, static_cast<std::size_t>(cols) * h.elem);
      }
    } else {
      for (std::int64_t r = 0; r < rows; ++r) {
        if (distinct_rows > 0 && r >= distinct_rows) {
          std::memcpy(h.storage.data() + h.begin + static_cast<std::size_t>(r * stride) * h.elem,
                      h.storage.data() + h.begin +
                          static_cast<std::size_t>((r % distinct_rows) * stride) * h.elem,
                      static_cast<std::size_t>(cols) * h.elem);
          continue;
        }
        DataRng rng(mix(mix(c.seed, static_cast<std::uint64_t>(input_index) + 1),
                        static_cast<std::uint64_t>(r)));
        row.assign(static_cast<std::size_t>(cols), 0);
        fam.fill(c, ti, r, rng, row);
        store_row(h, r, row);
      }
      ++input_index;
    }
    b.storage_of[t] = static_cast<int>(b.owned.size());
    b.owned.push_back(std::move(h));
  }
  // Injections land on injectable inputs only: tensor indices are taken modulo their number.
  std::vector<int> inputs;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (op.tensors[t].injectable()) inputs.push_back(static_cast<int>(t));
  }
  for (const Injection& j : c.injections) {
    if (c.num_tokens == 0 || inputs.empty()) break;
    const int t =
        inputs[static_cast<std::size_t>(j.tensor < 0 ? -j.tensor : j.tensor) % inputs.size()];
    HostTensor& h = b.tensor(t);
    if (h.rows == 0 || h.cols == 0) continue;
    auto wrap = [](std::int64_t v, std::int64_t n) { return ((v % n) + n) % n; };
    h.set(wrap(j.row, h.rows), wrap(j.col, h.cols), special_bits(c.dtype, j.kind));
  }
  return b;
}

std::vector<std::string> canary_damage(const OpSpec& op, const CaseBuffers& b) {
  std::vector<std::string> damage;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (!b.owns(t)) continue;
    const HostTensor& h = b.owned[static_cast<std::size_t>(b.storage_of[t])];
    for_each_gap(h, h.storage.size(), [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to && damage.size() < 8; ++i) {
        if (h.storage[i] != canary_byte(i, h.begin)) {
          const long long rel = static_cast<long long>(i) - static_cast<long long>(h.begin);
          damage.push_back(std::string(op.tensors[t].name) + "@byte" + std::to_string(rel));
        }
      }
    });
    if (damage.size() >= 8) return damage;
  }
  return damage;
}

std::int64_t unwritten_elements(const OpSpec& op, const Case& c, const CaseBuffers& b) {
  std::int64_t count = 0;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (!op.tensors[t].output() || c.tensors[t].in_place) continue;
    const HostTensor& h = b.tensor(static_cast<int>(t));
    const std::uint64_t poison = h.elem == 8   ? ~std::uint64_t{0}
                                 : h.elem == 4 ? 0xffffffffu
                                               : 0xffffu;
    for (std::int64_t r = 0; r < h.rows; ++r) {
      for (std::int64_t i = 0; i < h.cols; ++i) count += h.get_any(r, i) == poison;
    }
  }
  return count;
}

std::vector<float> row_values(const Case& c, const HostTensor& t, std::int64_t row) {
  std::vector<float> v(static_cast<std::size_t>(t.cols));
  for (std::int64_t i = 0; i < t.cols; ++i) {
    v[static_cast<std::size_t>(i)] = value_of(c.dtype, t.get(row, i));
  }
  return v;
}

std::vector<void*> host_pointers(CaseBuffers& b, std::size_t tensors) {
  std::vector<void*> p(tensors);
  for (std::size_t t = 0; t < tensors; ++t) p[t] = b.tensor(static_cast<int>(t)).data();
  return p;
}

std::vector<void*> placeholder_pointers(const Case& c) {
  const Family& fam = *family_for(c.op);
  const OpSpec& op = *fam.find_op(c.op);
  std::vector<void*> p(op.tensors.size());
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    const TensorSpec& spec = op.tensors[t];
    std::size_t base_t = t;
    if (spec.output() && c.tensors[t].in_place && spec.alias_of >= 0) {
      base_t = static_cast<std::size_t>(spec.alias_of);
    }
    const std::uintptr_t base = (std::uintptr_t{1} << 50) * (base_t + 1);
    const std::size_t elem = element_bytes(fam.element_type(c, static_cast<int>(base_t)), c.dtype);
    p[t] = c.num_tokens == 0
               ? nullptr
               : reinterpret_cast<void*>(
                     base + static_cast<std::uintptr_t>(c.tensors[base_t].offset) * elem);
  }
  return p;
}

}  // namespace kc::props
