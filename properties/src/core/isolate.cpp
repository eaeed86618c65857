// Isolated runs (check.h, Isolation::kChildProcess): a (subject, property) pair in a forked child,
// and single cases in fresh children.
//
// The child runs the ordinary driver (driver.h) with hooks that copy each case, before it runs,
// into a page shared with the parent (CaseMonitor), with the time it started. The parent waits
// on a pipe for the child's serialized result, watching the clock: a case running longer than
// case_seconds (or a child making no progress for that long) is killed as a hang. When the child
// ends without a result (a signal, exit() inside the subject, a hang, or a sticky CUDA error,
// after which its context cannot run another case), the parent replays the pair's RapidCheck
// search with the same seed: cases before the one that ended the child are generated but not run
// (generation is deterministic: RapidCheck draws case i from the i-th split of the seed, whatever
// the earlier outcomes); that case and every shrink candidate run each in a fresh child, so the
// crash is shrunk where it reproduces, and a crash that does not reproduce alone keeps its case.
//
// Why fork and not threads: a wild write or an abort takes down the whole process; and a CUDA
// context that hit an illegal address is unusable until its process exits. Why the parent never
// touches CUDA: a CUDA runtime initialised before fork() cannot be used in the child, so GPU
// detection itself runs in a child (device.cpp).
//
// What a crash is attributed to: SIGSEGV/SIGBUS handlers in the children look the fault address
// up in the host arenas' guard zones (buffers.h) and record "output@byte70000" in the shared page,
// on an alternate stack (a stack overflow is reported too). Results travel as a small binary
// encoding of the driver's structures: parent and child are the same executable.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "driver.h"
#include "kc/props/buffers.h"
#include "kc/props/device.h"
#include "kc/props/repro.h"

namespace kc::props {
namespace {

// ---------------------------------------------------------------- binary encoding of results

class Writer {
 public:
  template <typename T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>, "pod");
    const auto* p = reinterpret_cast<const char*>(&v);
    out_.append(p, sizeof v);
  }
  void str(const std::string& s) {
    pod(static_cast<std::uint64_t>(s.size()));
    out_.append(s);
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), n_(n) {}
  template <typename T>
  bool pod(T* v) {
    static_assert(std::is_trivially_copyable_v<T>, "pod");
    if (n_ - at_ < sizeof *v) return false;
    std::memcpy(v, p_ + at_, sizeof *v);
    at_ += sizeof *v;
    return true;
  }
  bool str(std::string* s) {
    std::uint64_t len = 0;
    if (!pod(&len) || len > n_ - at_) return false;
    s->assign(p_ + at_, static_cast<std::size_t>(len));
    at_ += static_cast<std::size_t>(len);
    return true;
  }
  // A count of elements that follow, each at least `min_bytes` long (rejects corrupt counts).
  bool count(std::size_t* n, std::size_t min_bytes) {
    std::uint64_t v = 0;
    if (!pod(&v) || v > (n_ - at_) / (min_bytes == 0 ? 1 : min_bytes)) return false;
    *n = static_cast<std::size_t>(v);
    return true;
  }

 private:
  const char* p_;
  std::size_t n_;
  std::size_t at_ = 0;
};

void put_case(Writer& w, const Case& c) {
  w.str(c.op);
  w.str(c.profile);
  w.pod(static_cast<std::uint8_t>(c.dtype));
  w.pod(c.num_tokens);
  w.pod(static_cast<std::uint64_t>(c.tensors.size()));
  for (const TensorLayout& l : c.tensors) {
    w.pod(l.row_stride);
    w.pod(l.offset);
    w.pod(static_cast<std::uint8_t>(l.in_place));
  }
  w.str(std::string(c.row_classes.begin(), c.row_classes.end()));
  w.pod(c.weight_class);
  w.pod(static_cast<std::uint64_t>(c.injections.size()));
  for (const Injection& j : c.injections) {
    w.pod(j.tensor);
    w.pod(j.row);
    w.pod(j.col);
    w.pod(static_cast<std::uint8_t>(j.kind));
  }
  w.pod(c.seed);
  w.pod(static_cast<std::uint64_t>(c.params.size()));
  for (const Param& p : c.params) {
    w.str(p.name);
    w.pod(static_cast<std::uint8_t>(p.kind));
    w.pod(p.i);
    w.pod(p.f);
  }
}

bool get_case(Reader& r, Case* c) {
  std::uint8_t b = 0;
  std::size_t n = 0;
  if (!r.str(&c->op) || !r.str(&c->profile) || !r.pod(&b)) return false;
  c->dtype = static_cast<DType>(b);
  if (!r.pod(&c->num_tokens) || !r.count(&n, 17)) return false;
  c->tensors.assign(n, {});
  for (TensorLayout& l : c->tensors) {
    if (!r.pod(&l.row_stride) || !r.pod(&l.offset) || !r.pod(&b)) return false;
    l.in_place = b != 0;
  }
  std::string classes;
  if (!r.str(&classes) || !r.pod(&c->weight_class) || !r.count(&n, 21)) return false;
  c->row_classes.assign(classes.begin(), classes.end());
  c->injections.assign(n, {});
  for (Injection& j : c->injections) {
    if (!r.pod(&j.tensor) || !r.pod(&j.row) || !r.pod(&j.col) || !r.pod(&b)) return false;
    j.kind = static_cast<Special>(b);
  }
  if (!r.pod(&c->seed) || !r.count(&n, 25)) return false;
  c->params.assign(n, {});
  for (Param& p : c->params) {
    if (!r.str(&p.name) || !r.pod(&b) || !r.pod(&p.i) || !r.pod(&p.f)) return false;
    p.kind = static_cast<ParamKind>(b);
  }
  return true;
}

void put_verdict(Writer& w, const Verdict& v) {
  w.pod(static_cast<std::uint8_t>(v.kind));
  w.str(v.message);
  const ElementReport& e = v.worst;
  w.str(e.tensor);
  w.pod(e.row);
  w.pod(e.col);
  w.str(e.expected_exact);
  w.str(e.expected_rounded);
  w.str(e.observed);
  w.str(e.admissible);
  w.pod(e.ulp_error);
  w.pod(e.bound);
  w.pod(v.stats);
}

bool get_verdict(Reader& r, Verdict* v) {
  std::uint8_t k = 0;
  ElementReport& e = v->worst;
  if (!r.pod(&k) || !r.str(&v->message) || !r.str(&e.tensor) || !r.pod(&e.row) || !r.pod(&e.col) ||
      !r.str(&e.expected_exact) || !r.str(&e.expected_rounded) || !r.str(&e.observed) ||
      !r.str(&e.admissible) || !r.pod(&e.ulp_error) || !r.pod(&e.bound) || !r.pod(&v->stats)) {
    return false;
  }
  v->kind = static_cast<Verdict::Kind>(k);
  return true;
}

std::string encode_result(const CheckResult& x) {
  Writer w;
  w.pod(static_cast<std::uint8_t>(x.passed));
  w.pod(x.cases);
  w.pod(x.not_applicable);
  w.pod(x.seconds);
  w.pod(x.shrink_seconds);
  w.pod(x.seed);
  w.pod(static_cast<std::uint8_t>(x.counterexample.has_value()));
  if (x.counterexample) put_case(w, *x.counterexample);
  put_verdict(w, x.failure);
  w.str(x.repro_path);
  w.pod(x.stats);
  w.pod(static_cast<std::uint64_t>(x.buckets.size()));
  for (const auto& [key, stats] : x.buckets) {
    w.str(key);
    w.pod(stats);
  }
  w.pod(static_cast<std::uint64_t>(x.distribution.size()));
  for (const auto& [line, n] : x.distribution) {
    w.str(line);
    w.pod(n);
  }
  w.str(x.crash);
  return w.bytes();
}

bool decode_result(const std::string& bytes, CheckResult* x) {
  Reader r(bytes.data(), bytes.size());
  std::uint8_t b = 0;
  std::size_t n = 0;
  if (!r.pod(&b)) return false;
  x->passed = b != 0;
  if (!r.pod(&x->cases) || !r.pod(&x->not_applicable) || !r.pod(&x->seconds) ||
      !r.pod(&x->shrink_seconds) || !r.pod(&x->seed) || !r.pod(&b)) {
    return false;
  }
  if (b != 0) {
    Case c;
    if (!get_case(r, &c)) return false;
    x->counterexample = c;
  }
  if (!get_verdict(r, &x->failure) || !r.str(&x->repro_path) || !r.pod(&x->stats) ||
      !r.count(&n, 8 + sizeof(PrecisionStats))) {
    return false;
  }
  x->buckets.assign(n, {});
  for (auto& [key, stats] : x->buckets) {
    if (!r.str(&key) || !r.pod(&stats)) return false;
  }
  if (!r.count(&n, 12)) return false;
  x->distribution.assign(n, {});
  for (auto& [line, count] : x->distribution) {
    if (!r.str(&line) || !r.pod(&count)) return false;
  }
  return r.str(&x->crash);
}

// ---------------------------------------------------------------- the page shared with a child

using Clock = std::chrono::steady_clock;

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

constexpr std::size_t kCaseBytes = 60000;
constexpr int kExitContextLost = 86;  // a child whose CUDA context a sticky error destroyed

struct CaseMonitor {
  std::atomic<int> running;               // 1 while a case runs
  std::atomic<long long> last_change_ns;  // a case started or ended (steady clock)
  std::atomic<int> index;                 // the running case's generated index (-1: candidate)
  std::atomic<int> generated;             // generated cases finished
  std::atomic<int> first_failure;         // generated index of the first failing case, or -1
  std::atomic<int> case_valid;            // case_bytes holds the running (or last) case
  std::atomic<std::uint32_t> case_len;
  char case_bytes[kCaseBytes];
  // Set by the fault handler.
  std::atomic<int> fault_signal;
  std::atomic<int> fault_in_guard;  // the address is in a host arena's guard zone
  std::atomic<int> fault_after;
  std::atomic<long long> fault_offset;
  std::atomic<std::uintptr_t> fault_addr;
  char fault_label[64];
  // The failure message of the case that lost the CUDA context.
  char note[512];
};

class SharedMonitor {
 public:
  SharedMonitor() {
    void* m = mmap(nullptr, sizeof(CaseMonitor), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (m != MAP_FAILED) {
      m_ = new (m) CaseMonitor();
      m_->first_failure.store(-1);
      m_->last_change_ns.store(now_ns());
    }
  }
  ~SharedMonitor() {
    if (m_ != nullptr) munmap(m_, sizeof(CaseMonitor));
  }
  SharedMonitor(const SharedMonitor&) = delete;
  SharedMonitor& operator=(const SharedMonitor&) = delete;
  CaseMonitor* get() const { return m_; }

 private:
  CaseMonitor* m_ = nullptr;
};

CaseMonitor* g_monitor = nullptr;  // the child's, for its fault handler

void begin_case(CaseMonitor* m, const Case& c, int index) {
  Writer w;
  put_case(w, c);
  m->case_valid.store(0);
  if (w.bytes().size() <= kCaseBytes) {
    std::memcpy(m->case_bytes, w.bytes().data(), w.bytes().size());
    m->case_len.store(static_cast<std::uint32_t>(w.bytes().size()));
    m->case_valid.store(1);
  }
  m->index.store(index);
  m->last_change_ns.store(now_ns());
  m->running.store(1);
}

void end_case(CaseMonitor* m, const Verdict& v, int index) {
  m->running.store(0);
  m->last_change_ns.store(now_ns());
  if (index >= 0) {
    m->generated.store(index + 1);
    if (v.failed() && m->first_failure.load() < 0) m->first_failure.store(index);
  }
}

bool monitored_case(const CaseMonitor* m, Case* c) {
  if (m->case_valid.load() == 0) return false;
  Reader r(m->case_bytes, m->case_len.load());
  return get_case(r, c);
}

void on_fault(int sig, siginfo_t* info, void*) {
  if (g_monitor != nullptr) {
    const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    g_monitor->fault_addr.store(addr);
    GuardHit hit;
    if ((sig == SIGSEGV || sig == SIGBUS) && guard_zone_hit(addr, &hit)) {
      std::size_t i = 0;
      for (; hit.label[i] != '\0' && i + 1 < sizeof g_monitor->fault_label; ++i) {
        g_monitor->fault_label[i] = hit.label[i];
      }
      g_monitor->fault_label[i] = '\0';
      g_monitor->fault_offset.store(hit.offset);
      g_monitor->fault_after.store(hit.after ? 1 : 0);
      g_monitor->fault_in_guard.store(1);
    }
    g_monitor->fault_signal.store(sig);
  }
  // Die of the same signal: the default action, on return to the faulting instruction (or now,
  // for a raised signal such as SIGABRT).
  signal(sig, SIG_DFL);
  if (info->si_code <= 0) raise(sig);
}

// The child's set-up: die with the parent; report faults.
void enter_child(CaseMonitor* m) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) _exit(1);  // the parent is already gone
  g_monitor = m;
  static char alt_stack[1 << 16];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaction(sig, &sa, nullptr);
}

void write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::string signal_text(int sig) {
  const char* name = sig == SIGSEGV   ? "SIGSEGV"
                     : sig == SIGBUS  ? "SIGBUS"
                     : sig == SIGABRT ? "SIGABRT"
                     : sig == SIGFPE  ? "SIGFPE"
                     : sig == SIGILL  ? "SIGILL"
                     : sig == SIGKILL ? "SIGKILL"
                                      : nullptr;
  return name != nullptr ? name : "signal " + std::to_string(sig);
}

// How a child that ran cases ended.
struct ChildEnd {
  bool result = false;  // it wrote its result
  std::string bytes;    // the result
  std::string how;      // otherwise: "crashed: ...", "hung: ...", ...
  bool context_lost = false;
};

// Forks; the child runs `body` (which writes its result to the fd) and exits 0. The parent
// reads the result, killing the child when the running case (or the child, between cases) has
// been still for longer than `limit_s`.
template <typename Body>
ChildEnd run_child(CaseMonitor* m, double limit_s, Body body) {
  ChildEnd end;
  int fds[2];
  if (pipe(fds) != 0) {
    end.how = "could not start a child process (pipe failed)";
    return end;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    end.how = "could not start a child process (fork failed)";
    return end;
  }
  if (pid == 0) {
    close(fds[0]);
    enter_child(m);
    body(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(0);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  const long long limit_ns = static_cast<long long>(limit_s * 1e9);
  bool hung = false;
  bool case_hung = false;
  char buf[1 << 16];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, 50);
    if (ready > 0) {
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) {
        end.bytes.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) break;  // EOF: the child exited (or closed the pipe)
      if (errno != EAGAIN && errno != EINTR) break;
    }
    if (now_ns() - m->last_change_ns.load() > limit_ns) {
      hung = true;
      case_hung = m->running.load() != 0;
      kill(pid, SIGKILL);
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  char what[256];
  if (hung) {
    std::snprintf(what, sizeof what,
                  case_hung ? "hung: the case ran for more than %g s (the limit per case; killed)"
                            : "hung: no case started or ended for %g s (killed)",
                  limit_s);
    end.how = what;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !end.bytes.empty()) {
    end.result = true;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == kExitContextLost) {
    end.context_lost = true;
    end.how = std::string("lost the CUDA context: ") + m->note;
  } else if (WIFEXITED(status)) {
    std::snprintf(what, sizeof what,
                  "exited with status %d in the middle of the case (exit() called by the "
                  "subject?)",
                  WEXITSTATUS(status));
    end.how = what;
  } else if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::string how = "crashed: " + signal_text(sig);
    if (m->fault_in_guard.load() != 0 && m->fault_signal.load() == sig) {
      const long long off = m->fault_offset.load();
      const char* label = m->fault_label[0] != '\0' ? m->fault_label : "a tensor";
      std::snprintf(what, sizeof what,
                    " at %s@byte%lld: an access %s its arena, in the inaccessible guard zone "
                    "(a wild write or read)",
                    label, off, m->fault_after.load() != 0 ? "past the end of" : "before");
      how += what;
    } else if (m->fault_signal.load() == sig && (sig == SIGSEGV || sig == SIGBUS)) {
      std::snprintf(what, sizeof what, " at address 0x%llx (outside every tensor's guard zone)",
                    static_cast<unsigned long long>(m->fault_addr.load()));
      how += what;
    }
    end.how = how;
  } else {
    end.how = "ended without a result";
  }
  return end;
}

constexpr std::size_t kNoteBytes = sizeof(CaseMonitor::note);

void set_note(CaseMonitor* m, const std::string& s) {
  const std::size_t n = std::min(s.size(), kNoteBytes - 1);
  std::memcpy(m->note, s.data(), n);
  m->note[n] = '\0';
}

// Whether this process can fork children that use CUDA for this subject.
bool can_isolate(const Subject& s) {
  static bool warned = false;
  if (s.backend() != Backend::kGpu || !cuda_initialized_here()) return true;
  if (!warned) {
    warned = true;
    std::fprintf(stderr,
                 "kconform: CUDA is initialised in this process, so its children cannot use the "
                 "GPU: GPU pairs run unisolated\n");
  }
  return false;
}

Verdict failed_verdict(std::string message) {
  Verdict v;
  v.kind = Verdict::Kind::kFail;
  v.message = std::move(message);
  return v;
}

}  // namespace

Verdict run_property_isolated(PropertyId p, const Subject& s, const Case& c,
                              const std::string& judged, double case_seconds) {
  SharedMonitor shared;
  CaseMonitor* m = shared.get();
  if (m == nullptr || !can_isolate(s)) return run_property(p, s, c, judged);
  const ChildEnd end = run_child(m, case_seconds, [&](int fd) {
    begin_case(m, c, 0);
    const Verdict v = run_property(p, s, c, judged);
    end_case(m, v, 0);
    Writer w;
    put_verdict(w, v);
    write_all(fd, w.bytes());
  });
  if (end.result) {
    Verdict v;
    Reader r(end.bytes.data(), end.bytes.size());
    if (get_verdict(r, &v)) return v;
    return failed_verdict("harness: a child's verdict could not be read");
  }
  return failed_verdict(end.how);
}

CheckResult check_property_isolated(PropertyId p, const Subject& s, const CheckConfig& cfg) {
  SharedMonitor shared;
  CaseMonitor* m = shared.get();
  if (m == nullptr || !can_isolate(s)) return drive_property(p, s, cfg, nullptr);
  CheckConfig child_cfg = cfg;
  // A seed fixed here, so that the parent can replay the child's search.
  if (child_cfg.seed == 0) {
    child_cfg.seed = static_cast<std::uint64_t>(now_ns()) * 0x9e3779b97f4a7c15ull | 1u;
  }
  const auto start = Clock::now();
  const ChildEnd end = run_child(m, cfg.case_seconds, [&](int fd) {
    DriverHooks hooks;
    hooks.before = [m](const Case& c, int index) { begin_case(m, c, index); };
    hooks.after = [m, &s](const Verdict& v) {
      end_case(m, v, m->index.load());
      if (s.backend() == Backend::kGpu && cuda_context_lost()) {
        set_note(m, v.message);
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(kExitContextLost);  // its case is in the monitor; nothing more can run here
      }
    };
    write_all(fd, encode_result(drive_property(p, s, child_cfg, &hooks)));
  });
  CheckResult result;
  if (end.result && decode_result(end.bytes, &result)) return result;
  // The child did not finish the pair. Its last case is the one that ended it.
  result.passed = false;
  result.seed = child_cfg.seed;
  result.crash = end.result ? "harness: the child's result could not be read" : end.how;
  Case crashed;
  // The case that ended the child: the one running, or the one that lost the CUDA context.
  const bool have_case =
      (m->running.load() != 0 || end.context_lost) && monitored_case(m, &crashed);
  const int first_failure = m->first_failure.load();
  const int running_index = m->index.load();
  result.cases = m->generated.load() + (m->running.load() != 0 && running_index >= 0 ? 1 : 0);
  if (!have_case) {
    result.failure = failed_verdict(result.crash + " (outside any case)");
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  }
  // Replay the search from the first failing generated case (a normal failure whose shrinking
  // crashed, or the case that crashed), each case and candidate in a fresh child.
  const int from = first_failure >= 0 ? first_failure : running_index;
  CheckConfig replay = child_cfg;
  replay.verbose = false;
  replay.write_repro = false;
  const double cap = cfg.budget.shrink_seconds;
  const auto shrink_start = Clock::now();
  DriverHooks hooks;
  hooks.run = [&](const Case& c, int index, bool* ran) {
    if (index >= 0 && index != from) {
      *ran = false;  // before the crash: passed in the child; after it: nothing left to learn
      return Verdict{};
    }
    // Within the shrink cap, a hanging candidate stops at the cap (and counts as passing).
    const double left = cap - std::chrono::duration<double>(Clock::now() - shrink_start).count();
    const double limit = index >= 0 ? cfg.case_seconds : std::min(cfg.case_seconds, left + 1.0);
    if (limit <= 0) {
      *ran = false;
      return Verdict{};
    }
    return run_property_isolated(p, s, c, cfg.judged, limit);
  };
  const CheckResult again = from >= 0 ? drive_property(p, s, replay, &hooks) : CheckResult{};
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!again.passed && again.counterexample) {
    result.counterexample = again.counterexample;
    result.failure = again.failure;
    result.shrink_seconds = again.shrink_seconds;
  } else {
    result.counterexample = crashed;
    result.failure =
        failed_verdict(result.crash +
                       " while running this case; a fresh process ran it without failing (the "
                       "crash may depend on the cases run before it)");
  }
  if (cfg.write_repro) {
    result.repro_path = write_repro(cfg.repro_dir, s, p, *result.counterexample, result.failure);
  }
  return result;
}

}  // namespace kc::props
