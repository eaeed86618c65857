// kconform's own act_and_mul kernels as subjects: kc.gpu.<profile> (the CUDA kernels) and
// kc.twin.<profile> (their host twins), for the six profiles the kernels implement.
//
// Bound: derived by the family from the kernels' arithmetic (act_and_mul_expectation.cpp states
// the derivation: 0.5 ulp for the 16-bit torch profiles, 0.50002 for the 16-bit single ones,
// 0.625 for single fp32, 2.5001 for torch fp32). Promises: batch invariance, determinism, layout
// invariance; the GPU subject also promises bitwise equality with its twin.
#include <cstdint>

#include "kc/props/act_and_mul.h"
#include "kc/props/buffers.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

class KcActSubject : public Subject {
 public:
  KcActSubject(std::string profile, Backend b) : profile_(std::move(profile)), backend_(b) {}
  std::string name() const override {
    return std::string(backend_ == Backend::kGpu ? "kc.gpu." : "kc.twin.") + profile_;
  }
  std::string op() const override { return "act_and_mul"; }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return backend_; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kDerivedByFamily;
    b.derivation =
        "derived from the kernels' arithmetic (properties/src/act_and_mul/"
        "act_and_mul_expectation.cpp): 0.5 ulp (torch, 16-bit), 0.50002 (single, 16-bit), "
        "0.625 (single, fp32), 2.5001 (torch, fp32)";
    return b;
  }
  std::string twin() const override {
    return backend_ == Backend::kGpu ? "kc.twin." + profile_ : "";
  }
  Status check(const Case& c) const override {
    return act_and_mul_check(act_and_mul_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    const ActAndMulArgs a = act_and_mul_args(c, p);
    return backend_ == Backend::kGpu ? act_and_mul(a, stream) : act_and_mul_twin(a);
  }

 private:
  std::string profile_;
  Backend backend_;
};

const struct Registrar {
  Registrar() {
    for (const std::string& p : act_kernel_profiles()) {
      register_subject(std::make_unique<KcActSubject>(p, Backend::kGpu));
      register_subject(std::make_unique<KcActSubject>(p, Backend::kHost));
    }
  }
} kRegistrar;

}  // namespace
}  // namespace kc::props
