// What the fuzz targets share (fuzz/<family>_fuzz.cpp): the byte reader that decodes an input,
// the stride and injection decodings every family uses the same way, and the check of a decoded
// case on the host twin of its profile (the properties `kconform check` runs on twins; a failure
// prints the case, writes a repro into KC_FUZZ_REPRO_DIR (default .) and aborts, so libFuzzer
// keeps the input). Each family decodes its own parameters; the byte order of every target is
// unchanged by this sharing, so the seed corpora decode to the same cases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kc/props/case.h"
#include "kc/props/property.h"
#include "kc/props/repro.h"
#include "kc/props/subject.h"

namespace kc::fuzz {

// Reads the input a byte at a time; past its end, zeros.
class Bytes {
 public:
  Bytes(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  std::uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v |= static_cast<std::uint64_t>(u8()) << (8 * k);
    return v;
  }
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : u8() % n; }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t i_ = 0;
};

// A row stride from one byte: cols, plus up to 63 elements of padding (bit 7), minus one (bit 6:
// an overlapping stride the check must reject).
inline std::int64_t padded_stride(std::uint8_t pad, std::int64_t cols) {
  return cols + ((pad & 0x80) ? (pad & 0x3f) : 0) - ((pad & 0x40) && cols > 1 ? 1 : 0);
}

// Which tensor an injection targets: the first (one byte fewer) or any of the first three.
enum class InjectionTensor : std::uint8_t { kFirst, kAnyOfThree };

// Up to three special-value injections (row and column from the input; kind NaN, +inf, -inf).
inline void decode_injections(Bytes& b, props::Case& c, InjectionTensor which) {
  const std::size_t injections = b.pick(4);
  for (std::size_t k = 0; k < injections; ++k) {
    props::Injection j;
    j.tensor = which == InjectionTensor::kFirst ? 0 : b.u8() % 3;
    j.row = b.u8();
    j.col = b.u16();
    j.kind = static_cast<props::Special>(b.pick(3));
    c.injections.push_back(j);
  }
}

// kAll: every property below; kSupportOnly: support_agrees alone (big cases, for exec/s).
enum class FuzzScope : std::uint8_t { kAll, kSupportOnly };

// Runs the case on kc.twin.<profile>; aborts (after the repro) on the first failing property.
inline int check_on_twin(const props::Case& c, FuzzScope scope) {
  const props::Subject* s = props::find_subject("kc.twin." + c.profile);
  if (s == nullptr) std::abort();
  using props::PropertyId;
  for (PropertyId p :
       {PropertyId::kSupportAgrees, PropertyId::kBoundedError, PropertyId::kSpecialValues,
        PropertyId::kLayoutInvariant, PropertyId::kBatchInvariant}) {
    if (scope == FuzzScope::kSupportOnly && p != PropertyId::kSupportAgrees) continue;
    const props::Verdict v = props::run_property(p, *s, c);
    if (v.failed()) {
      std::fputs(props::describe_failure(*s, p, c, v).c_str(), stderr);
      const char* dir = std::getenv("KC_FUZZ_REPRO_DIR");
      const std::string path = props::write_repro(dir ? dir : ".", *s, p, c, v);
      std::fprintf(stderr, "repro: %s\nreplay: %s\n", path.c_str(),
                   props::replay_command(path).c_str());
      std::abort();
    }
  }
  return 0;
}

}  // namespace kc::fuzz
