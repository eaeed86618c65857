// kconform's own norm kernels as subjects: kc.gpu.<profile> (the CUDA kernels) and
// kc.twin.<profile> (their host twins), for the seven profiles the kernels implement.
//
// Bound: NormKernelBound, derived from the kernels' arithmetic (rmsnorm_bound.h). Promises:
// batch invariance, determinism, layout invariance; the GPU subject also promises bitwise
// equality with its twin.
#include <cstdint>

#include "kc/props/rmsnorm_family.h"
#include "kc/props/subject.h"

namespace kc::props {

// Arguments over placeholder addresses laid out like the case (distinct 2^50-spaced bases,
// 256-byte aligned plus the case's offsets, in-place outputs sharing their input's base): the
// checks are pure, so this is how a subject answers "do you support this case" without memory.
std::vector<void*> placeholder_pointers(const Case& c) {
  const OpInfo& op = *find_op(c.op);
  std::vector<void*> p(op.tensors.size());
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    const TensorRole& role = op.tensors[t];
    std::size_t base_role = t;
    if (role.output && c.tensors[t].in_place && role.own_input >= 0) {
      base_role = static_cast<std::size_t>(role.own_input);
    }
    const std::uintptr_t base = (std::uintptr_t{1} << 50) * (base_role + 1);
    p[t] = c.num_tokens == 0 ? nullptr
                             : reinterpret_cast<void*>(
                                   base + static_cast<std::uintptr_t>(c.tensors[base_role].offset) *
                                              dtype_size(c.dtype));
  }
  return p;
}

namespace {

class KcNormSubject : public Subject {
 public:
  KcNormSubject(std::string profile, Backend b) : profile_(std::move(profile)), backend_(b) {}
  std::string name() const override {
    return std::string(backend_ == Backend::kGpu ? "kc.gpu." : "kc.twin.") + profile_;
  }
  std::string op() const override {
    return profile_.rfind("fused_add_rmsnorm", 0) == 0 ? "fused_add_rmsnorm" : "rmsnorm";
  }
  std::string profile() const override { return profile_; }
  Backend backend() const override { return backend_; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kKconformKernel;
    b.derivation = "NormKernelBound: derived from the kernels' fp32 arithmetic (rmsnorm_bound.h)";
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

#define KC_NORM_SUBJECTS(profile)                                               \
  KC_REGISTER_SUBJECT(std::make_unique<KcNormSubject>(profile, Backend::kGpu)); \
  KC_REGISTER_SUBJECT(std::make_unique<KcNormSubject>(profile, Backend::kHost))

KC_NORM_SUBJECTS("rmsnorm.fp32");
KC_NORM_SUBJECTS("rmsnorm.hf");
KC_NORM_SUBJECTS("rmsnorm.gemma");
KC_NORM_SUBJECTS("fused_add_rmsnorm.fp32_sum");
KC_NORM_SUBJECTS("fused_add_rmsnorm.hf");
KC_NORM_SUBJECTS("fused_add_rmsnorm.fp32_sum_hf_cast");
KC_NORM_SUBJECTS("fused_add_rmsnorm.gemma");

}  // namespace
}  // namespace kc::props
