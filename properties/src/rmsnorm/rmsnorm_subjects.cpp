// kconform's own norm kernels as subjects: kc.gpu.<profile> (the CUDA kernels) and
// kc.twin.<profile> (their host twins), for the seven profiles the kernels implement.
//
// Bound: NormKernelBound, derived from the kernels' arithmetic (rmsnorm_bound.h). Promises:
// batch invariance, determinism, layout invariance; the GPU subject also promises bitwise
// equality with its twin.
#include <cstdint>

#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"

namespace kc::props {

namespace {

class KcNormSubject : public Subject {
 public:
  KcNormSubject(std::string profile, Backend b) : profile_(std::move(profile)), backend_(b) {}
  std::string name() const override {
    return std::string(backend_ == Backend::kGpu ? "kc.gpu." : "kc.twin.") + profile_;
  }
  std::string op() const override {
    const OpSpec* op = nullptr;
    return find_profile(profile_, nullptr, &op) ? op->name : "";
  }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return backend_; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kDerivedByFamily;
    b.derivation =
        "NormKernelBound: derived from the kernels' fp32 arithmetic "
        "(properties/src/rmsnorm/rmsnorm_bound.h)";
    return b;
  }
  std::string twin() const override {
    return backend_ == Backend::kGpu ? "kc.twin." + profile_ : "";
  }
  Status check(const Case& c) const override {
    const std::vector<void*> p = placeholder_pointers(c);
    return op() == "rmsnorm" ? rmsnorm_check(rmsnorm_args(c, p))
                             : fused_add_rmsnorm_check(fused_add_rmsnorm_args(c, p));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    if (op() == "rmsnorm") {
      const RmsNormArgs a = rmsnorm_args(c, p);
      return backend_ == Backend::kGpu ? rmsnorm(a, stream) : rmsnorm_twin(a);
    }
    const FusedAddRmsNormArgs a = fused_add_rmsnorm_args(c, p);
    return backend_ == Backend::kGpu ? fused_add_rmsnorm(a, stream) : fused_add_rmsnorm_twin(a);
  }

 private:
  std::string profile_;
  Backend backend_;
};

// A GPU subject and its twin for every profile the kernels implement.
const struct Registrar {
  Registrar() {
    for (const std::string& p : norm_kernel_profiles()) {
      register_subject(std::make_unique<KcNormSubject>(p, Backend::kGpu));
      register_subject(std::make_unique<KcNormSubject>(p, Backend::kHost));
    }
  }
} kRegistrar;

}  // namespace
}  // namespace kc::props
