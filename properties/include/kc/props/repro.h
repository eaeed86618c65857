// Failure -> minimal repro (DESIGN.md section 8). A shrunk failing case is written as
// <op>-<property>-<hash>.json; `kconform replay FILE` runs it again. Schema: README, "Repros".
// Version 2 stores the family's parameters generically ("params"); version 1 files (the norm
// family's "hidden" and "eps_bits" at the top level) are read as the same cases.
#pragma once

#include <string>

#include "kc/props/case.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"

namespace kc::props {

inline constexpr int kReproVersion = 2;

struct Repro {
  int version = kReproVersion;
  std::string subject;
  std::string property;
  Case c;
  std::string message;
  ElementReport failure;
};

// The case as a JSON object text, and back (false with *error on a malformed document or a case
// its family does not define).
std::string case_to_json(const Case& c);
bool case_from_json(const std::string& text, Case* out, std::string* error);

// Writes the repro into `dir` and returns its path ("" when it could not be written).
std::string write_repro(const std::string& dir, const Subject& s, PropertyId p, const Case& c,
                        const Verdict& v);
// Writes a repro read earlier (any version) as the current version, to `path`.
bool rewrite_repro(const Repro& r, const std::string& path, std::string* error);
bool read_repro(const std::string& path, Repro* out, std::string* error);

// The replay command line printed after a failure.
std::string replay_command(const std::string& path);

}  // namespace kc::props
