// kconform's own qknorm_rope kernels as subjects: kc.gpu.<profile> (the CUDA kernels) and
// kc.twin.<profile> (their host twins), for the profiles the kernels implement (this revision:
// qknorm_rope.exact; hf and vllm_cache are named by the kernel API but rejected).
//
// Bound: derived by the family from the kernels' arithmetic (qknorm_rope_expectation.cpp states
// the derivation: [rn(Y - E), rn(Y + E)] with E = 2^-20.2 |Y| + af R (|t_a| + |t_b|) (2^-50 +
// angle error)). Promises: batch invariance (a token's bits do not depend on the other tokens or
// their positions), determinism, layout invariance (strides, offsets, in place or not), empty
// batches; the GPU subject also promises bitwise equality with its twin.
#include <cstdint>

#include "kc/props/buffers.h"
#include "kc/props/qknorm_rope.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

class KcQkSubject : public Subject {
 public:
  KcQkSubject(std::string profile, Backend b) : profile_(std::move(profile)), backend_(b) {}
  std::string name() const override {
    return std::string(backend_ == Backend::kGpu ? "kc.gpu." : "kc.twin.") + profile_;
  }
  std::string op() const override { return kQkFamily; }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return backend_; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kDerivedByFamily;
    b.derivation =
        "derived from the kernels' arithmetic (properties/src/qknorm_rope/"
        "qknorm_rope_expectation.cpp): [rn(Y - E), rn(Y + E)], E = 2^-20.2 |Y| + af R (|t_a| + "
        "|t_b|) (2^-50 + 2 pi (|p| 2^-92.5 + 2^-64)); 16-bit outputs below 0.502 ulp unless the "
        "rotation cancels";
    return b;
  }
  std::string twin() const override {
    return backend_ == Backend::kGpu ? "kc.twin." + profile_ : "";
  }
  Status check(const Case& c) const override {
    KC_RETURN_IF_ERROR(qk_layout_check(c));
    return qknorm_rope_check(qknorm_rope_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    KC_RETURN_IF_ERROR(qk_layout_check(c));
    const QkNormRopeArgs a = qknorm_rope_args(c, p);
    return backend_ == Backend::kGpu ? qknorm_rope(a, stream) : qknorm_rope_twin(a);
  }

 private:
  std::string profile_;
  Backend backend_;
};

const struct Registrar {
  Registrar() {
    for (const std::string& p : qk_kernel_profiles()) {
      register_subject(std::make_unique<KcQkSubject>(p, Backend::kGpu));
      register_subject(std::make_unique<KcQkSubject>(p, Backend::kHost));
    }
  }
} kRegistrar;

}  // namespace
}  // namespace kc::props
