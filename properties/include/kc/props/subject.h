// Subjects: implementations under test. Our GPU kernels, their host twins, calibration mutants
// and a user's own kernels all implement this interface and register themselves, so every
// property runs on every subject the same way.
//
// Adding your own (no kconform source edited): write a .cpp/.cu file that defines a Subject and
// registers it with KC_REGISTER_SUBJECT, then configure with -DKC_EXTRA_SUBJECTS=path/to/it.cpp
// (README, "Your own kernel as a subject"; a complete example is
// properties/examples/double_rmsnorm_subject.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"
#include "kc/props/case.h"
#include "kc/props/rmsnorm_bound.h"

namespace kc::props {

enum class Backend : std::uint8_t { kHost, kGpu };

// What a subject guarantees beyond bounded error; the properties that test a promise run only
// on subjects that make it.
struct Promises {
  bool batch_invariant = true;   // a row's bits never depend on num_tokens, position, neighbours
  bool deterministic = true;     // identical bits on every run (and under graph replay)
  bool layout_invariant = true;  // padding, base offsets, in place vs out of place: same bits
  bool empty_batch = true;       // num_tokens == 0 succeeds and does nothing (no launch, no error)
};

// How far a subject's outputs may be from the exact profile, per element. The norm family has
// two: the derived model of kconform's kernels (NormKernelBound) and a flat ULP bound that a
// subject states with its own derivation.
struct BoundSpec {
  enum class Kind : std::uint8_t { kKconformKernel, kUlps } kind = Kind::kKconformKernel;
  double ulps = 0.5;       // kUlps: every finite output within this many ULPs of the exact value
  std::string derivation;  // where the bound comes from (printed next to results)
  // The subject's fp32 arithmetic flushes subnormal operands and results to zero (built with
  // -ftz=true, as -use_fast_math does). An element whose scaled input z, weight w, normalised
  // value z R or exact output lies below 2^-126 in magnitude (with a 2^-20 relative margin) may
  // then come out as a zero (or NaN when its weight factor is infinite), as if that value had
  // been flushed; and a row with subnormal inputs may also give the results of the same row with
  // those inputs read as zeros (x, r and w flushed on load: two subnormal addends whose sum is
  // normal then give a zero sum). Such elements are counted as flushed, not in the ULP
  // statistics.
  bool flush_to_zero = false;
};

class Subject {
 public:
  virtual ~Subject() = default;
  virtual std::string name() const = 0;     // "kc.gpu.rmsnorm.hf"
  virtual std::string op() const = 0;       // "rmsnorm"
  virtual std::string profile() const = 0;  // the profile it claims, "rmsnorm.hf"
  virtual Backend backend() const = 0;
  virtual std::vector<DType> dtypes() const { return {DType::kFp32, DType::kFp16, DType::kBf16}; }
  virtual Promises promises() const { return {}; }
  virtual BoundSpec bound() const = 0;
  // The bound for cases of one dtype (a flat ULP bound usually depends on the format's precision);
  // bound() is the loosest, the one listed.
  virtual BoundSpec bound_for(DType) const { return bound(); }
  // The support predicate: Status::ok() for a case the subject claims to handle.
  virtual Status check(const Case& c) const = 0;
  // Runs the case on `role_ptrs` (host pointers for kHost, device pointers for kGpu), one per
  // tensor role of the op, laid out as the case says. GPU subjects enqueue on `stream`.
  virtual Status run(const Case& c, const std::vector<void*>& role_ptrs,
                     cudaStream_t stream) const = 0;
  // The host twin whose bits a GPU subject promises to reproduce ("" when none).
  virtual std::string twin() const { return ""; }
  // Calibration mutants: the defect they carry ("" for real subjects).
  virtual std::string defect() const { return ""; }
  // Another library's kernels (FlashInfer): listed, but checked only when named (--subject).
  virtual bool peer() const { return false; }
};

// The registry. Subjects register at static-initialisation time.
void register_subject(std::unique_ptr<Subject> s);
const std::vector<std::unique_ptr<Subject>>& subjects();
const Subject* find_subject(const std::string& name);

struct SubjectRegistrar {
  explicit SubjectRegistrar(std::function<std::unique_ptr<Subject>()> make);
};

#define KC_SUBJECT_CONCAT2(a, b) a##b
#define KC_SUBJECT_CONCAT(a, b) KC_SUBJECT_CONCAT2(a, b)
// KC_REGISTER_SUBJECT(expression returning std::unique_ptr<Subject>);
#define KC_REGISTER_SUBJECT(...)                                \
  static const ::kc::props::SubjectRegistrar KC_SUBJECT_CONCAT( \
      kc_subject_, __COUNTER__)([] { return __VA_ARGS__; })

}  // namespace kc::props
