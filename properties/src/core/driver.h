// The RapidCheck driver behind check_property (check.cpp), with the hooks the isolated runner
// (isolate.cpp) uses: announcing each case before it runs, and running cases elsewhere.
#pragma once

#include <functional>

#include "kc/props/check.h"

namespace kc::props {

struct DriverHooks {
  // Before a case runs. index counts the generated cases from 0; -1 for shrink candidates.
  std::function<void(const Case& c, int index)> before;
  // Runs the case instead of run_property; *ran = false: skipped (passes, not counted).
  std::function<Verdict(const Case& c, int index, bool* ran)> run;
  // After a case ran, with its verdict.
  std::function<void(const Verdict& v)> after;
};

// check_property in this process; hooks may be null.
CheckResult drive_property(PropertyId p, const Subject& s, const CheckConfig& cfg,
                           const DriverHooks* hooks);

// The isolated check_property (isolate.cpp).
CheckResult check_property_isolated(PropertyId p, const Subject& s, const CheckConfig& cfg);

}  // namespace kc::props
