// Op families as the harness sees them: named tensors with roles. The norm family registers
// rmsnorm and fused_add_rmsnorm; later families add theirs without changing the harness.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kc::props {

struct TensorRole {
  const char* name;
  bool output;
  int own_input;    // outputs: index of the input tensor it may alias exactly, or -1
  bool single_row;  // a weight vector: one row of `hidden` elements
};

struct OpInfo {
  std::string name;
  std::vector<TensorRole> tensors;
  std::vector<std::string> profiles;  // every profile of the op, reference-evaluable
};

// nullptr when unknown.
const OpInfo* find_op(const std::string& name);
const std::vector<OpInfo>& all_ops();

// Index of the tensor named `name` in op.tensors, or -1.
int tensor_index(const OpInfo& op, const char* name);

}  // namespace kc::props
