#include <cstdio>
#include "cli.h"
namespace kc::cli {
int cmd_fuzz(const Args&) {
  std::fprintf(stderr, "fuzz: not built yet\n");
  return 2;
}
int cmd_bench(const Args&) {
  std::fprintf(stderr, "bench: not built yet\n");
  return 2;
}
int cmd_report(const Args&) {
  std::fprintf(stderr, "report: not built yet\n");
  return 2;
}
}  // namespace kc::cli
