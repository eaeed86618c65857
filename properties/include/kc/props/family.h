// Op families as the harness sees them (DESIGN.md section 3). A family provides its ops and
// their profiles (one table), each op's tensors, its own case parameters and their generator,
// the value filling of its tensors, the reference evaluation and the comparison against a
// subject's bound, the precision bucket of a case, and its report description. The harness core
// (cases, buffers, properties, shrinking, repros, the command line) uses only this interface:
// adding a family is new files plus one registration line per folder.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kc/kernels/status.h"
#include "kc/props/buffers.h"
#include "kc/props/case.h"
#include "kc/props/subject.h"
#include "kc/results/family_report.h"

namespace kc::props {

class Subject;
struct Verdict;

enum class TensorRole : std::uint8_t {
  kInput,   // read by the op (rows or a single row); special values may be injected
  kWeight,  // read by the op, one row (a weight vector); special values may be injected
  kIndex,   // read by the op, integers (positions); never injected
  kOutput,  // written by the op; poisoned before a run
};

enum class ElementType : std::uint8_t {
  kCaseDtype,  // the case's fp32 / fp16 / bf16
  kInt32,
  kInt64,
};

// How a row tensor's rows lie in memory: any row stride >= the columns (generated padded or
// not, toggled by layout_invariant), or packed (the stride is always the column count: an index
// vector a kernel reads as a flat array, such as one position a token).
enum class RowStride : std::uint8_t { kAny, kPacked };

struct TensorSpec {
  const char* name;
  TensorRole role = TensorRole::kInput;
  ElementType type = ElementType::kCaseDtype;
  int alias_of = -1;  // outputs: the input it may alias exactly (in place), or -1
  bool rows = true;   // num_tokens rows; false: a single row (a weight vector)
  RowStride stride = RowStride::kAny;

  bool output() const { return role == TensorRole::kOutput; }
  bool injectable() const { return role == TensorRole::kInput || role == TensorRole::kWeight; }
};

struct OpSpec {
  std::string name;
  std::vector<TensorSpec> tensors;
  std::vector<std::string> profiles;  // every profile of the op the reference evaluates
};

// Index of the tensor named `name` in op.tensors, or -1.
int tensor_index(const OpSpec& op, const char* name);

// A value class of the family's tables: its name (repros store names) and its weight in the
// generator (0: drawn only where a family asks for it explicitly).
struct ClassInfo {
  const char* name;
  int weight;
};

// Declared parameters of a family: name and kind (repros are validated against them).
struct ParamSpec {
  const char* name;
  ParamKind kind;
};

// What the core tells a family's parameter generator.
struct GenContext {
  const Subject* subject = nullptr;
  std::string op;
  std::string profile;
  int size = 100;                                     // RapidCheck's size, 0..100: scales caps
  std::int64_t max_elements = std::int64_t{1} << 16;  // of a whole case (tokens x row elements)
  // The most elements one token may cost (Family::token_elements): a big batch drawn first
  // (generators.h) leaves small rows; otherwise no limit (a single token may exceed
  // max_elements: the element cap is then spent on one row, so the largest claimed rows are
  // reached). A family keeps its parameters within it where it can.
  std::int64_t max_token_elements = std::int64_t{1} << 62;
  SizeClaims claims;        // the subject's (Subject::claims)
  bool unsupported = true;  // sometimes parameters outside every subject's support
  bool specials = false;    // bias toward special values (overflow, NaN/inf rows)
};

// Expected results of one case, built from its inputs before a run.
class Expectation {
 public:
  virtual ~Expectation() = default;
  // kBounded: elements within the subject's bound of the (claimed or judged) profile; kSpecial:
  // elements whose outputs IEEE rules fix exactly (NaN, infinities, ...) must match the profile.
  enum class Mode : std::uint8_t { kBounded, kSpecial };
  virtual void compare(const Subject& s, const CaseBuffers& after, Mode mode, Verdict* v) const = 0;
  // Whether the case holds any element the special-value rules decide.
  virtual bool has_special() const = 0;
};

class Family {
 public:
  virtual ~Family() = default;
  virtual std::string name() const = 0;  // the stem used in every folder: "rmsnorm"
  virtual const std::vector<OpSpec>& ops() const = 0;
  virtual std::vector<ParamSpec> params() const = 0;

  // ---- generation and data
  // The largest sizes the family's kernels support for an op (what a subject claims unless it
  // says otherwise, Subject::claims): the generators reach them.
  virtual SizeClaims claims(const std::string& op) const {
    (void)op;
    return {};
  }
  // The family's parameters of a case (for ctx.op and ctx.profile), in params() order, reaching
  // ctx.claims' maxima and keeping token_elements within ctx.max_token_elements where possible.
  virtual rc::Gen<std::vector<Param>> gen_params(const GenContext& ctx) const = 0;
  // Columns (elements per row) of tensor t of the case.
  virtual std::int64_t columns(const Case& c, int t) const = 0;
  // Element type of tensor t (default: its TensorSpec's, the case dtype for kCaseDtype).
  virtual ElementType element_type(const Case& c, int t) const;
  // Elements one token costs the reference (the core keeps tokens x this under max_elements).
  virtual std::int64_t token_elements(const Case& c) const { return columns(c, 0); }
  // Value classes of row tensors and of one-row tensors; and which to draw.
  virtual const std::vector<ClassInfo>& row_classes() const = 0;
  virtual const std::vector<ClassInfo>& weight_classes() const = 0;
  virtual rc::Gen<std::uint8_t> gen_row_class(const GenContext& ctx) const;
  virtual rc::Gen<std::uint8_t> gen_weight_class(const GenContext& ctx) const;
  // Bits of row `row` of input tensor t (cols elements), drawn from `rng`.
  virtual void fill(const Case& c, int t, std::int64_t row, DataRng& rng,
                    std::vector<std::uint64_t>& bits) const = 0;
  // Whether the case's parameters are ones this family defines (a repro is validated by it):
  // every declared parameter present with its kind, op and profile known. Not whether any
  // subject supports the case.
  virtual Status validate(const Case& c) const;

  // ---- reference and comparison
  virtual std::unique_ptr<Expectation> expect(const Case& c, const CaseBuffers& before) const = 0;
  // Copies logical input row `from` of every row tensor that is not an output (src) into row
  // `to` of dst (batch_invariant). Default: element by element, every such tensor.
  virtual void copy_row(const Case& c, const CaseBuffers& src, std::int64_t from, CaseBuffers& dst,
                        std::int64_t to) const;
  // The precision bucket of a case ("hidden<=1024"): statistics are kept per (dtype, bucket).
  virtual std::string bucket(const Case& c) const = 0;
  // Rules a subject's bound may name (BoundSpec::rules), each a documented way the family's
  // comparison widens what it admits (e.g. "flush_to_zero").
  virtual std::vector<std::string> bound_rules() const { return {}; }
  // How many times the base case count (budget_for: 120 quick, 2000 soak) the reference
  // properties (bounded_error, special_values) run for this family's subjects: what the cost of
  // the family's reference comparison affords in about the base count's time (the norm family
  // compares on a certified fast path and affords 10). Default 1.
  virtual int reference_budget_scale() const { return 1; }

  // ---- reports
  virtual results::FamilyReport report() const = 0;

  // ---- helpers for the core
  const OpSpec* find_op(const std::string& op) const;
};

// The registry: families register at static-initialisation time.
void register_family(std::unique_ptr<Family> f);
const std::vector<std::unique_ptr<Family>>& families();
// The family of an op, or nullptr; the op's spec, or nullptr.
const Family* family_for(const std::string& op);
const OpSpec* find_op(const std::string& op);
// The family whose table holds a profile, and its op (false when no family has it).
bool find_profile(const std::string& profile, const Family** family, const OpSpec** op);
// Every family's report description.
std::vector<results::FamilyReport> family_reports();

struct FamilyRegistrar {
  explicit FamilyRegistrar(std::unique_ptr<Family> f) { register_family(std::move(f)); }
};

#define KC_FAMILY_CONCAT2(a, b) a##b
#define KC_FAMILY_CONCAT(a, b) KC_FAMILY_CONCAT2(a, b)
// KC_REGISTER_FAMILY(expression returning std::unique_ptr<Family>);
#define KC_REGISTER_FAMILY(...) \
  static const ::kc::props::FamilyRegistrar KC_FAMILY_CONCAT(kc_family_, __COUNTER__)(__VA_ARGS__)

}  // namespace kc::props
