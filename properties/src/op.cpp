// The registry of op families known to the harness.
#include <cstring>

#include "kc/props/op.h"

namespace kc::props {

const std::vector<OpInfo>& all_ops() {
  static const std::vector<OpInfo> ops = {
      {"rmsnorm",
       {{"input", false, -1, false}, {"weight", false, -1, true}, {"output", true, 0, false}},
       {"rmsnorm.fp32", "rmsnorm.hf", "rmsnorm.gemma"}},
      {"fused_add_rmsnorm",
       {{"input", false, -1, false},
        {"residual", false, -1, false},
        {"weight", false, -1, true},
        {"output", true, 0, false},
        {"residual_out", true, 1, false}},
       {"fused_add_rmsnorm.fp32_sum", "fused_add_rmsnorm.hf", "fused_add_rmsnorm.fp32_sum_hf_cast",
        "fused_add_rmsnorm.gemma", "fused_add_rmsnorm.legacy_mixed"}},
  };
  return ops;
}

const OpInfo* find_op(const std::string& name) {
  for (const OpInfo& op : all_ops()) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

int tensor_index(const OpInfo& op, const char* name) {
  for (std::size_t i = 0; i < op.tensors.size(); ++i) {
    if (std::strcmp(op.tensors[i].name, name) == 0) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace kc::props
