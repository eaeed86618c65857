// Case generators (generators.h).
#include "kc/props/generators.h"

#include <algorithm>
#include <vector>

#include "kc/props/family.h"

namespace kc::props {

rc::Gen<std::int64_t> gen_tokens(std::int64_t token_elements, std::int64_t max_elements,
                                 bool empty) {
  const std::int64_t most =
      std::max<std::int64_t>(1, max_elements / std::max<std::int64_t>(token_elements, 1));
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
  return rc::gen::withSize([=](int size) {
    // The size scales the family's caps only: every structural choice below is drawn at
    // RapidCheck's nominal size, because its integer generators shrink their ranges at small
    // sizes (which would pick the first option of every choice in early cases).
    return rc::gen::resize(
        100, rc::gen::exec([=] {
          const OpSpec& op = *fam->find_op(op_name);
          GenContext ctx;
          ctx.subject = subject;
          ctx.op = op_name;
          ctx.profile = profile;
          ctx.size = size;
          ctx.max_elements = o.max_elements;
          ctx.unsupported = o.unsupported;
          ctx.specials = o.specials;
          Case c;
          c.op = op_name;
          c.profile = profile;
          c.dtype = *rc::gen::elementOf(dtypes);
          c.params = *fam->gen_params(ctx);
          c.num_tokens = *gen_tokens(fam->token_elements(c), o.max_elements, o.empty_batches);
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
