// The properties (property.h): each one case, generic over families and subjects.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>

#include "compare.h"
#include "kc/props/family.h"
#include "kc/props/generators.h"
#include "kc/props/property.h"
#include "run.h"

namespace kc::props {
namespace {

const char* const kNames[] = {"bounded_error", "twin_bitwise",     "batch_invariant",
                              "deterministic", "layout_invariant", "support_agrees",
                              "empty_batch",   "special_values"};

Verdict fail(std::string msg) {
  Verdict v;
  v.kind = Verdict::Kind::kFail;
  v.message = std::move(msg);
  return v;
}
Verdict not_applicable(std::string why) {
  Verdict v;
  v.kind = Verdict::Kind::kNotApplicable;
  v.message = std::move(why);
  return v;
}

Verdict compare_with_profile(const Subject& s, const Case& c, const std::string& judged,
                             Expectation::Mode mode) {
  const Status st = s.check(c);
  if (!st.is_ok()) return not_applicable("unsupported: " + st.message());
  if (c.num_tokens == 0) return not_applicable("empty batch");
  const Family* fam = family_for(c.op);
  if (fam == nullptr) return not_applicable("no family for op " + c.op);
  const OpSpec& op = *fam->find_op(c.op);
  CaseBuffers b = materialize(c);
  Case as_judged = c;
  if (!judged.empty()) as_judged.profile = judged;
  const std::unique_ptr<Expectation> want = fam->expect(as_judged, b);
  if (mode == Expectation::Mode::kSpecial && !want->has_special()) {
    return not_applicable("no special values in the case");
  }
  const RunOutcome r = execute(s, c, b);
  if (const std::string p = run_problem(r); !p.empty()) return fail(p);
  if (!r.status.is_ok()) {
    return fail("the check accepted the case but the run failed: " + r.status.to_string());
  }
  const std::vector<std::string> damage = canary_damage(op, b);
  if (!damage.empty()) return fail("wrote outside its tensors: " + damage.front());
  Verdict v;
  want->compare(s, b, mode, &v);
  return v;
}

Verdict twin_bitwise(const Subject& s, const Case& c) {
  const Subject* twin = find_subject(s.twin());
  if (twin == nullptr) return not_applicable("no twin subject '" + s.twin() + "'");
  const Status st = s.check(c);
  if (!st.is_ok()) return not_applicable("unsupported: " + st.message());
  const OpSpec& op = *find_op(c.op);
  CaseBuffers g = materialize(c);
  CaseBuffers h = g;
  const RunOutcome rg = execute(s, c, g);
  if (const std::string p = run_problem(rg); !p.empty()) return fail(p);
  const RunOutcome rh = execute(*twin, c, h);
  if (rg.status.code() != rh.status.code()) {
    return fail("GPU status " + rg.status.to_string() + " but twin status " +
                rh.status.to_string());
  }
  const std::string d = first_difference(op, c, h, g, "twin", "gpu");
  if (!d.empty()) return fail("GPU and twin differ: " + d);
  return Verdict{};
}

Verdict deterministic(const Subject& s, const Case& c) {
  if (!s.check(c).is_ok()) return not_applicable("unsupported");
  const OpSpec& op = *find_op(c.op);
  CaseBuffers a = materialize(c);
  CaseBuffers b = a;
  const RunOutcome ra = execute(s, c, a);
  if (const std::string p = run_problem(ra); !p.empty()) return fail(p);
  const RunOutcome rb = execute(s, c, b);
  if (const std::string p = run_problem(rb); !p.empty()) return fail(p);
  if (std::string d = first_difference(op, c, a, b, "first run", "second run"); !d.empty()) {
    return fail("two runs differ: " + d);
  }
  if (s.backend() == Backend::kGpu) {
    CaseBuffers g = materialize(c);
    const RunOutcome rg = execute(s, c, g, false, true);
    if (const std::string p = run_problem(rg); !p.empty()) return fail("under graph capture: " + p);
    if (std::string d = first_difference(op, c, a, g, "stream run", "graph replay"); !d.empty()) {
      return fail("graph replay differs from a stream run: " + d);
    }
  }
  return Verdict{};
}

// The resized batch of batch_invariant (scripts/calibration_limits.py mirrors this): one of eight
// choices, uniform from the case's seed:
//   1 token; N + 1; 2N + 3; 257; 133 (the launch-heuristic edges);
//   a power of two straddled: 2^e or 2^e + 1 when N < 2^e, else 2^e - 1, e uniform in
//     [1, floor(log2 cap)];
//   (twice) the largest: 2^E + 1 with E = floor(log2 cap) (2^E where 2^E + 1 exceeds cap),
//     which crosses every power-of-two threshold between N and it;
// all but 1 and N + 1 at most `cap`: the subject's claimed max_tokens, kResizeMaxTokens and
// kResizeElements / token_elements (batches of rows up to 32 elements reach 2^18 tokens, rows of
// 1024 elements 4096 tokens: the low thousands where launch heuristics switch). Equal to N:
// N + 1. The resized batch's rows beyond the first kResizeDistinctRows repeat them, so its cost
// is copies, not data generation.
constexpr std::int64_t kResizeElements = std::int64_t{1} << 22;
constexpr std::int64_t kResizeMaxTokens = std::int64_t{1} << 18;
// The resized batch's fresh rows: up to 64, and up to kResizeFreshElements elements (a case's
// worth of generated data); the other rows repeat them (materialize, distinct_rows).
constexpr std::int64_t kResizeDistinctRows = 64;
constexpr std::int64_t kResizeFreshElements = std::int64_t{1} << 16;

std::int64_t resized_tokens(std::int64_t n, std::int64_t cap, std::mt19937_64& rng) {
  int top = 0;
  while (top < 62 && (std::int64_t{1} << (top + 1)) <= cap) ++top;
  const std::int64_t largest =
      (std::int64_t{1} << top) + 1 <= cap ? (std::int64_t{1} << top) + 1 : std::int64_t{1} << top;
  std::int64_t m = n + 1;
  switch (rng() % 8) {
    case 0:
      m = 1;
      break;
    case 1:
      m = n + 1;
      break;
    case 2:
      m = std::min(2 * n + 3, cap);
      break;
    case 3:
      m = std::min<std::int64_t>(257, cap);
      break;
    case 4:
      m = std::min<std::int64_t>(133, cap);
      break;
    case 5:
      if (top >= 1) {
        const std::int64_t p = std::int64_t{1} << (1 + static_cast<int>(rng() % top));
        m = n < p ? std::min(p + static_cast<std::int64_t>(rng() % 2), cap) : p - 1;
      }
      break;
    default:
      m = largest;
      break;
  }
  return m == n ? n + 1 : std::max<std::int64_t>(m, 1);
}

Verdict batch_invariant(const Subject& s, const Case& c) {
  if (c.num_tokens == 0 || !s.check(c).is_ok()) return not_applicable("unsupported or empty");
  const Family* fam = family_for(c.op);
  if (fam == nullptr) return not_applicable("no family for op " + c.op);
  const OpSpec& op = *fam->find_op(c.op);
  std::mt19937_64 rng(c.seed ^ 0x6261746368ull);
  const std::int64_t row =
      static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(c.num_tokens));
  // The second batch: another size (crossing launch heuristics and powers of two), other
  // neighbours, the row at another position.
  Case d = c;
  const std::int64_t cap = std::max<std::int64_t>(
      1, std::min({claimed_max_tokens(s.claims()), kResizeMaxTokens,
                   kResizeElements / std::max<std::int64_t>(fam->token_elements(c), 1)}));
  d.num_tokens = resized_tokens(c.num_tokens, cap, rng);
  d.seed = c.seed ^ 0x9e3779b97f4a7c15ull;
  if (!s.check(d).is_ok()) return not_applicable("the resized batch is unsupported");
  const std::int64_t at =
      static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(d.num_tokens));
  CaseBuffers a = materialize(c);
  CaseBuffers b = materialize(
      d,
      std::max<std::int64_t>(
          2, std::min(kResizeDistinctRows,
                      kResizeFreshElements / std::max<std::int64_t>(fam->token_elements(c), 1))));
  fam->copy_row(c, a, row, b, at);
  // Everything but the batch stays: the one-row inputs (weights) are the first batch's.
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (op.tensors[t].output() || op.tensors[t].rows) continue;
    const HostTensor& from = a.tensor(static_cast<int>(t));
    HostTensor& to = b.tensor(static_cast<int>(t));
    for (std::int64_t i = 0; i < from.cols; ++i) to.set_any(0, i, from.get_any(0, i));
  }
  const RunOutcome ra = execute(s, c, a);
  if (const std::string p = run_problem(ra); !p.empty()) return fail(p);
  const RunOutcome rb = execute(s, d, b);
  if (const std::string p = run_problem(rb); !p.empty()) return fail(p);
  if (!ra.status.is_ok() || !rb.status.is_ok()) {
    return fail("run failed: " + ra.status.to_string() + " / " + rb.status.to_string());
  }
  const std::string diff = compare_output_rows(op, c, a, row, d, b, at);
  if (!diff.empty()) {
    return fail("row " + std::to_string(row) + " of " + std::to_string(c.num_tokens) +
                " tokens changed when run as row " + std::to_string(at) + " of " +
                std::to_string(d.num_tokens) + ": " + diff);
  }
  return Verdict{};
}

Verdict layout_invariant(const Subject& s, const Case& c) {
  if (c.num_tokens == 0 || !s.check(c).is_ok()) return not_applicable("unsupported or empty");
  const Family& fam = *family_for(c.op);
  const OpSpec& op = *fam.find_op(c.op);
  // The same rows in another layout: padding toggled (3 elements), offset toggled (0 <-> 1) and
  // in place flipped. Where the subject does not support that, the first of these that it does
  // (a subject that works only in place, or on aligned rows, still has layouts to compare):
  // in place kept; then offsets moved by 8 elements instead of 1 and padding by 8 instead of 3.
  auto other = [&](bool flip_in_place, std::int64_t shift) {
    Case d = c;
    for (std::size_t t = 0; t < d.tensors.size(); ++t) {
      const std::int64_t cols = fam.columns(c, static_cast<int>(t));
      const bool packed = op.tensors[t].stride == RowStride::kPacked;
      d.tensors[t].row_stride = cols + (c.tensors[t].row_stride == cols && !packed ? shift : 0);
      d.tensors[t].offset = c.tensors[t].offset == 0 ? shift == 3 ? 1 : shift : 0;
      d.tensors[t].in_place = op.tensors[t].output() && op.tensors[t].alias_of >= 0 &&
                              (flip_in_place != c.tensors[t].in_place);
    }
    return d;
  };
  Case d = other(true, 3);
  if (!s.check(d).is_ok()) d = other(false, 3);
  if (!s.check(d).is_ok()) d = other(false, 8);
  if (!s.check(d).is_ok()) return not_applicable("no other layout is supported");
  CaseBuffers a = materialize(c);
  CaseBuffers b = materialize(d);
  const RunOutcome ra = execute(s, c, a);
  if (const std::string p = run_problem(ra); !p.empty()) return fail(p);
  const RunOutcome rb = execute(s, d, b);
  if (const std::string p = run_problem(rb); !p.empty()) return fail(p);
  if (!ra.status.is_ok() || !rb.status.is_ok()) {
    return fail("run failed: " + ra.status.to_string() + " / " + rb.status.to_string());
  }
  for (std::int64_t r = 0; r < c.num_tokens; ++r) {
    const std::string diff = compare_output_rows(op, c, a, r, d, b, r);
    if (!diff.empty()) return fail("another layout changed the bits: " + diff);
  }
  return Verdict{};
}

Verdict support_agrees(const Subject& s, const Case& c) {
  const Family& fam = *family_for(c.op);
  const OpSpec& op = *fam.find_op(c.op);
  const Status st = s.check(c);
  // Unsupported cases may describe huge tensors (hidden far beyond any kernel, strides below the
  // row): only those whose arenas are reasonable are materialised.
  double elements = 0;
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    const double rows = op.tensors[t].rows ? static_cast<double>(c.num_tokens) : 1.0;
    const double cols = static_cast<double>(fam.columns(c, static_cast<int>(t)));
    elements += rows * std::max(static_cast<double>(c.tensors[t].row_stride), cols) + cols;
  }
  if (elements > 0x1p24) return not_applicable("too large to materialise");
  CaseBuffers b = materialize(c);
  const CaseBuffers before = b;
  const RunOutcome r = execute(s, c, b);
  if (!r.infra_error.empty()) return fail("harness: " + r.infra_error);
  if (!r.zone_damage.empty()) return fail(run_problem(r));
  if (st.is_ok()) {
    if (!r.status.is_ok()) return fail("check accepted but run returned " + r.status.to_string());
    if (!r.cuda_error.empty()) {
      return fail("a CUDA error is pending after the run: " + r.cuda_error);
    }
    const std::vector<std::string> damage = canary_damage(op, b);
    if (!damage.empty()) return fail("wrote outside its tensors: " + damage.front());
    if (const std::int64_t n = unwritten_elements(op, c, b); n > 0) {
      return fail(std::to_string(n) + " output elements were never written (still poison)");
    }
    if (const std::string ch = changed_inputs(op, c, before, b); !ch.empty()) return fail(ch);
    return Verdict{};
  }
  if (r.status.is_ok()) return fail("check rejected (" + st.to_string() + ") but run succeeded");
  if (r.status.code() != st.code()) {
    return fail("check said " + st.to_string() + " but run said " + r.status.to_string());
  }
  if (!r.cuda_error.empty()) return fail("a rejected call left a CUDA error: " + r.cuda_error);
  if (std::string d = first_difference(op, c, before, b, "before", "after"); !d.empty()) {
    return fail("a rejected call changed memory: " + d);
  }
  return Verdict{};
}

Verdict empty_batch(const Subject& s, const Case& c0) {
  Case c = c0;
  c.num_tokens = 0;
  c.injections.clear();
  if (!s.check(c).is_ok()) return not_applicable("the shape is unsupported even when empty");
  const OpSpec& op = *find_op(c.op);
  CaseBuffers b = materialize(c);
  const CaseBuffers before = b;
  const RunOutcome r =
      execute(s, c, b, /*null_pointers=*/true, /*graph=*/s.backend() == Backend::kGpu);
  if (const std::string p = run_problem(r); !p.empty()) return fail(p);
  if (!r.status.is_ok()) return fail("num_tokens == 0 returned " + r.status.to_string());
  if (r.graph_nodes > 0) {
    return fail("num_tokens == 0 launched work: " + std::to_string(r.graph_nodes) + " graph nodes");
  }
  if (std::string d = first_difference(op, c, before, b, "before", "after"); !d.empty()) {
    return fail("num_tokens == 0 changed memory: " + d);
  }
  return Verdict{};
}

}  // namespace

const char* property_name(PropertyId p) {
  const auto i = static_cast<std::size_t>(p);
  return i < std::size(kNames) ? kNames[i] : "?";
}

bool property_from_name(const std::string& name, PropertyId* out) {
  for (int i = 0; i < kPropertyCount; ++i) {
    if (name == kNames[i]) {
      *out = static_cast<PropertyId>(i);
      return true;
    }
  }
  return false;
}

bool property_applies(PropertyId p, const Subject& s, std::string* why) {
  const Promises pr = s.promises();
  switch (p) {
    case PropertyId::kTwinBitwise:
      if (s.backend() != Backend::kGpu || s.twin().empty()) {
        *why = "only GPU subjects with a twin promise bitwise equality";
        return false;
      }
      return true;
    case PropertyId::kBatchInvariant:
      if (!pr.batch_invariant) *why = "the subject does not promise batch invariance";
      return pr.batch_invariant;
    case PropertyId::kDeterministic:
      if (!pr.deterministic) *why = "the subject does not promise determinism";
      return pr.deterministic;
    case PropertyId::kLayoutInvariant:
      if (!pr.layout_invariant) *why = "the subject does not promise layout invariance";
      return pr.layout_invariant;
    case PropertyId::kEmptyBatch:
      if (!pr.empty_batch) *why = "the subject does not promise that num_tokens == 0 is a no-op";
      return pr.empty_batch;
    default:
      return true;
  }
}

Verdict run_property(PropertyId p, const Subject& s, const Case& c, const std::string& judged) {
  std::string why;
  if (!property_applies(p, s, &why)) return not_applicable(why);
  if (find_op(c.op) == nullptr) return not_applicable("no family defines op " + c.op);
  switch (p) {
    case PropertyId::kBoundedError:
      return compare_with_profile(s, c, judged, Expectation::Mode::kBounded);
    case PropertyId::kSpecialValues:
      return compare_with_profile(s, c, judged, Expectation::Mode::kSpecial);
    case PropertyId::kTwinBitwise:
      return twin_bitwise(s, c);
    case PropertyId::kBatchInvariant:
      return batch_invariant(s, c);
    case PropertyId::kDeterministic:
      return deterministic(s, c);
    case PropertyId::kLayoutInvariant:
      return layout_invariant(s, c);
    case PropertyId::kSupportAgrees:
      return support_agrees(s, c);
    case PropertyId::kEmptyBatch:
      return empty_batch(s, c);
    case PropertyId::kCount:
      break;
  }
  return not_applicable("unknown property");
}

std::string describe_failure(const Subject& s, PropertyId p, const Case& c, const Verdict& v) {
  std::ostringstream os;
  os << property_name(p) << " FAILED for " << s.name() << " (claims " << s.profile() << ")\n"
     << "  case: " << describe(c) << "\n  " << v.message << "\n";
  const ElementReport& w = v.worst;
  if (w.row >= 0) {
    os << "  worst element: " << w.tensor << "[" << w.row << ", " << w.col << "]\n"
       << "    expected exact   " << w.expected_exact << "\n"
       << "    expected rounded " << w.expected_rounded << "\n"
       << "    observed         " << w.observed << "\n"
       << "    ulp error " << w.ulp_error << " vs bound " << w.bound << " (admissible "
       << w.admissible << ")\n";
  }
  return os.str();
}

}  // namespace kc::props
