// Certified fast evaluation of the norm profiles (rmsnorm.h): the same profiles, the same bits,
// about a hundred times faster.
//
// evaluate_fast(p, in) returns exactly the y_bits and residual_bits that evaluate(p, in)
// returns, for every input, plus rigorous double enclosures of the values the error models
// read. Each element is evaluated in double with an error bound derived next to the code
// (src/rmsnorm_fast.cpp); its rounding is decided by decide_rounding() (certified.h) when the
// enclosure holds no rounding boundary. The enclosure's radius is 4.5 to 6.5 double ulps of
// the value, so on random rows about 2^-26 of fp32 elements, 2^-39 of fp16 and 2^-42 of bf16
// ones stay undecided (and every exact tie). Those are decided again from a 320-bit evaluation
// with the row's double-double sum of squares (relative error below 4 n^2 2^-106); what that
// cannot decide either (exact ties, and values within about that error of a boundary) comes
// from evaluate() itself, run once for the row.
//
// Special values: a row whose R is not finite and nonzero (a NaN or infinite x or residual, an
// overflowed rn(s) that the profile normalises (fp16), or mean(z^2) + eps = 0) is evaluated in
// double too (path kSpecialRow): every value is then an IEEE special value or a signed zero,
// exact in double, and every enclosure is a point. A non-finite weight, or legacy_mixed's
// overflowed rn(s) as the scaled source, makes that element's y (and u R) +-inf or NaN: a
// point with a non-finite mid, on the fast path. Rows that take the exact path entirely (path
// kExactRow): hidden < 1 or > 2^24, eps negative or not finite; their enclosures are taken
// from evaluate()'s values.
//
// Exact values on demand: the enclosures bound the exact values; a caller that needs one of
// them exactly (the worst element's ULP error, an error near its bound) calls exact_row(),
// which is evaluate(): R needs the whole row, so the row is the unit. When the fast path had to
// run it, the result is kept in FastNormRowResult::exact and need not be computed again.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kc/ref/certified.h"
#include "kc/ref/rmsnorm.h"

namespace kc::ref {

enum class NormRowPath : std::uint8_t {
  kFast,           // every rounding decided in double or from the 320-bit refinement
  kExactElements,  // some elements' roundings came from evaluate() (kept in `exact`)
  kSpecialRow,     // R is NaN, 0 or +inf: every value special or zero, exact in double
  kExactRow,       // an unsupported row (hidden, eps): everything came from evaluate()
};

const char* path_name(NormRowPath p);

struct FastNormRowResult {
  // The correctly rounded outputs, bit for bit those of evaluate().
  std::vector<std::uint32_t> y_bits;
  std::vector<std::uint32_t> residual_bits;  // fused profiles: rn(s)
  // Enclosures of the exact values (NormRowResult's fields of the same names):
  //  y: the value before the final rounding (u R w', or w rn(u R) for cast-before-weight,
  //     which is exact: rad 0);
  //  scaled_times_r: u R per element (u the scaled source);
  //  residual: the exact sum s = x + r (fused profiles; rad is the double-double's low part);
  //  mean_sq_plus_eps, inv_rms: the row's q = mean(z^2) + eps and R = 1 / sqrt(q).
  std::vector<Enclosure> y;
  std::vector<Enclosure> scaled_times_r;
  std::vector<Enclosure> residual;
  Enclosure mean_sq_plus_eps;
  Enclosure inv_rms;

  NormRowPath path = NormRowPath::kFast;
  // Elements whose final or intermediate rounding the double evaluation did not decide, and
  // how many of those the 320-bit refinement did not decide either (they came from evaluate());
  // every element of a kExactRow row counts in both.
  std::int64_t fallback = 0;
  std::int64_t exact_fallback = 0;
  // evaluate()'s result when this row needed it (path != kFast), else empty.
  std::optional<NormRowResult> exact;
};

// The fast certified evaluation (see the file comment). The second form reuses out's storage.
// Thread-safe: the scratch space is per thread. Every row evaluate() accepts is accepted:
// the exact path takes those the fast one does not.
FastNormRowResult evaluate_fast(NormProfile p, const NormRowInput& in);
void evaluate_fast(NormProfile p, const NormRowInput& in, FastNormRowResult* out);

// The exact row (evaluate()): exact values for the worst element and near-bound elements.
inline NormRowResult exact_row(NormProfile p, const NormRowInput& in) { return evaluate(p, in); }

}  // namespace kc::ref
