// Failure -> minimal repro (DESIGN.md section 8). A shrunk failing case is written as
// <op>-<property>-<hash>.json; `kconform replay FILE` runs it again. Schema: README, "Repros".
#pragma once

#include <string>

#include "kc/props/case.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"

namespace kc::props {

struct Repro {
  std::string subject;
  std::string property;
  Case c;
  std::string message;
  ElementReport failure;
};

// The case as a JSON object text, and back (false with *error on a malformed document).
std::string case_to_json(const Case& c);
bool case_from_json(const std::string& text, Case* out, std::string* error);

// Writes the repro into `dir` and returns its path ("" when it could not be written).
std::string write_repro(const std::string& dir, const Subject& s, PropertyId p, const Case& c,
                        const Verdict& v);
bool read_repro(const std::string& path, Repro* out, std::string* error);

// The replay command line printed after a failure.
std::string replay_command(const std::string& path);

}  // namespace kc::props
