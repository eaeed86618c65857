// A case: one generated input of an op. It is the fields every op family shares (op, profile,
// dtype, num_tokens, one layout per tensor, value classes, special-value injections, the data
// seed) plus the family's named parameters (`hidden` and `eps` for the norms, `d` for act_and_mul,
// head counts and positions for qknorm_rope). Structure is what RapidCheck generates and shrinks;
// tensor data comes from `seed`. The harness core never reads a family parameter: it passes
// them through (generation, repros, descriptions) and leaves their meaning to the family.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/kernels/dtype.h"

namespace kc::props {

enum class Special : std::uint8_t { kNan, kPosInf, kNegInf, kCount };
const char* special_name(Special s);

// A special value written over one element of an input tensor after the data is generated.
// `tensor` counts the input tensors of the op (modulo their number); row and col are reduced
// modulo the tensor's shape, so shrinking them keeps them valid.
struct Injection {
  int tensor = 0;
  std::int64_t row = 0;
  std::int64_t col = 0;
  Special kind = Special::kNan;
};

// Memory layout of one tensor: elements between rows, and the offset in elements of element
// (0, 0) from a 256-byte aligned base. An output with in_place set uses its own input's memory.
struct TensorLayout {
  std::int64_t row_stride = 0;
  std::int64_t offset = 0;
  bool in_place = false;
};

// One named parameter of a family: an integer, an fp32 value (its bits are what a kernel sees,
// and what a repro stores) or an fp64 value.
enum class ParamKind : std::uint8_t { kInt, kFp32, kFp64 };
struct Param {
  std::string name;
  ParamKind kind = ParamKind::kInt;
  std::int64_t i = 0;  // kInt
  double f = 0;        // kFp32 (exactly an fp32 value) and kFp64
};

struct Case {
  std::string op;       // "rmsnorm", "fused_add_rmsnorm", ...
  std::string profile;  // the profile the subject under test claims
  DType dtype = DType::kBf16;
  std::int64_t num_tokens = 0;
  std::vector<TensorLayout> tensors;  // one per tensor of the op (family.h, OpSpec)
  // Value classes, as indices into the family's class tables (Family::row_classes(),
  // weight_classes()): row r of every row tensor uses row_classes[r % size] (empty: class 0);
  // one-row tensors (weights) use weight_class.
  std::vector<std::uint8_t> row_classes;
  std::uint8_t weight_class = 0;
  std::vector<Injection> injections;
  std::uint64_t seed = 0;
  std::vector<Param> params;  // the family's, in the family's order

  std::uint8_t row_class(std::int64_t row) const {
    return row_classes.empty() ? 0
                               : row_classes[static_cast<std::size_t>(row) % row_classes.size()];
  }

  // Family parameters by name. The getters return the fallback when the case has no such
  // parameter (a family validates its cases: Family::validate).
  const Param* find_param(const std::string& name) const;
  std::int64_t param_int(const std::string& name, std::int64_t fallback = 0) const;
  float param_fp32(const std::string& name, float fallback = 0.0f) const;
  double param_fp64(const std::string& name, double fallback = 0.0) const;
  // Set (or add) a parameter.
  void set_int(const std::string& name, std::int64_t v);
  void set_fp32(const std::string& name, float v);
  void set_fp64(const std::string& name, double v);
};

// One line: "fused_add_rmsnorm.hf bf16 tokens=3 hidden=769 eps=1e-06 input[stride=...] ...".
std::string describe(const Case& c);

}  // namespace kc::props
