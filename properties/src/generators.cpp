// Case generators (generators.h).
#include "kc/props/generators.h"

#include <algorithm>
#include <vector>

#include "kc/kernels/rmsnorm.h"
#include "kc/props/op.h"

namespace kc::props {
namespace {

// One of several generators, picked with the given weights (zero allowed); shrinks toward the
// first choice.
template <typename T>
rc::Gen<T> weighted(std::vector<std::pair<std::size_t, rc::Gen<T>>> choices) {
  std::size_t total = 0;
  for (const auto& c : choices) total += c.first;
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, total), [choices](std::size_t k) {
    for (const auto& c : choices) {
      if (k < c.first) return c.second;
      k -= c.first;
    }
    return choices.back().second;
  });
}

}  // namespace

rc::Gen<std::int64_t> gen_hidden(std::int64_t cap, bool unsupported) {
  std::vector<std::int64_t> edges;
  for (std::int64_t p = 16; p <= cap; p *= 2) {
    for (std::int64_t d : {-1, 0, 1}) edges.push_back(p + d);
  }
  for (std::int64_t h : {769, 3584, 3420, 5120, 7168, 16385}) {
    if (h <= cap + 1) edges.push_back(h);
  }
  const std::int64_t top = std::max<std::int64_t>(cap, 16);
  std::vector<std::pair<int, rc::Gen<std::int64_t>>> choices = {
      {4, rc::gen::inRange<std::int64_t>(1, top + 1)},
      {4, rc::gen::elementOf(edges)},
      // Multiples of 8 +- 4: the d % 8 == 4 shapes that vector paths get wrong.
      {2, rc::gen::map(rc::gen::inRange<std::int64_t>(2, std::max<std::int64_t>(top / 8, 3)),
                       [](std::int64_t m) { return m * 8 + 4; })},
  };
  if (unsupported) {
    choices.push_back({1, rc::gen::element<std::int64_t>(0, kMaxHidden + 1, kMaxHidden + 8)});
  }
  return weighted(
      std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>>(choices.begin(), choices.end()));
}

rc::Gen<std::int64_t> gen_tokens(std::int64_t hidden, std::int64_t max_elements, bool empty) {
  const std::int64_t most =
      std::max<std::int64_t>(1, max_elements / std::max<std::int64_t>(hidden, 1));
  auto fit = [most](std::int64_t t) { return std::min(t, most); };
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> choices = {
      {3, rc::gen::just<std::int64_t>(1)},
      {4, rc::gen::map(rc::gen::inRange<std::int64_t>(2, 10), fit)},
      {2, rc::gen::map(rc::gen::element<std::int64_t>(127, 131, 132, 133, 255, 256, 257), fit)},
      {2, rc::gen::inRange<std::int64_t>(1, most + 1)},
  };
  if (empty) choices.push_back({1, rc::gen::just<std::int64_t>(0)});
  return weighted(choices);
}

namespace {

rc::Gen<ValueClass> gen_value_class(bool specials) {
  std::vector<std::pair<std::size_t, rc::Gen<ValueClass>>> c = {
      {8, rc::gen::just(ValueClass::kNormal)},
      {6, rc::gen::element(ValueClass::kTiny, ValueClass::kHuge, ValueClass::kSubnormal,
                           ValueClass::kZero, ValueClass::kConstant, ValueClass::kOneHot,
                           ValueClass::kAlternating, ValueClass::kEpsDominated)},
  };
  if (specials) c.push_back({4, rc::gen::just(ValueClass::kHuge)});
  return weighted(c);
}

}  // namespace

rc::Gen<Case> gen_case(const Subject& s, const GenOptions& o) {
  const std::string op_name = s.op();
  const std::string profile = s.profile();
  const std::vector<DType> dtypes = s.dtypes();
  return rc::gen::withSize([=](int size) {
    // Size 0..100 scales the largest hidden from 64 to the cap.
    const std::int64_t cap = std::max<std::int64_t>(
        64, std::min<std::int64_t>(o.max_hidden, 64 + (o.max_hidden - 64) * size / 100));
    // The size sets the cap only: every structural choice below is drawn at RapidCheck's
    // nominal size, because its integer generators shrink their ranges at small sizes (which
    // would pick the first option of every choice in early cases).
    return rc::gen::resize(
        100, rc::gen::exec([=] {
          const OpInfo& op = *find_op(op_name);
          Case c;
          c.op = op_name;
          c.profile = profile;
          c.dtype = *rc::gen::elementOf(dtypes);
          c.hidden = *gen_hidden(cap, o.unsupported);
          c.num_tokens = *gen_tokens(c.hidden, o.max_elements, o.empty_batches);
          c.eps = *weighted<float>(
              {{8, rc::gen::element(1e-6f, 1e-5f, 0x1p-7f)},
               {o.unsupported ? std::size_t{1} : std::size_t{0}, rc::gen::element(-1e-6f, 0.0f)}});
          const bool in_place = *rc::gen::arbitrary<bool>();
          for (const TensorRole& role : op.tensors) {
            TensorLayout l;
            l.row_stride =
                c.hidden + *weighted<std::int64_t>({{6, rc::gen::just<std::int64_t>(0)},
                                                    {3, rc::gen::inRange<std::int64_t>(1, 65)}});
            l.offset = *weighted<std::int64_t>(
                {{5, rc::gen::just<std::int64_t>(0)}, {3, rc::gen::inRange<std::int64_t>(1, 16)}});
            l.in_place = role.output && in_place;
            c.tensors.push_back(l);
          }
          c.row_classes = *rc::gen::container<std::vector<ValueClass>>(
              static_cast<std::size_t>(*rc::gen::inRange(1, 4)), gen_value_class(o.specials));
          c.weight_class = *weighted<WeightClass>(
              {{4, rc::gen::just(WeightClass::kNormal)},
               {2, rc::gen::element(WeightClass::kOnes, WeightClass::kWide)},
               {profile.find("gemma") != std::string::npos ? std::size_t{3} : std::size_t{1},
                rc::gen::just(WeightClass::kNearMinusOne)}});
          const auto injections = static_cast<std::size_t>(*weighted<int>(
              {{o.specials ? std::size_t{2} : std::size_t{12}, rc::gen::just(0)},
               {o.specials ? std::size_t{6} : std::size_t{1}, rc::gen::inRange(1, 4)}}));
          for (std::size_t k = 0; k < injections; ++k) {
            Injection j;
            j.tensor = *rc::gen::inRange(0, 3);
            j.row = *rc::gen::inRange<std::int64_t>(0, 1 << 20);
            j.col = *rc::gen::inRange<std::int64_t>(0, 1 << 20);
            j.kind = *rc::gen::element(Special::kNan, Special::kPosInf, Special::kNegInf);
            c.injections.push_back(j);
          }
          c.seed = *rc::gen::noShrink(rc::gen::arbitrary<std::uint64_t>());
          return c;
        }));
  });
}

}  // namespace kc::props
