// Running a subject on a case's buffers: host subjects on the host arenas, GPU subjects on device
// copies of them (copied back afterwards), optionally under stream capture and graph replay.
#pragma once

#include <string>
#include <vector>

#include "kc/kernels/status.h"
#include "kc/props/buffers.h"
#include "kc/props/case.h"
#include "kc/props/subject.h"

namespace kc::props {

struct RunOutcome {
  Status status;
  std::string cuda_error;     // a CUDA error seen during or after the run ("" when none)
  bool context_lost = false;  // the error was sticky: this process's CUDA context is gone
  long graph_nodes = -1;      // nodes captured, when run under stream capture
  std::string infra_error;    // the harness itself failed (allocation, copies)
  // Bytes changed in the device canary zones around the arenas ("output@byte70000").
  std::vector<std::string> zone_damage;
};

// null_pointers: pass nullptr for every tensor (empty batches). graph: run under stream capture
// and replay the captured graph (GPU subjects).
RunOutcome execute(const Subject& s, const Case& c, CaseBuffers& b, bool null_pointers = false,
                   bool graph = false);

// "harness: ...", "CUDA error after the run: ..." or "wrote outside its tensors: ..." (device
// canary zones); "" when the run had none of these.
std::string run_problem(const RunOutcome& r);

}  // namespace kc::props
