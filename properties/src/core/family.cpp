// The family registry and the Family interface's defaults (family.h).
#include "kc/props/family.h"

#include <cstring>

namespace kc::props {
namespace {

std::vector<std::unique_ptr<Family>>& registry() {
  static std::vector<std::unique_ptr<Family>> r;
  return r;
}

// One of several class indices, picked with the table's weights; shrinks toward class 0.
rc::Gen<std::uint8_t> weighted_class(const std::vector<ClassInfo>& table) {
  std::vector<std::uint8_t> pool;
  for (std::size_t k = 0; k < table.size(); ++k) {
    for (int w = 0; w < table[k].weight; ++w) pool.push_back(static_cast<std::uint8_t>(k));
  }
  if (pool.empty()) return rc::gen::just<std::uint8_t>(0);
  return rc::gen::elementOf(pool);
}

}  // namespace

int tensor_index(const OpSpec& op, const char* name) {
  for (std::size_t i = 0; i < op.tensors.size(); ++i) {
    if (std::strcmp(op.tensors[i].name, name) == 0) return static_cast<int>(i);
  }
  return -1;
}

ElementType Family::element_type(const Case& c, int t) const {
  const OpSpec* op = find_op(c.op);
  return op != nullptr ? op->tensors[static_cast<std::size_t>(t)].type : ElementType::kCaseDtype;
}

rc::Gen<std::uint8_t> Family::gen_row_class(const GenContext&) const {
  return weighted_class(row_classes());
}

rc::Gen<std::uint8_t> Family::gen_weight_class(const GenContext&) const {
  return weighted_class(weight_classes());
}

Status Family::validate(const Case& c) const {
  const OpSpec* op = find_op(c.op);
  if (op == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  "op '" + c.op + "' is not an op of the " + name() + " family");
  }
  bool known = false;
  for (const std::string& p : op->profiles) known = known || p == c.profile;
  if (!known) {
    return Status(StatusCode::kInvalidArgument,
                  "profile '" + c.profile + "' is not a profile of op " + c.op);
  }
  if (c.tensors.size() != op->tensors.size()) {
    return Status(StatusCode::kInvalidArgument,
                  "op " + c.op + " has " + std::to_string(op->tensors.size()) +
                      " tensors, the case lays out " + std::to_string(c.tensors.size()));
  }
  for (const ParamSpec& ps : params()) {
    const Param* p = c.find_param(ps.name);
    if (p == nullptr || p->kind != ps.kind) {
      return Status(StatusCode::kInvalidArgument, std::string("parameter '") + ps.name +
                                                      "' of the " + name() +
                                                      " family is missing or of the wrong kind");
    }
  }
  if (c.params.size() != params().size()) {
    return Status(StatusCode::kInvalidArgument,
                  "the case has parameters the " + name() + " family does not define");
  }
  for (std::uint8_t k : c.row_classes) {
    if (k >= row_classes().size()) {
      return Status(
          StatusCode::kInvalidArgument,
          "row class index " + std::to_string(k) + " is not a class of the " + name() + " family");
    }
  }
  if (c.weight_class >= weight_classes().size()) {
    return Status(StatusCode::kInvalidArgument, "weight class index " +
                                                    std::to_string(c.weight_class) +
                                                    " is not a class of the " + name() + " family");
  }
  return Status::ok();
}

void Family::copy_row(const Case& c, const CaseBuffers& src, std::int64_t from, CaseBuffers& dst,
                      std::int64_t to) const {
  const OpSpec& op = *find_op(c.op);
  for (std::size_t t = 0; t < op.tensors.size(); ++t) {
    if (op.tensors[t].output() || !op.tensors[t].rows) continue;
    const HostTensor& a = src.tensor(static_cast<int>(t));
    HostTensor& b = dst.tensor(static_cast<int>(t));
    for (std::int64_t i = 0; i < a.cols; ++i) b.set_any(to, i, a.get_any(from, i));
  }
}

const OpSpec* Family::find_op(const std::string& op) const {
  for (const OpSpec& o : ops()) {
    if (o.name == op) return &o;
  }
  return nullptr;
}

void register_family(std::unique_ptr<Family> f) { registry().push_back(std::move(f)); }
const std::vector<std::unique_ptr<Family>>& families() { return registry(); }

const Family* family_for(const std::string& op) {
  for (const auto& f : registry()) {
    if (f->find_op(op) != nullptr) return f.get();
  }
  return nullptr;
}

const OpSpec* find_op(const std::string& op) {
  const Family* f = family_for(op);
  return f != nullptr ? f->find_op(op) : nullptr;
}

bool find_profile(const std::string& profile, const Family** family, const OpSpec** op) {
  for (const auto& f : registry()) {
    for (const OpSpec& o : f->ops()) {
      for (const std::string& p : o.profiles) {
        if (p == profile) {
          if (family != nullptr) *family = f.get();
          if (op != nullptr) *op = &o;
          return true;
        }
      }
    }
  }
  return false;
}

std::vector<results::FamilyReport> family_reports() {
  std::vector<results::FamilyReport> out;
  for (const auto& f : registry()) out.push_back(f->report());
  return out;
}

}  // namespace kc::props
