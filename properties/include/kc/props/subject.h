// Subjects: implementations under test. Our GPU kernels, their host twins, calibration mutants
// and a user's own kernels all implement this interface and register themselves, so every
// property runs on every subject the same way. A subject names its op; the op's family
// (family.h) knows the op's tensors, parameters and profiles.
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
#include <utility>
#include <vector>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"
#include "kc/props/case.h"

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

// How far a subject's outputs may be from the exact profile, per element: a flat ULP bound that
// the subject states with its own derivation, or a bound the op's family derives for the
// subject's arithmetic (kconform's own kernels: the family knows their arithmetic). `rules`
// name documented widenings the family's comparison applies (Family::bound_rules(), e.g. the
// norm family's "flush_to_zero" for kernels built with -ftz=true); a rule the family does not
// know makes every comparison of the subject fail, never pass.
struct BoundSpec {
  enum class Kind : std::uint8_t { kDerivedByFamily, kUlps } kind = Kind::kDerivedByFamily;
  double ulps = 0.5;       // kUlps: every finite output within this many ULPs of the exact value
  std::string derivation;  // where the bound comes from (printed next to results)
  std::vector<std::string> rules;
  bool has_rule(const std::string& r) const {
    for (const std::string& x : rules) {
      if (x == r) return true;
    }
    return false;
  }
};

// The largest sizes a subject claims to support, so that the generators reach them (generators.h:
// big batches of small rows, and the family's parameters up to their claimed maximum) and
// batch_invariant resizes batches up to them. A family states the claims of its ops' kernels
// (Family::claims); a subject that supports less, or more, states its own. Cases beyond a claim
// are still drawn now and then where unsupported cases are (support_agrees).
struct SizeClaims {
  // The most num_tokens of a case (0: no claim; the generators use their own limits).
  std::int64_t max_tokens = 0;
  // The largest value of integer parameters of the op's family, by name ("hidden" for the norms).
  std::vector<std::pair<std::string, std::int64_t>> max_params;

  // The claimed maximum of a parameter, or `fallback` when none is claimed.
  std::int64_t max_param(const std::string& name, std::int64_t fallback) const {
    for (const auto& [n, v] : max_params) {
      if (n == name) return v;
    }
    return fallback;
  }
};

// What a calibration mutant is held to: the property that must catch its defect within
// `within_cases` cases of the quick budget at the calibration seed; the limit is derived from the
// generator's weights (scripts/calibration_limits.py), `exposed_by` says which cases show it.
struct Calibration {
  std::string caught_by;
  int within_cases = 0;
  std::string exposed_by;
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
  // The largest sizes it supports (SizeClaims). Default: its family's claims for its op.
  virtual SizeClaims claims() const;
  // The support predicate: Status::ok() for a case the subject claims to handle.
  virtual Status check(const Case& c) const = 0;
  // Runs the case on `ptrs` (host pointers for kHost, device pointers for kGpu), one per tensor
  // of the op (OpSpec order; an in-place output repeats its input's pointer), laid out as the
  // case says. GPU subjects enqueue on `stream`. A subject whose check accepts a case must
  // return from run() the Status its check returns (support_agrees asserts it).
  virtual Status run(const Case& c, const std::vector<void*>& ptrs, cudaStream_t stream) const = 0;
  // The host twin whose bits a GPU subject promises to reproduce ("" when none).
  virtual std::string twin() const { return ""; }
  // Calibration mutants: the defect they carry ("" for real subjects) and what they are held to.
  virtual std::string defect() const { return ""; }
  virtual Calibration calibration() const { return {}; }
  // A calibration control: a mutant's code without its defect, which must pass every property
  // (so that catching a mutant is the defect's doing). Listed and checked like mutants.
  virtual bool control() const { return false; }
  // Cases per pair relative to the level's budget: a subject that supports few of the generated
  // layouts (so that many cases do not apply) asks for more, to test as much.
  virtual int budget_scale() const { return 1; }
  // Another library's kernels (FlashInfer): listed, but checked only when named (--subject).
  virtual bool peer() const { return false; }
};

// Mutants and controls: checked by the calibration test, listed and run only when asked.
inline bool calibration_subject(const Subject& s) { return !s.defect().empty() || s.control(); }

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
