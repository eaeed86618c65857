// Materialising a case: arenas with canaries, value classes, injections, poison.
#include "kc/props/buffers.h"

#include <cmath>
#include <cstring>

#include "common/scalar.h"  // kernels/src: the same fp16/bf16 conversions the twins use

namespace kc::props {
namespace {

// splitmix64: small, fast, and enough for test data.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed) {}
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
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng r(a ^ (b * 0x2545f4914f6cdd1dull));
  return r.next();
}

// Canary bytes are a function of the offset from element (0, 0), so a case sees the same pattern
// wherever the allocator puts its arena (and a repro reports the same damaged byte).
std::uint8_t canary_byte(std::size_t i, std::size_t begin) {
  const std::size_t rel = i - begin + 4096;  // i >= begin - 512, so rel stays positive
  return static_cast<std::uint8_t>(0xa5u ^ (rel * 131u) ^ (rel >> 8));
}

float magnitude(Rng& rng, double lo_exp, double hi_exp) {
  return static_cast<float>(std::exp2(lo_exp + (hi_exp - lo_exp) * rng.uniform()));
}

std::uint32_t subnormal_bits(DType d, Rng& rng) {
  const std::uint32_t frac_bits = d == DType::kFp32 ? 23 : d == DType::kFp16 ? 10 : 7;
  const std::uint32_t sign = rng.coin() ? (d == DType::kFp32 ? 0x80000000u : 0x8000u) : 0u;
  return sign | static_cast<std::uint32_t>(rng.next() & ((1u << frac_bits) - 1u));
}

// One row of an input tensor.
void fill_row(DType d, ValueClass cls, float eps, std::int64_t n, Rng& rng,
              std::vector<std::uint32_t>& out) {
  out.resize(static_cast<std::size_t>(n));
  if (n <= 0) return;
  const double sigma = std::exp2(4.0 * static_cast<double>(rng.next() % 3) - 4.0);
  const float constant = static_cast<float>(rng.normal() * 2 + 0.5);
  const std::int64_t hot = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    float v = 0;
    const float sign = rng.coin() ? -1.0f : 1.0f;
    switch (cls) {
      case ValueClass::kNormal:
        v = static_cast<float>(rng.normal() * sigma);
        break;
      case ValueClass::kTiny:
        v = sign * magnitude(rng, -24, -12);
        break;
      case ValueClass::kHuge:
        v = sign * (d == DType::kFp16 ? magnitude(rng, 10, 15.9) : magnitude(rng, 20, 40));
        break;
      case ValueClass::kSubnormal:
        out[static_cast<std::size_t>(i)] = subnormal_bits(d, rng);
        continue;
      case ValueClass::kZero:
        v = sign * 0.0f;
        break;
      case ValueClass::kConstant:
        v = constant;
        break;
      case ValueClass::kOneHot:
        v = i == hot ? static_cast<float>(rng.normal() * 4 + 1) : 0.0f;
        break;
      case ValueClass::kAlternating:
        v = (i % 2 ? -1.0f : 1.0f) * (std::fabs(constant) + 0.25f);
        break;
      case ValueClass::kEpsDominated:
        v = static_cast<float>(rng.normal() * std::sqrt(static_cast<double>(eps)) * 0x1p-8);
        break;
      case ValueClass::kCount:
        break;
    }
    out[static_cast<std::size_t>(i)] = quantize(d, v);
  }
}

void fill_weight(DType d, WeightClass cls, std::int64_t n, Rng& rng,
                 std::vector<std::uint32_t>& out) {
  out.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    float v = 1;
    switch (cls) {
      case WeightClass::kNormal:
        v = static_cast<float>(1 + 0.1 * rng.normal());
        break;
      case WeightClass::kOnes:
        v = 1;
        break;
      case WeightClass::kNearMinusOne:
        v = -1.0f + (rng.coin() ? 1.0f : -1.0f) * magnitude(rng, -10, -3);
        break;
      case WeightClass::kWide:
        v = static_cast<float>(4 * rng.normal());
        break;
      case WeightClass::kCount:
        break;
    }
    out[static_cast<std::size_t>(i)] = quantize(d, v);
  }
}

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

HostTensor allocate(DType d, std::int64_t rows, std::int64_t cols, std::int64_t stride,
                    std::int64_t offset) {
  HostTensor t;
  t.elem = dtype_size(d);
  t.rows = rows;
  t.cols = cols;
  t.stride = stride;
  const std::size_t span =
      rows > 0 ? static_cast<std::size_t>((rows - 1) * stride + cols) * t.elem : 0;
  const std::size_t total =
      kGuardBytes + 256 + static_cast<std::size_t>(offset) * t.elem + span + kGuardBytes;
  t.storage.resize(total);
  // Place the base on a 256-byte boundary of the host address so alignment classes match the
  // device copy (cudaMalloc returns 256-byte aligned memory).
  const auto addr = reinterpret_cast<std::uintptr_t>(t.storage.data()) + kGuardBytes;
  t.base = kGuardBytes + static_cast<std::size_t>((256 - addr % 256) % 256);
  t.begin = t.base + static_cast<std::size_t>(offset) * t.elem;
  t.end = t.begin + span;
  t.is_element.assign(total, 0);
  for (std::size_t i = 0; i < total; ++i) t.storage[i] = canary_byte(i, t.begin);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::size_t row_begin = t.begin + static_cast<std::size_t>(r * stride) * t.elem;
    std::memset(&t.is_element[row_begin], 1, static_cast<std::size_t>(cols) * t.elem);
  }
  return t;
}

}  // namespace

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

bool bits_are_nan(DType d, std::uint32_t bits) { return std::isnan(value_of(d, bits)); }

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

CaseBuffers materialize(const OpInfo& op, const Case& c) {
  CaseBuffers b;
  b.storage_of.assign(op.tensors.size(), -1);
  std::vector<std::uint32_t> row;
  int input_index = 0;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    const TensorRole& role = op.tensors[t];
    const TensorLayout& l = c.tensors[t];
    if (role.output && l.in_place && role.own_input >= 0) {
      b.storage_of[t] = b.storage_of[static_cast<std::size_t>(role.own_input)];
      continue;
    }
    const std::int64_t rows = role.single_row ? 1 : c.num_tokens;
    const std::int64_t stride = role.single_row ? c.hidden : l.row_stride;
    HostTensor h = allocate(c.dtype, rows, c.hidden, stride, l.offset);
    if (role.output) {
      for (std::int64_t r = 0; r < rows; ++r) {
        std::memset(h.storage.data() + h.begin + static_cast<std::size_t>(r * stride) * h.elem,
                    kPoisonByte, static_cast<std::size_t>(c.hidden) * h.elem);
      }
    } else {
      for (std::int64_t r = 0; r < rows; ++r) {
        Rng rng(mix(mix(c.seed, static_cast<std::uint64_t>(input_index) + 1),
                    static_cast<std::uint64_t>(r)));
        if (role.single_row) {
          fill_weight(c.dtype, c.weight_class, c.hidden, rng, row);
        } else {
          fill_row(c.dtype, c.row_class(r), c.eps, c.hidden, rng, row);
        }
        for (std::int64_t i = 0; i < c.hidden; ++i) h.set(r, i, row[static_cast<std::size_t>(i)]);
      }
      ++input_index;
    }
    b.storage_of[t] = static_cast<int>(b.owned.size());
    b.owned.push_back(std::move(h));
  }
  // Injections land on inputs only: tensor indices are taken modulo the input roles.
  std::vector<int> inputs;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (!op.tensors[t].output) inputs.push_back(static_cast<int>(t));
  }
  for (const Injection& j : c.injections) {
    if (c.num_tokens == 0 || c.hidden == 0) break;
    const int role =
        inputs[static_cast<std::size_t>(j.tensor < 0 ? -j.tensor : j.tensor) % inputs.size()];
    HostTensor& h = b.tensor(role);
    auto wrap = [](std::int64_t v, std::int64_t n) { return ((v % n) + n) % n; };
    h.set(wrap(j.row, h.rows), wrap(j.col, h.cols), special_bits(c.dtype, j.kind));
  }
  return b;
}

std::vector<std::string> canary_damage(const OpInfo& op, const CaseBuffers& b) {
  std::vector<std::string> damage;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    const int idx = b.storage_of[t];
    bool owner = true;
    for (std::size_t u = 0; u < t; ++u) owner = owner && b.storage_of[u] != idx;
    if (!owner) continue;
    const HostTensor& h = b.owned[static_cast<std::size_t>(idx)];
    for (std::size_t i = 0; i < h.storage.size(); ++i) {
      if (!h.is_element[i] && h.storage[i] != canary_byte(i, h.begin)) {
        const long long rel = static_cast<long long>(i) - static_cast<long long>(h.begin);
        damage.push_back(std::string(op.tensors[t].name) + "@byte" + std::to_string(rel));
        if (damage.size() >= 8) return damage;
      }
    }
  }
  return damage;
}

std::int64_t unwritten_elements(const OpInfo& op, const Case& c, const CaseBuffers& b) {
  std::int64_t count = 0;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (!op.tensors[t].output || c.tensors[t].in_place) continue;
    const HostTensor& h = b.tensor(static_cast<int>(t));
    const std::uint32_t poison = h.elem == 4 ? 0xffffffffu : 0xffffu;
    for (std::int64_t r = 0; r < h.rows; ++r) {
      for (std::int64_t i = 0; i < h.cols; ++i) count += h.get(r, i) == poison;
    }
  }
  return count;
}

std::vector<float> row_values(const Case& c, const HostTensor& t, std::int64_t row) {
  std::vector<float> v(static_cast<std::size_t>(t.cols));
  for (std::int64_t i = 0; i < t.cols; ++i)
    v[static_cast<std::size_t>(i)] = value_of(c.dtype, t.get(row, i));
  return v;
}

}  // namespace kc::props
