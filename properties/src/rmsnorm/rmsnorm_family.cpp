// The norm family (rmsnorm, fused_add_rmsnorm) in harness terms: its ops, tensors and profiles,
// its case parameters (hidden, eps) and their generator, the value classes and data of its
// tensors, the precision bucket of a case and the report description. The comparison with the
// exact profiles is rmsnorm_expectation.cpp; kconform's kernels' bound is rmsnorm_bound.h.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kc/props/generators.h"
#include "kc/props/subject.h"
#include "rmsnorm_family.h"

namespace kc::props {
namespace {

void fill_row(DType d, NormRowClass cls, float eps, std::int64_t n, DataRng& rng,
              std::vector<std::uint64_t>& out) {
  out.resize(static_cast<std::size_t>(n));
  if (n <= 0) return;
  const double sigma = std::exp2(4.0 * static_cast<double>(rng.next() % 3) - 4.0);
  const float constant = static_cast<float>(rng.normal() * 2 + 0.5);
  const std::int64_t hot = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    float v = 0;
    const float sign = rng.coin() ? -1.0f : 1.0f;
    switch (cls) {
      case NormRowClass::kNormal:
        v = static_cast<float>(rng.normal() * sigma);
        break;
      case NormRowClass::kTiny:
        v = sign * rng.magnitude(-24, -12);
        break;
      case NormRowClass::kHuge:
        v = sign * (d == DType::kFp16 ? rng.magnitude(10, 15.9) : rng.magnitude(20, 40));
        break;
      case NormRowClass::kSubnormal:
        out[static_cast<std::size_t>(i)] = rng.subnormal_bits(d);
        continue;
      case NormRowClass::kZero:
        v = sign * 0.0f;
        break;
      case NormRowClass::kConstant:
        v = constant;
        break;
      case NormRowClass::kOneHot:
        v = i == hot ? static_cast<float>(rng.normal() * 4 + 1) : 0.0f;
        break;
      case NormRowClass::kAlternating:
        v = (i % 2 ? -1.0f : 1.0f) * (std::fabs(constant) + 0.25f);
        break;
      case NormRowClass::kEpsDominated:
        v = static_cast<float>(rng.normal() * std::sqrt(static_cast<double>(eps)) * 0x1p-8);
        break;
      case NormRowClass::kCount:
        break;
    }
    out[static_cast<std::size_t>(i)] = quantize(d, v);
  }
}

void fill_weight(DType d, NormWeightClass cls, std::int64_t n, DataRng& rng,
                 std::vector<std::uint64_t>& out) {
  out.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    float v = 1;
    switch (cls) {
      case NormWeightClass::kNormal:
        v = static_cast<float>(1 + 0.1 * rng.normal());
        break;
      case NormWeightClass::kOnes:
        v = 1;
        break;
      case NormWeightClass::kNearMinusOne: {
        const float toward = rng.coin() ? 1.0f : -1.0f;  // drawn before the magnitude
        v = -1.0f + toward * rng.magnitude(-10, -3);
      } break;
      case NormWeightClass::kWide:
        v = static_cast<float>(4 * rng.normal());
        break;
      case NormWeightClass::kCount:
        break;
    }
    out[static_cast<std::size_t>(i)] = quantize(d, v);
  }
}

// Hidden sizes (scripts/calibration_limits.py mirrors these weights). `top` is the largest hidden
// the case may have: the subject's claimed maximum, or less where a big batch leaves small rows;
// `cap` scales with RapidCheck's size from 64 to top; `dense` is cap, at most kDenseHidden (the
// sizes most models use, drawn densely; above it the edges, the octaves and the maximum reach
// the claim at a fraction of the elements uniform sizes would cost). Weighted toward edges:
//  - 4: uniform in [1, dense];
//  - 4: an edge up to cap: powers of two and their neighbours, model sizes (769, 3420, 3584,
//       5120, 7168, 16385);
//  - 2: a multiple of 8 plus 4 up to dense (the d % 8 == 4 shapes vector paths get wrong);
//  - 2: an octave of the whole range, (2^(k-1), 2^k] for k uniform in [0, ceil(log2 top)], then
//       uniform within (not scaled by the size: every power-of-two threshold up to the claimed
//       maximum is crossed early in a run);
//  - 1: top itself (the claimed maximum: the element cap is spent on one row);
//  - 1 with `unsupported`: 0, claim + 1 or claim + 8.
// Drawn whole and shrunk toward the smallest failing size (shrink_size).
constexpr std::int64_t kDenseHidden = 16384;

rc::Gen<std::int64_t> gen_hidden(std::int64_t cap, std::int64_t top, std::int64_t claim,
                                 bool unsupported) {
  std::vector<std::int64_t> edges;
  for (std::int64_t p = 2; p / 2 <= cap; p *= 2) {
    for (std::int64_t d : {-1, 0, 1}) {
      if (p + d >= 1 && p + d <= cap) edges.push_back(p + d);
    }
  }
  for (std::int64_t h : {769, 3420, 3584, 5120, 7168, 16385}) {
    if (h <= cap) edges.push_back(h);
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  int octaves = 0;
  while ((std::int64_t{1} << octaves) < top) ++octaves;
  const rc::Gen<std::int64_t> octave =
      rc::gen::mapcat(rc::gen::inRange(0, octaves + 1), [top](int k) {
        const std::int64_t hi = std::min<std::int64_t>(std::int64_t{1} << k, top);
        const std::int64_t lo = k == 0 ? 1 : (std::int64_t{1} << (k - 1)) + 1;
        return rc::gen::inRange<std::int64_t>(std::min(lo, hi), hi + 1);
      });
  const std::int64_t dense = std::min(cap, kDenseHidden);
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> choices = {
      {4, rc::gen::inRange<std::int64_t>(1, dense + 1)},
      {4, rc::gen::elementOf(edges)},
      {2, octave},
      {1, rc::gen::just(top)},
  };
  if (dense >= 12) {
    choices.push_back({2, rc::gen::map(rc::gen::inRange<std::int64_t>(1, (dense - 4) / 8 + 1),
                                       [](std::int64_t m) { return m * 8 + 4; })});
  }
  if (unsupported) {
    choices.push_back({1, rc::gen::element<std::int64_t>(0, claim + 1, claim + 8)});
  }
  return shrink_size(rc::gen::noShrink(weighted(choices)), 1);
}

const std::vector<ClassInfo> kRowClasses = {
    {"normal", 8},   {"tiny", 1},    {"huge", 1},        {"subnormal", 1},    {"zero", 1},
    {"constant", 1}, {"one_hot", 1}, {"alternating", 1}, {"eps_dominated", 1}};
const std::vector<ClassInfo> kWeightClasses = {
    {"normal", 4}, {"ones", 1}, {"near_minus_one", 1}, {"wide", 1}};

class NormFamily : public Family {
 public:
  NormFamily() {
    using R = ref::NormProfile;
    ops_ = {
        {"rmsnorm",
         {{"input", TensorRole::kInput},
          {"weight", TensorRole::kWeight, ElementType::kCaseDtype, -1, false},
          {"output", TensorRole::kOutput, ElementType::kCaseDtype, 0}},
         {}},
        {"fused_add_rmsnorm",
         {{"input", TensorRole::kInput},
          {"residual", TensorRole::kInput},
          {"weight", TensorRole::kWeight, ElementType::kCaseDtype, -1, false},
          {"output", TensorRole::kOutput, ElementType::kCaseDtype, 0},
          {"residual_out", TensorRole::kOutput, ElementType::kCaseDtype, 1}},
         {}},
    };
    // The profile table is the reference's (reference/include/kc/ref/rmsnorm.h).
    for (R p : ref::kAllNormProfiles) {
      ops_[ref::is_fused(p) ? 1 : 0].profiles.push_back(ref::profile_name(p));
    }
  }

  std::string name() const override { return kNormFamily; }
  const std::vector<OpSpec>& ops() const override { return ops_; }
  std::vector<ParamSpec> params() const override {
    return {{"hidden", ParamKind::kInt}, {"eps", ParamKind::kFp32}};
  }

  SizeClaims claims(const std::string&) const override {
    SizeClaims c;
    c.max_tokens = std::int64_t{1} << 31;  // rows are a 32-bit grid dimension's worth
    c.max_params = {{"hidden", kMaxHidden}};
    return c;
  }

  rc::Gen<std::vector<Param>> gen_params(const GenContext& ctx) const override {
    // The claimed maximum hidden (kMaxHidden for kconform's kernels), or less where a big batch
    // leaves small rows; size 0..100 scales the uniform and edge sizes from 64 to that.
    const std::int64_t claim =
        std::max<std::int64_t>(1, ctx.claims.max_param("hidden", kMaxHidden));
    const std::int64_t top = std::max<std::int64_t>(1, std::min(claim, ctx.max_token_elements));
    const std::int64_t cap =
        std::min(top, std::max<std::int64_t>(64, 64 + (top - 64) * ctx.size / 100));
    const bool unsupported = ctx.unsupported;
    return rc::gen::exec([=] {
      const std::int64_t hidden = *gen_hidden(cap, top, claim, unsupported);
      // eps = 0 everywhere (R = +inf for zero rows, exact ties of single-rounding profiles);
      // negative eps only where unsupported cases are drawn.
      const float eps = *weighted<float>(
          {{8, rc::gen::element(1e-6f, 1e-5f, 0x1p-7f)},
           {1, rc::gen::just(0.0f)},
           {unsupported ? std::size_t{1} : std::size_t{0}, rc::gen::just(-1e-6f)}});
      Param h{"hidden", ParamKind::kInt, hidden, 0};
      Param e{"eps", ParamKind::kFp32, 0, static_cast<double>(eps)};
      return std::vector<Param>{h, e};
    });
  }

  std::int64_t columns(const Case& c, int) const override { return norm_hidden(c); }

  const std::vector<ClassInfo>& row_classes() const override { return kRowClasses; }
  const std::vector<ClassInfo>& weight_classes() const override { return kWeightClasses; }

  rc::Gen<std::uint8_t> gen_row_class(const GenContext& ctx) const override {
    auto k = [](NormRowClass c) { return static_cast<std::uint8_t>(c); };
    std::vector<std::pair<std::size_t, rc::Gen<std::uint8_t>>> c = {
        {8, rc::gen::just(k(NormRowClass::kNormal))},
        {6, rc::gen::element(k(NormRowClass::kTiny), k(NormRowClass::kHuge),
                             k(NormRowClass::kSubnormal), k(NormRowClass::kZero),
                             k(NormRowClass::kConstant), k(NormRowClass::kOneHot),
                             k(NormRowClass::kAlternating), k(NormRowClass::kEpsDominated))},
    };
    // Special values: huge rows overflow fp16 sums and squares.
    if (ctx.specials) c.push_back({4, rc::gen::just(k(NormRowClass::kHuge))});
    return weighted(c);
  }

  rc::Gen<std::uint8_t> gen_weight_class(const GenContext& ctx) const override {
    auto k = [](NormWeightClass c) { return static_cast<std::uint8_t>(c); };
    // Gemma's 1 + w: weights near -1 are where its offset matters.
    const bool gemma = norm_structure(ctx.profile).weight_offset_one;
    return weighted<std::uint8_t>(
        {{4, rc::gen::just(k(NormWeightClass::kNormal))},
         {2, rc::gen::element(k(NormWeightClass::kOnes), k(NormWeightClass::kWide))},
         {gemma ? std::size_t{3} : std::size_t{1},
          rc::gen::just(k(NormWeightClass::kNearMinusOne))}});
  }

  void fill(const Case& c, int t, std::int64_t row, DataRng& rng,
            std::vector<std::uint64_t>& bits) const override {
    const OpSpec& op = *find_op(c.op);
    if (!op.tensors[static_cast<std::size_t>(t)].rows) {
      fill_weight(c.dtype, static_cast<NormWeightClass>(c.weight_class), norm_hidden(c), rng, bits);
    } else {
      fill_row(c.dtype, static_cast<NormRowClass>(c.row_class(row)), norm_eps(c), norm_hidden(c),
               rng, bits);
    }
  }

  std::unique_ptr<Expectation> expect(const Case& c, const CaseBuffers& before) const override {
    return norm_expectation(c, before);
  }

  std::string bucket(const Case& c) const override {
    const std::int64_t h = norm_hidden(c);
    if (h <= 0) return "hidden=0";
    if (h > 16384) return "hidden>16384";
    int b = 1;
    while ((std::int64_t{1} << b) < h) ++b;
    return "hidden<=" + std::to_string(std::int64_t{1} << b);
  }

  std::vector<std::string> bound_rules() const override { return {kFlushToZeroRule}; }
  // The comparison runs on the certified fast path (rmsnorm_fast.h; exact values only where a
  // decision needs them): ten times the cases the exact evaluation afforded, in about its time.
  int reference_budget_scale() const override { return 10; }

  results::FamilyReport report() const override {
    results::FamilyReport r;
    r.family = name();
    for (const OpSpec& op : ops_) {
      r.ops.push_back(op.name);
      for (const std::string& p : op.profiles) r.profiles.push_back(p);
    }
    r.bucket_param = "hidden";
    r.shape_params = {"tokens", "hidden"};
    r.bandwidth_axis = "hidden";
    r.decode_axis = "tokens";
    r.decode_profiles = {"rmsnorm.fp32", "rmsnorm.hf", "fused_add_rmsnorm.hf"};
    results::PerfTarget bw;
    bw.kind = "bandwidth";
    bw.dtypes = {"bf16", "fp16"};
    bw.param = "hidden";
    bw.min_value = 2048;
    bw.pct_copy = 90;
    bw.text = "bf16/fp16 bandwidth shapes with hidden >= 2048 at >= 90 % of the copy ceiling";
    results::PerfTarget dec;
    dec.kind = "decode";
    dec.dtypes = {"bf16", "fp16"};
    dec.text = "bf16/fp16 decode shapes faster than the best peer at every shape, PDL off";
    r.targets = {bw, dec};
    return r;
  }

 private:
  static ref::NormStructure norm_structure(const std::string& profile) {
    ref::NormProfile p = ref::NormProfile::kRmsNormFp32;
    ref::profile_from_name(profile, &p);
    return ref::profile_structure(p);
  }
  std::vector<OpSpec> ops_;
};

}  // namespace

KC_REGISTER_FAMILY(std::make_unique<NormFamily>());

}  // namespace kc::props
