// The subject registry.
#include "kc/props/subject.h"

#include "kc/props/family.h"

namespace kc::props {
namespace {

std::vector<std::unique_ptr<Subject>>& registry() {
  static std::vector<std::unique_ptr<Subject>> r;
  return r;
}

}  // namespace

SizeClaims Subject::claims() const {
  const Family* f = family_for(op());
  return f != nullptr ? f->claims(op()) : SizeClaims{};
}

void register_subject(std::unique_ptr<Subject> s) { registry().push_back(std::move(s)); }
const std::vector<std::unique_ptr<Subject>>& subjects() { return registry(); }

const Subject* find_subject(const std::string& name) {
  for (const auto& s : registry()) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

SubjectRegistrar::SubjectRegistrar(std::function<std::unique_ptr<Subject>()> make) {
  register_subject(make());
}

}  // namespace kc::props
