// The norm family's harness binding.
#include "kc/props/rmsnorm_family.h"

#include "kc/props/rmsnorm_bound.h"

namespace kc::props {

bool norm_modes(const std::string& profile, ResidualSum* sum, OutputRounding* rounding,
                WeightOffset* offset) {
  ref::NormProfile p;
  if (!ref::profile_from_name(profile, &p) || p == ref::NormProfile::kFusedLegacyMixed) {
    return false;
  }
  const ref::NormStructure st = ref::profile_structure(p);
  *sum = st.ss_from == ref::NormSource::kRoundedSum ? ResidualSum::kRounded : ResidualSum::kFp32;
  *rounding = st.cast_before_weight ? OutputRounding::kCastBeforeWeight : OutputRounding::kSingle;
  *offset = st.weight_offset_one ? WeightOffset::kOne : WeightOffset::kZero;
  return true;
}

ref::NormProfile norm_profile(const Case& c) {
  ref::NormProfile p = ref::NormProfile::kRmsNormFp32;
  ref::profile_from_name(c.profile, &p);
  return p;
}

RmsNormArgs rmsnorm_args(const Case& c, const std::vector<void*>& ptr) {
  ResidualSum sum;
  RmsNormArgs a;
  norm_modes(c.profile, &sum, &a.output_rounding, &a.weight_offset);
  a.num_tokens = c.num_tokens;
  a.hidden = c.hidden;
  a.eps = c.eps;
  a.input = ConstRows{ptr[0], c.dtype, c.tensors[0].row_stride};
  a.weight = ConstVector{ptr[1], c.dtype};
  const std::int64_t out_stride =
      c.tensors[2].in_place ? c.tensors[0].row_stride : c.tensors[2].row_stride;
  a.output = Rows{ptr[2], c.dtype, out_stride};
  return a;
}

FusedAddRmsNormArgs fused_add_rmsnorm_args(const Case& c, const std::vector<void*>& ptr) {
  FusedAddRmsNormArgs a;
  norm_modes(c.profile, &a.residual_sum, &a.output_rounding, &a.weight_offset);
  a.num_tokens = c.num_tokens;
  a.hidden = c.hidden;
  a.eps = c.eps;
  a.input = ConstRows{ptr[0], c.dtype, c.tensors[0].row_stride};
  a.residual = ConstRows{ptr[1], c.dtype, c.tensors[1].row_stride};
  a.weight = ConstVector{ptr[2], c.dtype};
  a.output = Rows{ptr[3], c.dtype,
                  c.tensors[3].in_place ? c.tensors[0].row_stride : c.tensors[3].row_stride};
  a.residual_out = Rows{ptr[4], c.dtype,
                        c.tensors[4].in_place ? c.tensors[1].row_stride : c.tensors[4].row_stride};
  return a;
}

std::vector<void*> host_pointers(CaseBuffers& b, std::size_t roles) {
  std::vector<void*> p(roles);
  for (std::size_t t = 0; t < roles; ++t) p[t] = b.tensor(static_cast<int>(t)).data();
  return p;
}

std::vector<NormRowData> capture_norm_rows(const OpInfo& op, const Case& c, const CaseBuffers& b) {
  const int xi = tensor_index(op, "input");
  const int ri = tensor_index(op, "residual");
  const int wi = tensor_index(op, "weight");
  const std::vector<float> w = row_values(c, b.tensor(wi), 0);
  std::vector<NormRowData> rows(static_cast<std::size_t>(c.num_tokens));
  for (std::int64_t r = 0; r < c.num_tokens; ++r) {
    NormRowData& d = rows[static_cast<std::size_t>(r)];
    d.x = row_values(c, b.tensor(xi), r);
    if (ri >= 0) d.residual = row_values(c, b.tensor(ri), r);
    d.weight = w;
  }
  return rows;
}

ref::NormRowInput norm_row_input(const Case& c, const NormRowData& d) {
  ref::NormRowInput in;
  in.format = format_of(c.dtype);
  in.hidden = c.hidden;
  in.x = d.x.data();
  in.residual = d.residual.empty() ? nullptr : d.residual.data();
  in.weight = d.weight.data();
  in.eps = c.eps;
  return in;
}

}  // namespace kc::props
