// The act_and_mul family (gated activations) in harness terms: its op, tensors and profiles, its
// case parameter d and its generator, the value classes and data of its rows, the precision
// bucket of a case and the report description. The comparison with the exact profiles is
// act_and_mul_expectation.cpp.
#include <algorithm>
#include <cmath>

#include "act_and_mul_family.h"
#include "kc/props/generators.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

// The activation's negative tail, where fp32 formulas cancel or overflow (wave2-semantics.md
// section 2.5): silu's e^-g overflows fp32 below -88.72; 1 + erf(g / sqrt 2) and 1 + tanh(z)
// round to zero from about -5.5 (gelu) and -5 (gelu_tanh) on.
void tail_range(ref::ActFunction f, double* lo, double* hi) {
  switch (f) {
    case ref::ActFunction::kSilu:
      *lo = -110;
      *hi = -80;
      return;
    case ref::ActFunction::kGelu:
      *lo = -14;
      *hi = -4;
      return;
    case ref::ActFunction::kGeluTanh:
      break;
  }
  *lo = -11;
  *hi = -3;
}

// One value of a class (gate or up, as `gate` says).
float draw(ActRowClass cls, bool gate, ref::ActFunction f, DType d, double sigma, DataRng& rng) {
  const float sign = rng.coin() ? -1.0f : 1.0f;
  switch (cls) {
    case ActRowClass::kNormal:
      return static_cast<float>(rng.normal() * (gate ? sigma : 1.0));
    case ActRowClass::kTail: {
      if (!gate) return static_cast<float>(rng.normal());
      double lo, hi;
      tail_range(f, &lo, &hi);
      return static_cast<float>(lo + (hi - lo) * rng.uniform());
    }
    case ActRowClass::kLarge:
      return gate ? sign * rng.magnitude(3, 14) : static_cast<float>(rng.normal());
    case ActRowClass::kSubnormal:
      if (gate) return value_of(d, rng.subnormal_bits(d));
      return static_cast<float>(rng.normal());
    case ActRowClass::kTiny:
      return gate ? sign * rng.magnitude(-24, -12) : static_cast<float>(rng.normal());
    case ActRowClass::kHuge:
      // Gates near the top of the format and ups up to 2^8 (fp16) or 2^28: products overflow.
      if (d == DType::kFp16) return sign * (gate ? rng.magnitude(8, 15.9) : rng.magnitude(0, 8));
      return sign * (gate ? rng.magnitude(100, 127.9) : rng.magnitude(0, 28));
    case ActRowClass::kZero:
      return rng.coin() ? sign * 0.0f : static_cast<float>(rng.normal());
    case ActRowClass::kMixed:
    case ActRowClass::kCount:
      break;
  }
  return 0.0f;
}

// d weighted to edges: 1..16, powers of two and +-1, multiples of 8 +- 4, the model sizes
// (3420: FlashInfer's d % 8 == 4 fault; 11008, 13824, 14336, 18944, 28672: Llama/Qwen MLPs),
// uniform sizes, none above the claimed d; with `unsupported`, now and then 0 or the claim + 1.
rc::Gen<std::int64_t> gen_d(std::int64_t cap, std::int64_t claim, bool unsupported) {
  std::vector<std::int64_t> edges;
  for (std::int64_t v = 1; v <= 16; ++v) edges.push_back(v);
  for (std::int64_t p = 32; p <= cap; p *= 2) {
    for (std::int64_t k : {-1, 0, 1}) edges.push_back(p + k);
  }
  for (std::int64_t v : {3420, 11008, 13824, 14336, 18944, 28672}) {
    if (v <= cap) edges.push_back(v);
  }
  const std::int64_t top = std::min(std::max<std::int64_t>(cap, 16), claim);
  edges.erase(
      std::remove_if(edges.begin(), edges.end(), [claim](std::int64_t v) { return v > claim; }),
      edges.end());
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> choices = {
      {4, rc::gen::inRange<std::int64_t>(1, top + 1)},
      {4, rc::gen::elementOf(edges)},
      {2, rc::gen::map(rc::gen::inRange<std::int64_t>(1, std::max<std::int64_t>(top / 8, 2)),
                       [claim](std::int64_t m) { return std::min(m * 8 + 4, claim); })},
  };
  if (unsupported) choices.push_back({1, rc::gen::element<std::int64_t>(0, claim + 1)});
  return weighted(choices);
}

// The largest d the generator draws at full size (the model sizes above it are edges).
constexpr std::int64_t kMaxGeneratedD = 32768;

const std::vector<ClassInfo> kRowClasses = {{"normal", 8},    {"tail", 3}, {"large", 1},
                                            {"subnormal", 1}, {"tiny", 1}, {"huge", 1},
                                            {"zero", 1},      {"mixed", 2}};
const std::vector<ClassInfo> kWeightClasses = {{"none", 1}};

class ActFamily : public Family {
 public:
  ActFamily() {
    OpSpec op{"act_and_mul", {{"input", TensorRole::kInput}, {"output", TensorRole::kOutput}}, {}};
    for (const ref::ActProfile& p : ref::kAllActProfiles) {
      op.profiles.push_back(ref::act_profile_name(p));
    }
    ops_ = {op};
  }

  std::string name() const override { return kActFamily; }
  const std::vector<OpSpec>& ops() const override { return ops_; }
  std::vector<ParamSpec> params() const override { return {{"d", ParamKind::kInt}}; }

  // The kernels' claim: d up to kMaxActD, num_tokens as the norms' (a 32-bit grid's worth).
  SizeClaims claims(const std::string&) const override {
    SizeClaims c;
    c.max_tokens = std::int64_t{1} << 31;
    c.max_params = {{"d", kMaxActD}};
    return c;
  }

  // d scaled with the size up to kMaxGeneratedD, never above the subject's claimed d, and within
  // the elements a token may cost where a big batch is drawn first (3 d elements a token; the
  // smallest rows, d <= 16, are drawn whatever the budget: the core then fits the batch).
  // kMaxGeneratedD < d <= kMaxActD is not drawn at the quick level (the exact reference would
  // spend a case's time on one row): a stated gap, README "Coverage".
  rc::Gen<std::vector<Param>> gen_params(const GenContext& ctx) const override {
    const std::int64_t claim = std::max<std::int64_t>(1, ctx.claims.max_param("d", kMaxActD));
    const std::int64_t top = std::min({claim, kMaxGeneratedD, ctx.max_token_elements / 3});
    const std::int64_t cap = std::max<std::int64_t>(
        1, std::min(top, std::max<std::int64_t>(64, 64 + (top - 64) * ctx.size / 100)));
    return rc::gen::map(gen_d(cap, claim, ctx.unsupported), [](std::int64_t d) {
      return std::vector<Param>{Param{"d", ParamKind::kInt, d, 0}};
    });
  }

  std::int64_t columns(const Case& c, int t) const override {
    return t == ActAndMulTensors::kInput ? 2 * act_d(c) : act_d(c);
  }
  std::int64_t token_elements(const Case& c) const override { return 3 * act_d(c); }

  const std::vector<ClassInfo>& row_classes() const override { return kRowClasses; }
  const std::vector<ClassInfo>& weight_classes() const override { return kWeightClasses; }

  rc::Gen<std::uint8_t> gen_row_class(const GenContext& ctx) const override {
    auto k = [](ActRowClass c) { return static_cast<std::uint8_t>(c); };
    std::vector<std::pair<std::size_t, rc::Gen<std::uint8_t>>> c = {
        {8, rc::gen::just(k(ActRowClass::kNormal))},
        {3, rc::gen::just(k(ActRowClass::kTail))},
        {6,
         rc::gen::element(k(ActRowClass::kLarge), k(ActRowClass::kSubnormal), k(ActRowClass::kTiny),
                          k(ActRowClass::kHuge), k(ActRowClass::kZero), k(ActRowClass::kMixed))},
    };
    // Special values: products that overflow.
    if (ctx.specials) c.push_back({4, rc::gen::just(k(ActRowClass::kHuge))});
    return weighted(c);
  }

  void fill(const Case& c, int, std::int64_t row, DataRng& rng,
            std::vector<std::uint64_t>& bits) const override {
    const std::int64_t d = act_d(c);
    const ref::ActFunction f = act_profile(c).function;
    const auto cls = static_cast<ActRowClass>(c.row_class(row));
    const double sigma = std::exp2(2.0 * static_cast<double>(rng.next() % 3) - 2.0);
    for (std::int64_t i = 0; i < 2 * d; ++i) {
      ActRowClass k = cls;
      if (cls == ActRowClass::kMixed) {
        k = static_cast<ActRowClass>(rng.next() % static_cast<std::uint64_t>(ActRowClass::kMixed));
      }
      bits[static_cast<std::size_t>(i)] = quantize(c.dtype, draw(k, i < d, f, c.dtype, sigma, rng));
    }
  }

  std::unique_ptr<Expectation> expect(const Case& c, const CaseBuffers& before) const override {
    return act_expectation(c, before);
  }

  std::string bucket(const Case& c) const override {
    const std::int64_t d = act_d(c);
    if (d <= 0) return "d=0";
    if (d > 32768) return "d>32768";
    int b = 1;
    while ((std::int64_t{1} << b) < d) ++b;
    return "d<=" + std::to_string(std::int64_t{1} << b);
  }

  std::vector<std::string> bound_rules() const override {
    return {kActTailRule, std::string(kActAbsoluteRulePrefix) + "N"};
  }
  // The comparison evaluates every element with the exact reference (about 53 bounded_error and
  // 80 special_values cases per CPU second on the project's 2-core machine; ten times the cases
  // would make those ctests ten times slower): the base budget.
  int reference_budget_scale() const override { return 1; }

  results::FamilyReport report() const override {
    results::FamilyReport r;
    r.family = name();
    r.ops = {"act_and_mul"};
    r.profiles = ops_[0].profiles;
    r.bucket_param = "d";
    r.shape_params = {"tokens", "d"};
    r.bandwidth_axis = "d";
    r.decode_axis = "tokens";
    r.decode_profiles = {"act_and_mul.silu.single", "act_and_mul.silu.torch",
                         "act_and_mul.gelu_tanh.single"};
    results::PerfTarget bw;
    bw.kind = "bandwidth";
    bw.dtypes = {"bf16", "fp16"};
    bw.param = "d";
    bw.min_value = 2048;
    bw.pct_copy = 97;
    bw.text = "bf16/fp16 bandwidth shapes with d >= 2048 at >= 97 % of the copy ceiling";
    results::PerfTarget dec;
    dec.kind = "decode";
    dec.dtypes = {"bf16", "fp16"};
    dec.text = "bf16/fp16 decode shapes faster than the best peer at every shape, PDL off";
    r.targets = {bw, dec};
    return r;
  }

 private:
  std::vector<OpSpec> ops_;
};

}  // namespace

ref::ActProfile act_profile(const Case& c) {
  ref::ActProfile p{ref::ActFunction::kSilu, ref::ActRounding::kSingle};
  ref::act_profile_from_name(c.profile, &p);
  return p;
}

KC_REGISTER_FAMILY(std::make_unique<ActFamily>());

}  // namespace kc::props
