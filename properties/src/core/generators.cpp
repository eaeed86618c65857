// Case generators (generators.h).
#include "kc/props/generators.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kc/props/family.h"

namespace kc::props {
namespace {

int floor_log2(std::int64_t v) {
  int e = 0;
  while (e < 62 && (std::int64_t{1} << (e + 1)) <= v) ++e;
  return e;
}

// Injections shrink by removing any subset (RapidCheck's chunks), then each one toward tensor 0,
// row 0, column 0 (they are reduced modulo the shape, so every candidate is valid).
rc::Seq<Injection> injection_shrinks(const Injection& j) {
  std::vector<Injection> out;
  for (std::int64_t t : size_shrinks(j.tensor, 0)) {
    Injection k = j;
    k.tensor = static_cast<int>(t);
    out.push_back(k);
  }
  for (std::int64_t r : size_shrinks(j.row, 0)) {
    Injection k = j;
    k.row = r;
    out.push_back(k);
  }
  for (std::int64_t c : size_shrinks(j.col, 0)) {
    Injection k = j;
    k.col = c;
    out.push_back(k);
  }
  return rc::seq::fromContainer(std::move(out));
}

rc::Seq<std::vector<Injection>> injection_list_shrinks(const std::vector<Injection>& v) {
  return rc::seq::concat(rc::shrink::removeChunks(v),
                         rc::shrink::eachElement(v, &injection_shrinks));
}

rc::Gen<std::vector<Injection>> gen_injections(bool specials) {
  const rc::Gen<std::vector<Injection>> draw = rc::gen::exec([specials] {
    const auto n = static_cast<std::size_t>(
        *weighted<int>({{specials ? std::size_t{2} : std::size_t{12}, rc::gen::just(0)},
                        {specials ? std::size_t{6} : std::size_t{1}, rc::gen::inRange(1, 4)}}));
    std::vector<Injection> v;
    for (std::size_t k = 0; k < n; ++k) {
      Injection j;
      j.tensor = *rc::gen::inRange(0, 3);
      j.row = *rc::gen::inRange<std::int64_t>(0, 1 << 20);
      j.col = *rc::gen::inRange<std::int64_t>(0, 1 << 20);
      j.kind = *rc::gen::element(Special::kNan, Special::kPosInf, Special::kNegInf);
      v.push_back(j);
    }
    return v;
  });
  return [draw](const rc::Random& random, int size) {
    return rc::shrinkable::shrinkRecur(draw(random, size).value(), &injection_list_shrinks);
  };
}

}  // namespace

std::vector<std::int64_t> size_shrinks(std::int64_t v, std::int64_t lo) {
  std::vector<std::int64_t> out;
  if (v <= lo) return out;
  auto add = [&](std::int64_t x) {
    if (x >= lo && x < v) out.push_back(x);
  };
  add(lo);
  add(lo + 1);
  for (std::int64_t p = 2; p / 2 < v && p > 0; p *= 2) {
    add(p - 1);
    add(p);
    add(p + 1);
  }
  for (std::int64_t d = v - lo; d > 0; d /= 2) add(v - d);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

rc::Gen<std::int64_t> shrink_size(rc::Gen<std::int64_t> g, std::int64_t lo) {
  return [g, lo](const rc::Random& random, int size) {
    return rc::shrinkable::shrinkRecur(g(random, size).value(), [lo](std::int64_t v) {
      return rc::seq::fromContainer(size_shrinks(v, lo));
    });
  };
}

std::int64_t claimed_max_tokens(const SizeClaims& claims) {
  return claims.max_tokens > 0 ? claims.max_tokens : kDefaultMaxTokens;
}

rc::Gen<std::int64_t> gen_tokens(std::int64_t token_elements, std::int64_t max_elements, bool empty,
                                 std::int64_t max_tokens) {
  const std::int64_t most = std::max<std::int64_t>(
      1, std::min(max_tokens, max_elements / std::max<std::int64_t>(token_elements, 1)));
  auto fit = [most](std::int64_t t) { return std::min(t, most); };
  std::vector<std::int64_t> powers;
  for (std::int64_t p = 2; p <= most; p *= 2) {
    for (std::int64_t d : {-1, 0, 1}) {
      if (p + d <= most) powers.push_back(p + d);
    }
  }
  if (powers.empty()) powers.push_back(1);
  std::vector<std::pair<std::size_t, rc::Gen<std::int64_t>>> choices = {
      {3, rc::gen::just<std::int64_t>(1)},
      {4, rc::gen::map(rc::gen::inRange<std::int64_t>(2, 10), fit)},
      {2, rc::gen::map(rc::gen::element<std::int64_t>(127, 131, 132, 133, 255, 256, 257), fit)},
      {2, rc::gen::inRange<std::int64_t>(1, most + 1)},
      {2, rc::gen::elementOf(powers)},
  };
  if (empty) choices.push_back({1, rc::gen::just<std::int64_t>(0)});
  return shrink_size(weighted(choices), 1);
}

rc::Gen<Case> gen_case(const Subject& s, const GenOptions& o) {
  const std::string op_name = s.op();
  const std::string profile = s.profile();
  std::vector<DType> dtypes;
  for (DType d : s.dtypes()) {
    if (o.dtypes.empty() || std::find(o.dtypes.begin(), o.dtypes.end(), d) != o.dtypes.end()) {
      dtypes.push_back(d);
    }
  }
  if (dtypes.empty()) dtypes = s.dtypes();  // the caller checks the filter; never generate none
  const Family* fam = family_for(op_name);
  const Subject* subject = &s;
  const SizeClaims claims = s.claims();
  const std::int64_t max_tokens = claimed_max_tokens(claims);
  // Batch first: 2^e +- 1 tokens, e in [7, floor(log2(min(max_tokens, max_elements)))].
  const int top_e = floor_log2(std::min(max_tokens, o.max_elements));
  return rc::gen::withSize([=](int size) {
    // The size scales the family's caps only: every structural choice below is drawn at
    // RapidCheck's nominal size, because its integer generators shrink their ranges at small
    // sizes (which would pick the first option of every choice in early cases). The shape is
    // never shrunk (a failing big batch shrinks through its token count).
    return rc::gen::resize(
        100, rc::gen::exec([=] {
          const OpSpec& op = *fam->find_op(op_name);
          GenContext ctx;
          ctx.subject = subject;
          ctx.op = op_name;
          ctx.profile = profile;
          ctx.size = size;
          ctx.max_elements = o.max_elements;
          // Rows first: any row size; one token always fits, even one beyond max_elements.
          ctx.max_token_elements = std::numeric_limits<std::int64_t>::max();
          ctx.claims = claims;
          ctx.unsupported = o.unsupported;
          ctx.specials = o.specials;
          Case c;
          c.op = op_name;
          c.profile = profile;
          c.dtype = *rc::gen::elementOf(dtypes);
          const bool batch_first =
              top_e >= 7 && *rc::gen::noShrink(weighted<bool>(
                                {{3, rc::gen::just(false)}, {1, rc::gen::just(true)}}));
          std::int64_t batch = 0;
          if (batch_first) {
            const int e = *rc::gen::noShrink(rc::gen::inRange(7, top_e + 1));
            batch = (std::int64_t{1} << e) +
                    *rc::gen::noShrink(rc::gen::element<std::int64_t>(-1, 0, 1));
            batch = std::min(batch, max_tokens);
            ctx.max_token_elements = std::max<std::int64_t>(1, o.max_elements / batch);
          }
          c.params = *fam->gen_params(ctx);
          const std::int64_t te = fam->token_elements(c);
          if (batch_first) {
            // A family that could not keep within the budget gets the batch that fits.
            const std::int64_t t =
                te <= ctx.max_token_elements
                    ? batch
                    : std::max<std::int64_t>(
                          1, std::min(batch, o.max_elements / std::max<std::int64_t>(te, 1)));
            c.num_tokens = *shrink_size(rc::gen::just(t), 1);
          } else {
            c.num_tokens = *gen_tokens(te, o.max_elements, o.empty_batches, max_tokens);
          }
          const bool in_place = *rc::gen::arbitrary<bool>();
          for (std::size_t t = 0; t < op.tensors.size(); ++t) {
            const TensorSpec& spec = op.tensors[t];
            TensorLayout l;
            const std::int64_t pad = *weighted<std::int64_t>(
                {{6, rc::gen::just<std::int64_t>(0)}, {3, rc::gen::inRange<std::int64_t>(1, 65)}});
            l.row_stride = fam->columns(c, static_cast<int>(t)) +
                           (spec.stride == RowStride::kPacked ? 0 : pad);
            l.offset = *weighted<std::int64_t>(
                {{5, rc::gen::just<std::int64_t>(0)}, {3, rc::gen::inRange<std::int64_t>(1, 16)}});
            l.in_place = spec.output() && spec.alias_of >= 0 && in_place;
            c.tensors.push_back(l);
          }
          c.row_classes = *rc::gen::container<std::vector<std::uint8_t>>(
              static_cast<std::size_t>(*rc::gen::inRange(1, 4)), fam->gen_row_class(ctx));
          c.weight_class = *fam->gen_weight_class(ctx);
          c.injections = *gen_injections(o.specials);
          c.seed = *rc::gen::noShrink(rc::gen::arbitrary<std::uint64_t>());
          return c;
        }));
  });
}

}  // namespace kc::props
