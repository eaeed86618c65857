// The properties (property.h) and the RapidCheck driver with its shrink cap and repros.
#include "kc/props/property.h"

#include <cuda_runtime.h>
#include <rapidcheck.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>

#include "kc/props/device.h"
#include "kc/props/generators.h"
#include "kc/props/repro.h"
#include "kc/props/rmsnorm_family.h"

namespace kc::props {
namespace {

const char* const kNames[] = {"bounded_error", "twin_bitwise",     "batch_invariant",
                              "deterministic", "layout_invariant", "support_agrees",
                              "empty_batch",   "special_values"};

// The built-in families, then any registered later.
std::vector<const Family*>& families() {
  static std::vector<const Family*> f = {&norm_family()};
  return f;
}

// ---- running a subject on a case's buffers ---------------------------------------------------

struct RunOutcome {
  Status status;
  std::string cuda_error;   // a CUDA error seen during or after the run ("" when none)
  long graph_nodes = -1;    // nodes captured, when run under stream capture
  std::string infra_error;  // the harness itself failed (allocation, copies)
};

cudaStream_t harness_stream() {
  thread_local cudaStream_t s = [] {
    cudaStream_t st = nullptr;
    if (cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) != cudaSuccess) {
      (void)cudaGetLastError();
      st = nullptr;
    }
    return st;
  }();
  return s;
}

// Runs the subject on `b` (host memory; GPU subjects get device copies, copied back).
// null_pointers: pass nullptr for every tensor (empty batches). graph: run under stream capture
// and replay the captured graph (GPU).
RunOutcome execute(const Subject& s, const Case& c, CaseBuffers& b, bool null_pointers = false,
                   bool graph = false) {
  RunOutcome out;
  const OpInfo& op = *find_op(c.op);
  if (s.backend() == Backend::kHost) {
    std::vector<void*> ptr = null_pointers ? std::vector<void*>(op.tensors.size(), nullptr)
                                           : host_pointers(b, op.tensors.size());
    out.status = s.run(c, ptr, nullptr);
    return out;
  }
  if (!gpu_available()) {
    out.infra_error = "no usable CUDA device";
    return out;
  }
  DeviceCase dev;
  if (!dev.upload(b, &out.infra_error)) return out;
  std::vector<void*> ptr = null_pointers ? std::vector<void*>(op.tensors.size(), nullptr)
                                         : dev.pointers(b, op.tensors.size());
  cudaStream_t stream = harness_stream();
  if (graph) {
    cudaGraph_t g = nullptr;
    if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
      out.infra_error = "cudaStreamBeginCapture failed";
      (void)cudaGetLastError();
      return out;
    }
    out.status = s.run(c, ptr, stream);
    const cudaError_t e = cudaStreamEndCapture(stream, &g);
    if (e != cudaSuccess) {
      out.cuda_error = std::string("stream capture: ") + cudaGetErrorString(e);
      (void)cudaGetLastError();
      return out;
    }
    std::size_t nodes = 0;
    cudaGraphGetNodes(g, nullptr, &nodes);
    out.graph_nodes = static_cast<long>(nodes);
    if (nodes > 0) {
      cudaGraphExec_t ex = nullptr;
      if (cudaGraphInstantiate(&ex, g, 0) == cudaSuccess) {
        cudaGraphLaunch(ex, stream);
        cudaGraphExecDestroy(ex);
      }
    }
    cudaGraphDestroy(g);
  } else {
    out.status = s.run(c, ptr, stream);
  }
  cudaError_t e = cudaStreamSynchronize(stream);
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e != cudaSuccess) out.cuda_error = cudaGetErrorString(e);
  if (!dev.download(b, &out.infra_error)) return out;
  return out;
}

// ---- comparing buffers ------------------------------------------------------------------------

bool owner(const CaseBuffers& b, std::size_t role) {
  for (std::size_t u = 0; u < role; ++u) {
    if (b.storage_of[u] == b.storage_of[role]) return false;
  }
  return true;
}

// The first byte that differs between two materialisations of the same case ("" when none).
std::string first_difference(const OpInfo& op, const Case& c, const CaseBuffers& a,
                             const CaseBuffers& b, const char* what_a, const char* what_b) {
  for (std::size_t role = 0; role < op.tensors.size(); ++role) {
    if (!owner(a, role)) continue;
    const HostTensor& x = a.tensor(static_cast<int>(role));
    const HostTensor& y = b.tensor(static_cast<int>(role));
    for (std::size_t i = 0; i < x.storage.size(); ++i) {
      if (x.storage[i] == y.storage[i]) continue;
      std::ostringstream os;
      os << op.tensors[role].name;
      if (x.is_element[i]) {
        const std::int64_t el = static_cast<std::int64_t>((i - x.begin) / x.elem);
        const std::int64_t row = el / x.stride;
        const std::int64_t col = el % x.stride;
        const std::size_t at = x.begin + static_cast<std::size_t>(row * x.stride + col) * x.elem;
        (void)at;
        const ref::Format f = format_of(c.dtype);
        os << " row " << row << " element " << col << ": " << what_a << ' '
           << ref::describe_bits(f, x.get(row, col)) << ", " << what_b << ' '
           << ref::describe_bits(f, y.get(row, col));
      } else {
        os << " padding/canary byte " << static_cast<long long>(i) - static_cast<long long>(x.begin)
           << " (relative to element 0): " << what_a << " 0x" << std::hex << int(x.storage[i])
           << ", " << what_b << " 0x" << int(y.storage[i]);
      }
      return os.str();
    }
  }
  return "";
}

// Input tensors (not aliased by an output) whose bytes changed.
std::string changed_inputs(const OpInfo& op, const Case& c, const CaseBuffers& before,
                           const CaseBuffers& after) {
  for (std::size_t role = 0; role < op.tensors.size(); ++role) {
    if (op.tensors[role].output || !owner(before, role)) continue;
    bool aliased = false;
    for (std::size_t o = 0; o < op.tensors.size(); ++o) {
      aliased = aliased || (op.tensors[o].output && c.tensors[o].in_place &&
                            op.tensors[o].own_input == static_cast<int>(role));
    }
    if (aliased) continue;
    if (before.tensor(static_cast<int>(role)).storage !=
        after.tensor(static_cast<int>(role)).storage) {
      return std::string("input tensor '") + op.tensors[role].name + "' was modified";
    }
  }
  return "";
}

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

std::string run_problem(const RunOutcome& r) {
  if (!r.infra_error.empty()) return "harness: " + r.infra_error;
  if (!r.cuda_error.empty()) return "CUDA error after the run: " + r.cuda_error;
  return "";
}

// Output rows of every output tensor equal between two runs (row ra of a, rb of b).
std::string compare_output_rows(const OpInfo& op, const Case& ca, const CaseBuffers& a,
                                std::int64_t ra, const Case& cb, const CaseBuffers& b,
                                std::int64_t rb) {
  const ref::Format f = format_of(ca.dtype);
  for (std::size_t role = 0; role < op.tensors.size(); ++role) {
    if (!op.tensors[role].output) continue;
    const HostTensor& x = a.tensor(static_cast<int>(role));
    const HostTensor& y = b.tensor(static_cast<int>(role));
    for (std::int64_t i = 0; i < ca.hidden; ++i) {
      if (x.get(ra, i) != y.get(rb, i)) {
        std::ostringstream os;
        os << op.tensors[role].name << " element " << i << ": row " << ra << " of the first run "
           << ref::describe_bits(f, x.get(ra, i)) << ", row " << rb << " of the second "
           << ref::describe_bits(f, y.get(rb, i)) << " (second case: " << describe(cb) << ")";
        return os.str();
      }
    }
  }
  return "";
}

// ---- the properties ---------------------------------------------------------------------------

Verdict reference_property(const Subject& s, const Case& c, Expectation::Mode mode) {
  const Status st = s.check(c);
  if (!st.is_ok()) return not_applicable("unsupported: " + st.message());
  if (c.num_tokens == 0) return not_applicable("empty batch");
  const Family* fam = family_for(c.op);
  if (fam == nullptr) return not_applicable("no reference family for op " + c.op);
  const OpInfo& op = *find_op(c.op);
  CaseBuffers b = materialize(op, c);
  const std::unique_ptr<Expectation> want = fam->expect(c, b);
  if (mode == Expectation::Mode::kSpecial && !want->has_special()) {
    return not_applicable("no special values in the case");
  }
  const RunOutcome r = execute(s, c, b);
  if (const std::string p = run_problem(r); !p.empty()) return fail(p);
  if (!r.status.is_ok())
    return fail("the check accepted the case but the run failed: " + r.status.to_string());
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
  const OpInfo& op = *find_op(c.op);
  CaseBuffers g = materialize(op, c);
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
  const OpInfo& op = *find_op(c.op);
  CaseBuffers a = materialize(op, c);
  CaseBuffers b = a;
  CaseBuffers g = a;
  const RunOutcome ra = execute(s, c, a);
  const RunOutcome rb = execute(s, c, b);
  if (const std::string p = run_problem(ra) + run_problem(rb); !p.empty()) return fail(p);
  if (std::string d = first_difference(op, c, a, b, "first run", "second run"); !d.empty()) {
    return fail("two runs differ: " + d);
  }
  if (s.backend() == Backend::kGpu) {
    const RunOutcome rg = execute(s, c, g, false, true);
    if (const std::string p = run_problem(rg); !p.empty()) return fail("under graph capture: " + p);
    if (std::string d = first_difference(op, c, a, g, "stream run", "graph replay"); !d.empty()) {
      return fail("graph replay differs from a stream run: " + d);
    }
  }
  return Verdict{};
}

Verdict batch_invariant(const Subject& s, const Case& c) {
  if (c.num_tokens == 0 || !s.check(c).is_ok()) return not_applicable("unsupported or empty");
  const Family* fam = family_for(c.op);
  if (fam == nullptr) return not_applicable("no family for op " + c.op);
  const OpInfo& op = *find_op(c.op);
  std::mt19937_64 rng(c.seed ^ 0x6261746368ull);
  const std::int64_t row =
      static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(c.num_tokens));
  // The second batch: another size (crossing the launch heuristics), other neighbours, the row
  // at another position.
  Case d = c;
  const std::int64_t sizes[] = {1, c.num_tokens + 1, 2 * c.num_tokens + 3, 257, 133};
  d.num_tokens = sizes[rng() % 5];
  if (d.num_tokens == c.num_tokens) d.num_tokens += 1;
  d.seed = c.seed ^ 0x9e3779b97f4a7c15ull;
  if (!s.check(d).is_ok()) return not_applicable("the resized batch is unsupported");
  const std::int64_t at =
      static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(d.num_tokens));
  CaseBuffers a = materialize(op, c);
  CaseBuffers b = materialize(op, d);
  fam->copy_input_row(c, a, row, b, at);
  // Everything but the batch stays: the weights (single-row inputs) are the first batch's.
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (op.tensors[t].output || !op.tensors[t].single_row) continue;
    for (std::int64_t i = 0; i < c.hidden; ++i) {
      b.tensor(static_cast<int>(t)).set(0, i, a.tensor(static_cast<int>(t)).get(0, i));
    }
  }
  const RunOutcome ra = execute(s, c, a);
  const RunOutcome rb = execute(s, d, b);
  if (const std::string p = run_problem(ra) + run_problem(rb); !p.empty()) return fail(p);
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
  const OpInfo& op = *find_op(c.op);
  // The same rows in another layout: padding toggled (3 elements), offset toggled (0 <-> 1) and
  // in place flipped. Where the subject does not support that, the first of these that it does
  // (a subject that works only in place, or on aligned rows, still has layouts to compare):
  // in place kept; then offsets moved by 8 elements instead of 1 and padding by 8 instead of 3.
  auto other = [&](bool flip_in_place, std::int64_t shift) {
    Case d = c;
    for (std::size_t t = 0; t < d.tensors.size(); ++t) {
      d.tensors[t].row_stride = c.hidden + (c.tensors[t].row_stride == c.hidden ? shift : 0);
      d.tensors[t].offset = c.tensors[t].offset == 0 ? shift == 3 ? 1 : shift : 0;
      d.tensors[t].in_place = op.tensors[t].output && (flip_in_place != c.tensors[t].in_place);
    }
    return d;
  };
  Case d = other(true, 3);
  if (!s.check(d).is_ok()) d = other(false, 3);
  if (!s.check(d).is_ok()) d = other(false, 8);
  if (!s.check(d).is_ok()) return not_applicable("no other layout is supported");
  CaseBuffers a = materialize(op, c);
  CaseBuffers b = materialize(op, d);
  const RunOutcome ra = execute(s, c, a);
  const RunOutcome rb = execute(s, d, b);
  if (const std::string p = run_problem(ra) + run_problem(rb); !p.empty()) return fail(p);
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
  const OpInfo& op = *find_op(c.op);
  const Status st = s.check(c);
  if (c.num_tokens > 4096 || c.hidden > (std::int64_t{1} << 17)) {
    return not_applicable("too large to materialise");
  }
  CaseBuffers b = materialize(op, c);
  const CaseBuffers before = b;
  const RunOutcome r = execute(s, c, b);
  if (!r.infra_error.empty()) return fail("harness: " + r.infra_error);
  if (st.is_ok()) {
    if (!r.status.is_ok()) return fail("check accepted but run returned " + r.status.to_string());
    if (!r.cuda_error.empty())
      return fail("a CUDA error is pending after the run: " + r.cuda_error);
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
  const OpInfo& op = *find_op(c.op);
  CaseBuffers b = materialize(op, c);
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

// ---- registry, names, budgets -------------------------------------------------------------------

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

void register_family(const Family* f) { families().push_back(f); }
const Family* family_for(const std::string& op) {
  for (const Family* f : families()) {
    if (f->handles(op)) return f;
  }
  return nullptr;
}

Budget budget_for(PropertyId p, const Subject& s, const std::string& level) {
  Budget b;
  const bool soak = level == "soak";
  const bool gpu = s.backend() == Backend::kGpu;
  // Reference-checking properties evaluate the exact profile (about a million elements per
  // second per core): they get fewer, smaller cases than the purely bitwise ones.
  const bool reference = p == PropertyId::kBoundedError || p == PropertyId::kSpecialValues;
  b.cases = soak ? 2000 : reference ? 120 : 150;
  b.max_elements = soak        ? (std::int64_t{1} << 20)
                   : reference ? (std::int64_t{1} << 15)
                               : (std::int64_t{1} << 16);
  if (gpu && !reference) b.max_elements *= 4;
  b.max_size = 100;
  b.shrink_seconds = soak ? 120 : 30;
  return b;
}

void PrecisionStats::add(double ulp, bool is_exact) {
  ++elements;
  exact += is_exact;
  max_ulp = std::max(max_ulp, ulp);
  int bin;
  if (!(ulp < 8.0)) {
    bin = kLinearBins + std::min(21, std::max(0, static_cast<int>(std::floor(std::log2(ulp))) - 3));
    if (!std::isfinite(ulp)) bin = kBins - 1;
  } else {
    bin = std::min(kLinearBins - 1, static_cast<int>(ulp * 64.0));
  }
  ++hist[static_cast<std::size_t>(bin)];
}

void PrecisionStats::merge(const PrecisionStats& o) {
  elements += o.elements;
  exact += o.exact;
  special_elements += o.special_elements;
  flushed_elements += o.flushed_elements;
  rows += o.rows;
  out_of_range_rows += o.out_of_range_rows;
  max_ulp = std::max(max_ulp, o.max_ulp);
  for (int i = 0; i < kBins; ++i)
    hist[static_cast<std::size_t>(i)] += o.hist[static_cast<std::size_t>(i)];
}

double PrecisionStats::quantile(double q) const {
  if (elements == 0) return 0;
  const auto want = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(elements)));
  std::int64_t seen = 0;
  for (int i = 0; i < kBins; ++i) {
    seen += hist[static_cast<std::size_t>(i)];
    if (seen >= want) {
      if (i < kLinearBins) return (i + 1) / 64.0;
      return std::ldexp(1.0, i - kLinearBins + 4);
    }
  }
  return max_ulp;
}

Verdict run_property(PropertyId p, const Subject& s, const Case& c) {
  std::string why;
  if (!property_applies(p, s, &why)) return not_applicable(why);
  switch (p) {
    case PropertyId::kBoundedError:
      return reference_property(s, c, Expectation::Mode::kBounded);
    case PropertyId::kSpecialValues:
      return reference_property(s, c, Expectation::Mode::kSpecial);
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

// ---- the RapidCheck driver
// ------------------------------------------------------------------------

namespace {

struct DriverState {
  using Clock = std::chrono::steady_clock;
  bool shrinking = false;
  Clock::time_point shrink_start;
  double shrink_cap = 30;
  bool capped = false;
  int cases = 0;
  int not_applicable = 0;
  std::optional<Case> last_failing;
  Verdict last_verdict;
  PrecisionStats stats;
  std::map<std::string, PrecisionStats> buckets;
  bool over() const {
    return shrinking &&
           std::chrono::duration<double>(Clock::now() - shrink_start).count() > shrink_cap;
  }
};

class Listener : public rc::detail::TestListener {
 public:
  explicit Listener(DriverState* st) : st_(st) {}
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    if (!st_->shrinking && d.result.type == rc::detail::CaseResult::Type::Failure) {
      st_->shrinking = true;
      st_->shrink_start = DriverState::Clock::now();
    }
  }
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}

 private:
  DriverState* st_;
};

std::string hidden_bucket(std::int64_t h) {
  if (h <= 0) return "hidden=0";
  if (h > 16384) return "hidden>16384";
  int b = 1;
  while ((std::int64_t{1} << b) < h) ++b;
  return "hidden<=" + std::to_string(std::int64_t{1} << b);
}

}  // namespace

CheckResult check_property(PropertyId p, const Subject& s, const CheckConfig& cfg) {
  CheckResult result;
  result.seed = cfg.seed != 0 ? cfg.seed : std::random_device{}() * 0x100000001ull + 1;
  DriverState st;
  st.shrink_cap = cfg.budget.shrink_seconds;
  GenOptions go;
  go.max_elements = cfg.budget.max_elements;
  go.specials = p == PropertyId::kSpecialValues;
  go.unsupported = p == PropertyId::kSupportAgrees || p == PropertyId::kEmptyBatch;
  // Empty batches only for subjects that promise to handle them (the empty_batch property is
  // where that promise is tested); a subject that does not is not asked for them elsewhere.
  go.empty_batches =
      p != PropertyId::kBoundedError && p != PropertyId::kSpecialValues && s.promises().empty_batch;
  const rc::Gen<Case> gen = gen_case(s, go);
  const auto start = DriverState::Clock::now();
  auto testable = [&] {
    const Case c = *gen;
    if (st.over()) {
      st.capped = true;
      return;  // past the shrink cap: every further candidate passes, the last failure stands
    }
    RC_TAG(dtype_name(c.dtype), hidden_bucket(c.hidden),
           c.num_tokens == 0     ? std::string("tokens=0")
           : c.num_tokens == 1   ? std::string("tokens=1")
           : c.num_tokens <= 128 ? std::string("tokens<=128")
                                 : std::string("tokens>128"));
    RC_CLASSIFY(!c.injections.empty(), "special values injected");
    const Verdict v = run_property(p, s, c);
    if (!st.shrinking) {
      ++st.cases;
      if (v.kind == Verdict::Kind::kNotApplicable) ++st.not_applicable;
      if (v.kind == Verdict::Kind::kPass && v.stats.rows > 0) {
        st.stats.merge(v.stats);
        st.buckets[std::string(dtype_name(c.dtype)) + " " + hidden_bucket(c.hidden)].merge(v.stats);
      }
    }
    RC_CLASSIFY(v.kind == Verdict::Kind::kNotApplicable, "not applicable");
    if (v.failed()) {
      st.last_failing = c;
      st.last_verdict = v;
      RC_FAIL(v.message);
    }
  };
  rc::detail::TestParams params;
  params.seed = result.seed;
  params.maxSuccess = cfg.budget.cases;
  params.maxSize = cfg.budget.max_size;
  params.maxDiscardRatio = 10;
  rc::detail::TestMetadata meta;
  meta.id = s.name() + "/" + property_name(p);
  meta.description = meta.id;
  Listener listener(&st);
  const rc::detail::TestResult r =
      rc::detail::checkProperty(rc::detail::toProperty(testable), meta, params, listener);
  const auto end = DriverState::Clock::now();
  result.seconds = std::chrono::duration<double>(end - start).count();
  result.cases = st.cases;
  result.not_applicable = st.not_applicable;
  result.stats = st.stats;
  result.buckets.assign(st.buckets.begin(), st.buckets.end());
  rc::detail::SuccessResult success;
  if (r.match(success)) {
    for (const auto& [tags, n] : success.distribution) {
      std::string line;
      for (const std::string& t : tags) line += (line.empty() ? "" : ", ") + t;
      result.distribution.emplace_back(line, n);
    }
    // A pass in which no case applied tested nothing: said as a failure, never as conformance.
    if (result.cases > 0 && result.not_applicable == result.cases) {
      result.passed = false;
      result.failure.kind = Verdict::Kind::kFail;
      result.failure.message = "not tested: none of the " + std::to_string(result.cases) +
                               " cases applied (each unsupported by the subject or outside the "
                               "property); this pair cannot conform vacuously";
    }
    return result;
  }
  result.passed = false;
  if (st.shrinking) {
    result.shrink_seconds = std::chrono::duration<double>(end - st.shrink_start).count();
  }
  if (st.last_failing) {
    result.counterexample = st.last_failing;
    result.failure = st.last_verdict;
    if (st.capped) result.failure.message += " [shrinking stopped at its wall-clock cap]";
    if (cfg.write_repro) {
      result.repro_path = write_repro(cfg.repro_dir, s, p, *result.counterexample, result.failure);
    }
  } else {
    rc::detail::GaveUpResult gave_up;
    rc::detail::Error err;
    if (r.match(gave_up)) result.failure.message = "gave up: " + gave_up.description;
    if (r.match(err)) result.failure.message = "RapidCheck error: " + err.description;
    result.failure.kind = Verdict::Kind::kFail;
  }
  return result;
}

}  // namespace kc::props
