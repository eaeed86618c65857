// The qknorm_rope family (fused per-head QK-norm + RoPE) in harness terms: its op, tensors and
// profiles, its case parameters and their generator (issue 16 item 6: head_dim edges, head counts
// with no k or v heads, full, half, quarter and other rotary dims, both pairings, positions
// weighted to large values and int64 beyond, shuffled and repeated positions, the models' bases,
// YaRN on and off, weights that are not ones), the value classes and data of its tensors, the
// precision bucket of a case (by position magnitude: the report shows error against position)
// and the report description. The comparison with the exact profiles is
// qknorm_rope_expectation.cpp.
#include <algorithm>
#include <cmath>

#include "kc/props/generators.h"
#include "kc/props/subject.h"
#include "qknorm_rope_family.h"

namespace kc::props {
namespace {

using T = QkNormRopeTensors;

// ---- parameters ---------------------------------------------------------------------------
// head_dim: the edges (the engines' 64/128/256 fast paths among them), any even size,
// none above the claimed head_dim (kMaxQkHeadDim unless the subject claims less); with
// `unsupported` now and then 0, odd or the claim + 2.
rc::Gen<std::int64_t> gen_head_dim(bool unsupported, std::int64_t claim) {
  auto within = [claim](std::vector<std::int64_t> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [claim](std::int64_t h) { return h > claim; }),
            v.end());
    if (v.empty()) v.push_back(2);
    return v;
  };
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> c = {
      {6, rc::gen::elementOf(within({2, 62, 64, 80, 96, 112, 128, 160, 192, 256, 512}))},
      {3, rc::gen::elementOf(within({64, 128, 256}))},
      {2,
       rc::gen::map(rc::gen::inRange<std::int64_t>(
                        1, std::max<std::int64_t>(std::min<std::int64_t>(256, claim / 2), 1) + 1),
                    [](std::int64_t h) { return 2 * h; })},
  };
  if (unsupported) c.push_back({1, rc::gen::element<std::int64_t>(0, 63, claim + 2)});
  return weighted(c);
}

struct Heads {
  std::int64_t q, k, v;
};

// Head counts: small sets, the models' (Qwen3-8B 32/8/8, Qwen3-235B 64/4/4, ...), no q heads,
// no k or v heads.
rc::Gen<Heads> gen_heads() {
  auto small = rc::gen::apply(
      [](std::int64_t q, std::int64_t k, std::int64_t v) {
        return Heads{q, k, v};
      },
      rc::gen::inRange<std::int64_t>(1, 5), rc::gen::inRange<std::int64_t>(0, 3),
      rc::gen::inRange<std::int64_t>(0, 3));
  return weighted<Heads>({
      {4, small},
      {2, rc::gen::element(Heads{32, 8, 8}, Heads{64, 4, 4}, Heads{16, 8, 8}, Heads{8, 1, 1},
                           Heads{40, 8, 8})},
      {1, rc::gen::apply(
              [](std::int64_t k, std::int64_t v) {
                return Heads{0, k, v};
              },
              rc::gen::inRange<std::int64_t>(0, 3), rc::gen::inRange<std::int64_t>(0, 3))},
      {1, rc::gen::map(rc::gen::inRange<std::int64_t>(1, 5),
                       [](std::int64_t q) {
                         return Heads{q, 0, 0};
                       })},
  });
}

std::int64_t even(std::int64_t v) { return v - v % 2; }

// rotary_dim of a head_dim: all of it, half, a quarter, three quarters, any even value, none;
// with `unsupported` odd or above head_dim.
rc::Gen<std::int64_t> gen_rotary_dim(std::int64_t hd, bool unsupported) {
  const std::int64_t h = std::max<std::int64_t>(hd, 2);
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> c = {
      {3, rc::gen::just(h)},
      {2, rc::gen::just(even(h / 2))},
      {2, rc::gen::just(even(h / 4))},
      {1, rc::gen::just(even(3 * h / 4))},
      {2, rc::gen::map(rc::gen::inRange<std::int64_t>(0, h / 2 + 1),
                       [](std::int64_t v) { return 2 * v; })},
      {1, rc::gen::just<std::int64_t>(0)},
  };
  if (unsupported) c.push_back({1, rc::gen::element<std::int64_t>(h - 1, h + 2)});
  return weighted(c);
}

rc::Gen<double> gen_base(bool unsupported) {
  std::vector<std::pair<std::size_t, rc::Gen<double>>> c = {
      {3, rc::gen::just(1e4)},
      {2, rc::gen::just(5e5)},
      {3, rc::gen::just(1e6)},
      {1, rc::gen::map(rc::gen::inRange(0, 1000),
                       [](int k) { return std::round(std::exp2(1.0 + 22.0 * k / 1000.0)); })},
      {1, rc::gen::just(1.0)},
  };
  if (unsupported) c.push_back({1, rc::gen::element(0.5, 0.0, -1e4)});
  return weighted(c);
}

rc::Gen<float> gen_eps(bool unsupported) {
  std::vector<std::pair<std::size_t, rc::Gen<float>>> c = {
      {4, rc::gen::just(1e-6f)}, {3, rc::gen::just(1e-5f)}, {1, rc::gen::just(0.0f)}};
  if (unsupported) c.push_back({1, rc::gen::just(-1e-6f)});
  return weighted(c);
}

// YaRN: off (factor 1, attention factor 1) or SGLang's parameters (factor, low, high,
// attention_factor); with `unsupported` a factor below 1.
rc::Gen<QkRopeYarn> gen_yarn(std::int64_t rd, bool unsupported) {
  auto on = rc::gen::apply(
      [rd](float f, int low, int high_pick, float af) {
        const float highs[] = {16.0f, 32.0f, 64.0f,
                               static_cast<float>(std::max<std::int64_t>(rd / 2, 1))};
        return QkRopeYarn{f, static_cast<float>(low), highs[high_pick], af};
      },
      rc::gen::element(2.5f, 4.0f, 8.0f, 40.0f), rc::gen::inRange(0, 9), rc::gen::inRange(0, 4),
      rc::gen::element(0.9f, 1.0f, 1.3f, 1.36888795f));
  std::vector<std::pair<std::size_t, rc::Gen<QkRopeYarn>>> c = {{4, rc::gen::just(QkRopeYarn{})},
                                                                {2, on}};
  if (unsupported) c.push_back({1, rc::gen::just(QkRopeYarn{0.5f, 0.0f, 32.0f, 1.0f})});
  return weighted(c);
}

// The largest position magnitude of a case, weighted to large values: below 2^10, below 2^17,
// 2^17 .. 2^24 (log-uniform over 2^14 .. 2^24 in all), the edges 2^15, 131071, 2^24 - 1, 2^24,
// 2^24 + 1, 2^24 + 3, and with int64 positions 2^24 .. 2^62 (log-uniform); int32 cases clamp to
// 2^31 - 1.
rc::Gen<std::int64_t> gen_pos_max(PositionType type) {
  auto log_uniform = [](int lo, int hi) {
    return rc::gen::apply(
        [](int e, std::uint64_t m) {
          const std::int64_t base = std::int64_t{1} << e;
          return base + static_cast<std::int64_t>(m % static_cast<std::uint64_t>(base));
        },
        rc::gen::inRange(lo, hi), rc::gen::arbitrary<std::uint64_t>());
  };
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> c = {
      {2, rc::gen::inRange<std::int64_t>(0, 1 << 10)},
      {1, log_uniform(10, 14)},
      {5, log_uniform(14, 24)},
      {2, rc::gen::element<std::int64_t>(1 << 15, 131071, (1 << 24) - 1, 1 << 24, (1 << 24) + 1,
                                         (1 << 24) + 3)},
  };
  if (type == PositionType::kInt64) c.push_back({3, log_uniform(24, 62)});
  const std::int64_t most = type == PositionType::kInt32 ? 0x7fffffff : INT64_MAX;
  return rc::gen::map(weighted(c), [most](std::int64_t v) { return std::min(v, most); });
}

rc::Gen<std::int64_t> gen_pos_mode() {
  auto k = [](QkPositionMode m) { return static_cast<std::int64_t>(m); };
  return weighted<std::int64_t>({{4, rc::gen::just(k(QkPositionMode::kRandom))},
                                 {2, rc::gen::just(k(QkPositionMode::kArange))},
                                 {2, rc::gen::just(k(QkPositionMode::kShuffled))},
                                 {1, rc::gen::just(k(QkPositionMode::kRepeated))},
                                 {1, rc::gen::just(k(QkPositionMode::kNegative))}});
}

// ---- values -------------------------------------------------------------------------------
float draw(QkRowClass cls, DType d, double sigma, DataRng& rng) {
  const float sign = rng.coin() ? -1.0f : 1.0f;
  switch (cls) {
    case QkRowClass::kNormal:
      return static_cast<float>(rng.normal() * sigma);
    case QkRowClass::kLarge:
      return sign * rng.magnitude(3, 12);
    case QkRowClass::kTiny:
      return sign * rng.magnitude(-14, -8);
    case QkRowClass::kSubnormal:
      return value_of(d, rng.subnormal_bits(d));
    case QkRowClass::kZero:
      return rng.coin() ? sign * 0.0f : static_cast<float>(rng.normal());
    case QkRowClass::kOutlier:
      return static_cast<float>(rng.normal());
    case QkRowClass::kHuge:
      return sign * (d == DType::kFp16 ? rng.magnitude(14, 15.9) : rng.magnitude(120, 127.9));
    case QkRowClass::kMixed:
    case QkRowClass::kCount:
      break;
  }
  return 0.0f;
}

float draw_weight(QkWeightClass cls, DataRng& rng) {
  switch (cls) {
    case QkWeightClass::kNormal:
      return static_cast<float>(1.0 + 0.3 * rng.normal());
    case QkWeightClass::kOnes:
      return 1.0f;
    case QkWeightClass::kWide:
      return static_cast<float>(2.0 * rng.normal());
    case QkWeightClass::kSmall:
      return (rng.coin() ? -1.0f : 1.0f) * rng.magnitude(-8, -2);
    case QkWeightClass::kCount:
      break;
  }
  return 1.0f;
}

const std::vector<ClassInfo> kRowClasses = {{"normal", 8},    {"large", 1}, {"tiny", 1},
                                            {"subnormal", 1}, {"zero", 1},  {"outlier", 2},
                                            {"huge", 0},      {"mixed", 2}};
const std::vector<ClassInfo> kWeightClasses = {
    {"normal", 6}, {"ones", 1}, {"wide", 2}, {"small", 1}};

class QkFamily : public Family {
 public:
  QkFamily() {
    OpSpec op{kQkFamily,
              {TensorSpec{"qkv", TensorRole::kInput},
               TensorSpec{"positions", TensorRole::kIndex, ElementType::kInt64, -1, true,
                          RowStride::kPacked},
               TensorSpec{"q_weight", TensorRole::kWeight, ElementType::kCaseDtype, -1, false},
               TensorSpec{"k_weight", TensorRole::kWeight, ElementType::kCaseDtype, -1, false},
               TensorSpec{"output", TensorRole::kOutput, ElementType::kCaseDtype, T::kQkv}},
              {}};
    for (ref::QkNormRopeProfile p : ref::kAllQkNormRopeProfiles) {
      op.profiles.push_back(ref::qknorm_rope_profile_name(p));
    }
    ops_ = {op};
  }

  std::string name() const override { return kQkFamily; }
  const std::vector<OpSpec>& ops() const override { return ops_; }
  std::vector<ParamSpec> params() const override {
    return {{"head_dim", ParamKind::kInt},
            {"nq", ParamKind::kInt},
            {"nk", ParamKind::kInt},
            {"nv", ParamKind::kInt},
            {"rotary_dim", ParamKind::kInt},
            {"pairing", ParamKind::kInt},
            {"base", ParamKind::kFp64},
            {"eps", ParamKind::kFp32},
            {"yarn_factor", ParamKind::kFp32},
            {"yarn_low", ParamKind::kFp32},
            {"yarn_high", ParamKind::kFp32},
            {"attention_factor", ParamKind::kFp32},
            {"position_type", ParamKind::kInt},
            {"pos_mode", ParamKind::kInt},
            {"pos_max", ParamKind::kInt}};
  }

  // The kernels' claim: head_dim up to kMaxQkHeadDim, num_tokens a 32-bit grid's worth. The
  // parameters do not shrink for a big batch drawn first (a token's elements are the heads'; the
  // core fits the batch to the budget).
  SizeClaims claims(const std::string&) const override {
    SizeClaims c;
    c.max_tokens = std::int64_t{1} << 31;
    c.max_params = {{"head_dim", kMaxQkHeadDim}};
    return c;
  }

  rc::Gen<std::vector<Param>> gen_params(const GenContext& ctx) const override {
    const bool u = ctx.unsupported;
    const std::int64_t claim =
        std::max<std::int64_t>(2, ctx.claims.max_param("head_dim", kMaxQkHeadDim));
    return rc::gen::exec([u, claim] {
      const std::int64_t hd = *gen_head_dim(u, claim);
      const Heads h = *gen_heads();
      const std::int64_t rd = *gen_rotary_dim(hd, u);
      const auto pairing = static_cast<std::int64_t>(*rc::gen::inRange(0, 2));
      const double base = *gen_base(u);
      const float eps = *gen_eps(u);
      const QkRopeYarn y = *gen_yarn(rd, u);
      const auto type = static_cast<PositionType>(*rc::gen::inRange(0, 2));
      const std::int64_t mode = *gen_pos_mode();
      const std::int64_t pos_max = *gen_pos_max(type);
      auto i = [](const char* n, std::int64_t v) { return Param{n, ParamKind::kInt, v, 0}; };
      auto f = [](const char* n, float v) {
        return Param{n, ParamKind::kFp32, 0, static_cast<double>(v)};
      };
      return std::vector<Param>{i("head_dim", hd),
                                i("nq", h.q),
                                i("nk", h.k),
                                i("nv", h.v),
                                i("rotary_dim", rd),
                                i("pairing", pairing),
                                Param{"base", ParamKind::kFp64, 0, base},
                                f("eps", eps),
                                f("yarn_factor", y.factor),
                                f("yarn_low", y.low),
                                f("yarn_high", y.high),
                                f("attention_factor", y.attention_factor),
                                i("position_type", static_cast<std::int64_t>(type)),
                                i("pos_mode", mode),
                                i("pos_max", pos_max)};
    });
  }

  std::int64_t columns(const Case& c, int t) const override {
    switch (t) {
      case T::kQkv:
      case T::kOutput:
        return qk_hidden(c);
      case T::kPositions:
        return 1;
      default:
        return std::max<std::int64_t>(qk_head_dim(c), 0);
    }
  }
  ElementType element_type(const Case& c, int t) const override {
    if (t == T::kPositions) {
      return qk_position_type(c) == PositionType::kInt32 ? ElementType::kInt32
                                                         : ElementType::kInt64;
    }
    return ElementType::kCaseDtype;
  }
  // The reference's cost of a token: every element, plus the certified sin and cos of each pair
  // (about as costly as 16 elements).
  std::int64_t token_elements(const Case& c) const override {
    return qk_hidden(c) + 8 * std::max<std::int64_t>(qk_rotary_dim(c), 0);
  }

  const std::vector<ClassInfo>& row_classes() const override { return kRowClasses; }
  const std::vector<ClassInfo>& weight_classes() const override { return kWeightClasses; }

  rc::Gen<std::uint8_t> gen_row_class(const GenContext& ctx) const override {
    auto k = [](QkRowClass c) { return static_cast<std::uint8_t>(c); };
    std::vector<std::pair<std::size_t, rc::Gen<std::uint8_t>>> c = {
        {8, rc::gen::just(k(QkRowClass::kNormal))},
        {2, rc::gen::just(k(QkRowClass::kOutlier))},
        {2, rc::gen::just(k(QkRowClass::kMixed))},
        {4, rc::gen::element(k(QkRowClass::kLarge), k(QkRowClass::kTiny), k(QkRowClass::kSubnormal),
                             k(QkRowClass::kZero))},
    };
    // Special values: heads whose fp32 sum of squares overflows.
    if (ctx.specials) c.push_back({4, rc::gen::just(k(QkRowClass::kHuge))});
    return weighted(c);
  }

  void fill(const Case& c, int t, std::int64_t row, DataRng& rng,
            std::vector<std::uint64_t>& bits) const override {
    if (t == T::kPositions) {
      const std::int64_t p = qk_position(c, row, rng.next());
      bits[0] = qk_position_type(c) == PositionType::kInt32
                    ? static_cast<std::uint32_t>(static_cast<std::int32_t>(p))
                    : static_cast<std::uint64_t>(p);
      return;
    }
    if (t == T::kQWeight || t == T::kKWeight) {
      const auto cls = static_cast<QkWeightClass>(c.weight_class);
      for (std::uint64_t& b : bits) b = quantize(c.dtype, draw_weight(cls, rng));
      return;
    }
    const auto cls = static_cast<QkRowClass>(c.row_class(row));
    const double sigma = std::exp2(2.0 * static_cast<double>(rng.next() % 3) - 2.0);
    const std::int64_t n = std::max<std::int64_t>(qk_head_dim(c), 1);
    for (std::size_t i = 0; i < bits.size(); ++i) {
      QkRowClass k = cls;
      if (cls == QkRowClass::kMixed) {
        k = static_cast<QkRowClass>(rng.next() % static_cast<std::uint64_t>(QkRowClass::kHuge));
      }
      float v = draw(k, c.dtype, sigma, rng);
      if (k == QkRowClass::kOutlier && static_cast<std::int64_t>(i) % n == 0) {
        v = (rng.coin() ? -1.0f : 1.0f) * rng.magnitude(6, 10);
      }
      bits[i] = quantize(c.dtype, v);
    }
    if (cls == QkRowClass::kZero && rng.coin()) {  // one whole head of zeros
      const std::int64_t heads = static_cast<std::int64_t>(bits.size()) / n;
      const std::int64_t h = heads > 0 ? static_cast<std::int64_t>(rng.next() % heads) : 0;
      for (std::int64_t i = h * n; i < (h + 1) * n && i < static_cast<std::int64_t>(bits.size());
           ++i) {
        bits[static_cast<std::size_t>(i)] = quantize(c.dtype, 0.0f);
      }
    }
  }

  std::unique_ptr<Expectation> expect(const Case& c, const CaseBuffers& before) const override {
    return qk_expectation(c, before);
  }

  std::string bucket(const Case& c) const override { return qk_position_bucket(qk_pos_max(c)); }
  // The comparison evaluates every element with the exact reference (multiprecision sin/cos:
  // about 57 bounded_error and 146 special_values cases per CPU second on the project's 2-core
  // machine; ten times the cases would make those ctests ten times slower): the base budget.
  int reference_budget_scale() const override { return 1; }

  results::FamilyReport report() const override {
    results::FamilyReport r;
    r.family = name();
    r.ops = {kQkFamily};
    r.profiles = ops_[0].profiles;
    r.bucket_param = "position";
    // pos_max: the largest position of the row's set (bench/qknorm_rope_bench.cu draws 2^17
    // and near 2^24); the bandwidth lines are told apart by model and position set.
    r.shape_params = {"tokens", "nq", "nk", "nv", "head_dim", "pos_max"};
    r.bandwidth_axis = "tokens";
    r.bandwidth_series = {"nq", "nk", "nv", "pos_max"};
    r.decode_axis = "tokens";
    r.decode_profiles = {"qknorm_rope.exact"};
    results::PerfTarget bw;
    bw.kind = "bandwidth";
    bw.dtypes = {"bf16"};
    bw.param = "tokens";
    bw.min_value = 4096;
    bw.pct_copy = 90;
    bw.text = "bf16 bandwidth shapes (>= 64 MB moved) at >= 90 % of the copy ceiling";
    results::PerfTarget dec;
    dec.kind = "decode";
    dec.dtypes = {"bf16"};
    dec.text = "bf16 decode shapes (1..256 tokens) faster than the best peer, PDL off";
    r.targets = {bw, dec};
    return r;
  }

 private:
  std::vector<OpSpec> ops_;
};

}  // namespace

ref::QkNormRopeProfile qk_profile(const Case& c) {
  ref::QkNormRopeProfile p = ref::QkNormRopeProfile::kExact;
  ref::qknorm_rope_profile_from_name(c.profile, &p);
  return p;
}

ref::QkNormRopeParams qk_ref_params(const Case& c) {
  ref::QkNormRopeParams p;
  p.head_dim = qk_head_dim(c);
  p.num_q_heads = qk_nq(c);
  p.num_k_heads = qk_nk(c);
  p.num_v_heads = qk_nv(c);
  p.rotary_dim = qk_rotary_dim(c);
  p.style =
      qk_pairing(c) == RopePairing::kNeox ? ref::RopeStyle::kNeox : ref::RopeStyle::kInterleaved;
  p.base = c.param_fp64("base");
  p.eps = c.param_fp32("eps");
  const QkRopeYarn y = qk_yarn(c);
  p.yarn = ref::YarnParams{y.factor, y.low, y.high, y.attention_factor};
  return p;
}

std::int64_t qk_stored_position(const Case& c, const HostTensor& positions, std::int64_t row) {
  const std::uint64_t b = positions.get_any(row, 0);
  if (qk_position_type(c) == PositionType::kInt32) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(b));
  }
  return static_cast<std::int64_t>(b);
}

std::string qk_position_bucket(std::int64_t pos_max) {
  const std::uint64_t m = pos_max < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(pos_max)
                                      : static_cast<std::uint64_t>(pos_max);
  if (m < (1u << 10)) return "pos<2^10";
  if (m < (1u << 17)) return "pos<2^17";
  if (m < (1u << 24)) return "pos<2^24";
  return "pos>=2^24";
}

KC_REGISTER_FAMILY(std::make_unique<QkFamily>());

}  // namespace kc::props
