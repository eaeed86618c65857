// Per-commit reports (report.h).
#include "kc/reports/report.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/version.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "kc/props/json_file.h"
#include "kc/props/result_set.h"

#ifndef KC_BUILD_FLAGS
#define KC_BUILD_FLAGS "unknown"
#endif

namespace kc::reports {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

// ---- inputs -------------------------------------------------------------------------------------

std::string run_command(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "inf";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// The profiles FlashInfer's norm kernels compute (properties/peers/flashinfer_subjects.cpp).
const char* const kFlashInferProfiles[] = {"rmsnorm.fp32", "rmsnorm.gemma",
                                           "fused_add_rmsnorm.fp32_sum"};

// One performance row: ours (kconform), a peer, or the copy ceiling.
struct PerfRow {
  std::string source;  // "kconform", "torch eager", "torch.compile", "flashinfer"
  std::string kind;    // "bandwidth", "decode"
  std::string profile;
  std::string dtype;
  long long tokens = 0;
  long long hidden = 0;
  double gbps = 0;
  double us = 0;
  bool pdl = true;
  std::string error;
  std::string key() const {
    return source + "|" + kind + "|" + profile + "|" + dtype + "|" + std::to_string(tokens) + "x" +
           std::to_string(hidden) + (pdl ? "" : "|nopdl");
  }
};

struct PerfSet {
  double copy_gbps = 0;
  double empty_kernel_us = 0;
  double empty_kernel_pdl_us = 0;
  std::string device;
  std::vector<PerfRow> rows;
  json::object merged;  // the merged input, written as perf.json

  // "<profile> <dtype> <tokens>x<hidden>[ graph[, no PDL]]"
  static bool parse_label(const std::string& label, PerfRow* r) {
    char profile[96], dtype[16];
    long long t = 0, h = 0;
    if (std::sscanf(label.c_str(), "%95s %15s %lldx%lld", profile, dtype, &t, &h) != 4)
      return false;
    r->profile = profile;
    r->dtype = dtype;
    r->tokens = t;
    r->hidden = h;
    r->pdl = label.find("no PDL") == std::string::npos;
    return true;
  }

  bool load(const std::vector<std::string>& paths, std::string* error) {
    json::array all;
    for (const std::string& p : paths) {
      json::value v;
      if (!props::read_json_object(p, &v, error)) return false;
      const json::object& o = v.as_object();
      if (!o.contains("benchmarks")) {
        *error = p + ": no \"benchmarks\" (not a kconform bench / Google Benchmark file)";
        return false;
      }
      if (merged.empty() && o.contains("context")) merged["context"] = o.at("context");
      for (const json::value& b : o.at("benchmarks").as_array()) all.push_back(b);
    }
    merged["benchmarks"] = all;
    if (merged.contains("context") && merged["context"].is_object()) {
      // A report names no directory of the machine it ran on: the executable by its file name.
      json::object& mc = merged["context"].as_object();
      if (mc.contains("executable") && mc.at("executable").is_string()) {
        mc["executable"] = std::filesystem::path(json::value_to<std::string>(mc.at("executable")))
                               .filename()
                               .string();
      }
      const json::object& c = merged["context"].as_object();
      if (c.contains("peers") && c.at("peers").is_object() &&
          c.at("peers").as_object().contains("device")) {
        device = json::value_to<std::string>(c.at("peers").as_object().at("device"));
      }
    }
    for (const json::value& bv : all) {
      const json::object& b = bv.as_object();
      const std::string name = b.contains("name") ? json::value_to<std::string>(b.at("name")) : "";
      const std::string label =
          b.contains("label") ? json::value_to<std::string>(b.at("label")) : "";
      auto num = [&b](const char* k) { return b.contains(k) ? b.at(k).to_number<double>() : 0.0; };
      PerfRow r;
      if (b.contains("error_occurred") && b.at("error_occurred").as_bool()) {
        r.error = b.contains("error_message") ? json::value_to<std::string>(b.at("error_message"))
                                              : "error";
      }
      if (name.rfind("BM_Copy", 0) == 0) {
        copy_gbps = std::max(copy_gbps, num("GBps"));
        continue;
      }
      if (name.rfind("BM_EmptyKernel/0", 0) == 0) empty_kernel_us = num("us_per_call");
      if (name.rfind("BM_EmptyKernel/1", 0) == 0) empty_kernel_pdl_us = num("us_per_call");
      if (name.rfind("BM_Bandwidth", 0) == 0 || name.rfind("BM_Decode", 0) == 0) {
        r.source = "kconform";
        r.kind = name.rfind("BM_Bandwidth", 0) == 0 ? "bandwidth" : "decode";
        if (!parse_label(label, &r) && r.error.empty()) continue;
      } else if (name.rfind("eager/", 0) == 0 || name.rfind("torch_compile/", 0) == 0 ||
                 name.rfind("flashinfer/", 0) == 0) {
        r.source = name.rfind("eager/", 0) == 0        ? "torch eager"
                   : name.rfind("flashinfer/", 0) == 0 ? "flashinfer"
                                                       : "torch.compile";
        std::vector<std::string> parts;
        std::stringstream ss(name);
        for (std::string part; std::getline(ss, part, '/');) parts.push_back(part);
        // Google Benchmark appends run options to registered names ("/manual_time").
        while (parts.size() > 5 &&
               (parts.back() == "manual_time" || parts.back().find(':') != std::string::npos)) {
          parts.pop_back();
        }
        if (parts.size() != 5) continue;
        r.profile = parts[1];
        r.dtype = parts[2];
        std::sscanf(parts[3].c_str(), "%lldx%lld", &r.tokens, &r.hidden);
        r.kind = parts[4];
      } else {
        continue;
      }
      r.gbps = num("GBps");
      r.us = num("us_per_call");
      rows.push_back(r);
    }
    return true;
  }

  const PerfRow* find(const std::string& source, const std::string& kind,
                      const std::string& profile, const std::string& dtype, long long tokens,
                      long long hidden) const {
    for (const PerfRow& r : rows) {
      if (r.source == source && r.kind == kind && r.profile == profile && r.dtype == dtype &&
          (tokens < 0 || r.tokens == tokens) && r.hidden == hidden && r.pdl && r.error.empty()) {
        return &r;
      }
    }
    return nullptr;
  }
};

struct PrecEntry {
  std::string subject, profile, backend, dtype, bucket;
  props::PrecisionStats stats;
  long long cases = 0;
  std::string seeds;
  double exact_fraction() const {
    return stats.elements ? static_cast<double>(stats.exact) / static_cast<double>(stats.elements)
                          : 1.0;
  }
};

std::vector<PrecEntry> precision_entries(const props::ResultSet& rs) {
  std::vector<PrecEntry> out;
  for (const props::PairRecord& p : rs.pairs()) {
    if (p.property != "bounded_error" || !p.defect.empty()) continue;
    std::string seeds;
    for (const std::string& s : p.seeds) seeds += (seeds.empty() ? "" : ",") + s;
    for (const props::BucketRecord& b : p.precision) {
      PrecEntry e{p.subject, p.profile, p.backend, b.dtype, b.bucket, b.stats, p.cases, seeds};
      out.push_back(e);
    }
  }
  return out;
}

json::object precision_json(const std::vector<PrecEntry>& entries, const props::ResultSet& rs,
                            const std::string& commit) {
  json::object root;
  root["kconform_precision"] = 1;
  root["commit"] = commit;
  json::array conformance;
  for (const props::PairRecord& p : rs.pairs()) {
    json::object c;
    c["subject"] = p.subject;
    c["property"] = p.property;
    c["passed"] = p.passed;
    c["cases"] = p.cases;
    conformance.push_back(std::move(c));
  }
  root["conformance"] = std::move(conformance);
  json::array a;
  for (const PrecEntry& e : entries) {
    json::object o;
    o["subject"] = e.subject;
    o["profile"] = e.profile;
    o["backend"] = e.backend;
    o["dtype"] = e.dtype;
    o["hidden_bucket"] = e.bucket;
    o["elements"] = e.stats.elements;
    o["exact_fraction"] = e.exact_fraction();
    o["max_ulp"] = std::isfinite(e.stats.max_ulp) ? e.stats.max_ulp : 1e308;
    o["p99_ulp"] = e.stats.quantile(0.99);
    o["special_elements"] = e.stats.special_elements;
    o["flushed_elements"] = e.stats.flushed_elements;
    o["cases"] = e.cases;
    o["seeds"] = e.seeds;
    a.push_back(std::move(o));
  }
  root["entries"] = std::move(a);
  return root;
}

// ---- plots --------------------------------------------------------------------------------------

bool have_gnuplot() { return std::system("gnuplot --version >/dev/null 2>&1") == 0; }

// Writes data + script and runs gnuplot; true when the PNG exists afterwards.
bool plot(const fs::path& dir, const std::string& name, const std::string& script) {
  const fs::path gp = dir / "plots" / (name + ".gp");
  std::ofstream(gp) << "set terminal pngcairo size 900,520 font 'sans,10' noenhanced\nset output '"
                    << (dir / (name + ".png")).string() << "'\n"
                    << script;
  const std::string cmd = "gnuplot '" + gp.string() + "' >/dev/null 2>&1";
  const fs::path png = dir / (name + ".png");
  const bool ok = std::system(cmd.c_str()) == 0 && fs::exists(png) && fs::file_size(png) > 0;
  if (!ok) fs::remove(png);
  return ok;
}

}  // namespace

std::string environment_json() {
  json::object o;
  // KC_COMMIT names the commit where the tree has no .git (a copy sent to a GPU host).
  const char* given = std::getenv("KC_COMMIT");
  const std::string sha = given != nullptr && *given != '\0'
                              ? std::string(given)
                              : run_command("git rev-parse --short HEAD 2>/dev/null");
  o["commit"] = sha.empty() ? "unknown" : sha;
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  o["date"] = date;
  o["cpu"] = run_command("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'");
  o["cores"] = run_command("nproc");
  int runtime = 0, driver = 0, count = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  json::object cuda;
  cuda["runtime"] = runtime;
  cuda["driver"] = driver;
  cuda["nvcc"] = run_command("nvcc --version 2>/dev/null | tail -1");
  o["cuda"] = cuda;
  if (cudaGetDeviceCount(&count) == cudaSuccess && count > 0) {
    cudaDeviceProp p{};
    cudaGetDeviceProperties(&p, 0);
    json::object g;
    g["name"] = p.name;
    g["compute_capability"] = std::to_string(p.major) + "." + std::to_string(p.minor);
    g["multiprocessors"] = p.multiProcessorCount;
    g["memory_bytes"] = static_cast<std::uint64_t>(p.totalGlobalMem);
    g["l2_bytes"] = p.l2CacheSize;
    g["driver_version"] = run_command(
        "nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1");
    g["clocks"] = run_command(
        "nvidia-smi --query-gpu=clocks.sm,clocks.mem --format=csv,noheader 2>/dev/null | head -1");
    o["gpu"] = g;
  } else {
    (void)cudaGetLastError();
    o["gpu"] = nullptr;
  }
  o["compiler"] = __VERSION__;
  o["build_flags"] = KC_BUILD_FLAGS;
  o["boost"] = BOOST_LIB_VERSION;
  return json::serialize(o);
}

ReportOutcome write_report(const ReportInputs& in) {
  ReportOutcome outcome;
  std::string notes;  // read before anything is written: a bad path writes nothing
  if (!in.notes_file.empty()) {
    std::ifstream nf(in.notes_file);
    if (!nf) {
      outcome.ok = false;
      outcome.error = in.notes_file + ": cannot read the notes";
      return outcome;
    }
    std::stringstream ns;
    ns << nf.rdbuf();
    notes = ns.str();
  }
  const fs::path dir(in.out_dir);
  std::error_code ec;
  fs::create_directories(dir / "plots", ec);
  if (ec) {
    outcome.ok = false;
    outcome.error = "cannot create " + in.out_dir;
    return outcome;
  }
  // Inputs.
  props::ResultSet results;
  if (!in.check_files.empty() && !results.load(in.check_files, &outcome.error)) {
    outcome.ok = false;
    return outcome;
  }
  PerfSet perf;
  if (!in.perf_files.empty() && !perf.load(in.perf_files, &outcome.error)) {
    outcome.ok = false;
    return outcome;
  }
  std::string env = environment_json();
  if (!in.env_file.empty()) {
    json::value v;
    if (!props::read_json_object(in.env_file, &v, &outcome.error)) {
      outcome.ok = false;
      return outcome;
    }
    env = json::serialize(v);
  }
  const json::object envo = json::parse(env).as_object();
  const std::string commit =
      envo.contains("commit") ? json::value_to<std::string>(envo.at("commit")) : results.commit();
  const std::vector<PrecEntry> prec = precision_entries(results);
  std::ofstream(dir / "env.json") << env << "\n";
  std::ofstream(dir / "precision.json")
      << json::serialize(precision_json(prec, results, commit)) << "\n";
  if (!in.perf_files.empty())
    std::ofstream(dir / "perf.json") << json::serialize(perf.merged) << "\n";
  const bool gnuplot = in.plots && have_gnuplot();

  std::ostringstream md;
  md << "# kconform report " << commit << "\n\n";
  md << "- date: " << json::value_to<std::string>(envo.at("date")) << "\n";
  if (envo.contains("gpu") && envo.at("gpu").is_object()) {
    const json::object& g = envo.at("gpu").as_object();
    md << "- GPU: " << json::value_to<std::string>(g.at("name")) << " (sm "
       << json::value_to<std::string>(g.at("compute_capability")) << ", "
       << g.at("multiprocessors").to_number<long long>() << " SMs, driver "
       << json::value_to<std::string>(g.at("driver_version")) << ")\n";
  } else {
    md << "- GPU: none on the machine that wrote this report\n";
  }
  md << "- toolkit: " << json::value_to<std::string>(envo.at("cuda").as_object().at("nvcc"))
     << "; compiler: " << json::value_to<std::string>(envo.at("compiler")) << "\n";
  md << "- inputs: " << in.check_files.size() << " check/fuzz result files ("
     << results.pairs().size() << " pairs, " << results.total_cases() << " cases), "
     << in.perf_files.size() << " benchmark files\n\n";

  // Conformance.
  md << "## Conformance\n\n";
  if (results.pairs().empty()) {
    md << "No check results were given.\n\n";
  } else {
    int pass = 0;
    for (const props::PairRecord& p : results.pairs()) pass += p.passed;
    md << pass << " of " << results.pairs().size() << " (subject, property) pairs conform.\n\n";
    for (const props::PairRecord& p : results.pairs()) {
      if (p.passed) continue;
      md << "- **FAIL** " << p.subject << " " << p.property << ": " << p.failure;
      if (!p.repros.empty()) md << " (repro `" << p.repros.front() << "`)";
      md << "\n";
    }
    md << "\n| subject | properties | cases | n/a |\n|---|---|---:|---:|\n";
    std::map<std::string, std::vector<const props::PairRecord*>> by_subject;
    for (const props::PairRecord& p : results.pairs()) by_subject[p.subject].push_back(&p);
    for (const auto& [subject, list] : by_subject) {
      long long cases = 0, na = 0;
      int ok = 0;
      for (const props::PairRecord* p : list) {
        cases += p->cases;
        na += p->not_applicable;
        ok += p->passed;
      }
      md << "| " << subject << " | " << ok << "/" << list.size() << " pass | " << cases << " | "
         << na << " |\n";
    }
    md << "\n";
  }

  // Precision.
  md << "## Precision (bounded_error: ULP error against the exact profile)\n\n";
  if (prec.empty()) {
    md << "No precision statistics (run `kconform check --json`).\n\n";
  } else {
    md << "Per subject and dtype over all hidden sizes; p99 is the upper edge of its 1/64-ulp "
          "histogram bin. precision.json breaks them out per hidden bucket with the seeds.\n\n";
    md << "| subject | dtype | elements | exact % | p99 ulp | max ulp "
          "|\n|---|---|---:|---:|---:|---:|\n";
    std::map<std::pair<std::string, std::string>, props::PrecisionStats> agg;
    for (const PrecEntry& e : prec) agg[{e.subject, e.dtype}].merge(e.stats);
    std::map<std::string, props::PrecisionStats> by_dtype;
    for (const auto& [k, st] : agg) {
      md << "| " << k.first << " | " << k.second << " | " << st.elements << " | "
         << fixed(100.0 * static_cast<double>(st.exact) /
                      std::max<double>(1, static_cast<double>(st.elements)),
                  3)
         << " | " << fixed(st.quantile(0.99), 4) << " | " << fixed(st.max_ulp, 4) << " |\n";
      if (k.first.rfind("kc.", 0) == 0) by_dtype[k.second].merge(st);
    }
    md << "\n";
    if (gnuplot) {
      std::ostringstream data;
      for (const auto& [dt, st] : by_dtype) {
        data << "# " << dt << "\n";
        for (int i = 0; i < props::PrecisionStats::kLinearBins; ++i) {
          const double frac = static_cast<double>(st.hist[static_cast<std::size_t>(i)]) /
                              std::max<double>(1, static_cast<double>(st.elements));
          if (frac > 0) data << (i + 0.5) / 64.0 << " " << frac << "\n";
        }
        data << "\n\n";
      }
      std::ofstream(dir / "plots" / "precision_hist.dat") << data.str();
      std::ostringstream gp;
      gp << "set title 'ULP error of kconform kernels against the exact profiles'\n"
            "set xlabel 'ULP error (1/64-ulp bins)'\nset ylabel 'fraction of elements'\n"
            "set logscale y\nset xrange [0:*]\nset key top right\nplot ";
      int idx = 0;
      for (const auto& [dt, st] : by_dtype) {
        gp << (idx ? ", " : "") << "'" << (dir / "plots" / "precision_hist.dat").string()
           << "' index " << idx << " with steps lw 2 title '" << dt << "'";
        ++idx;
      }
      gp << "\n";
      if (plot(dir, "precision_hist", gp.str()))
        md << "![ULP error histogram](precision_hist.png)\n\n";
    }
  }

  // Performance.
  md << "## Performance\n\n";
  if (in.perf_files.empty()) {
    md << "No benchmark results: speed is measured on a GPU (`kconform bench`), never assumed.\n\n";
  } else {
    md << "Device-to-device copy (bytes read + written) in the same run: **"
       << fixed(perf.copy_gbps, 0) << " GB/s**; % copy below is relative to it. Empty-kernel "
       << "graph node: " << fixed(perf.empty_kernel_us, 2) << " us ("
       << fixed(perf.empty_kernel_pdl_us, 2) << " us with PDL).\n\n";
    const long long hiddens[] = {1024, 2048, 4096, 8192, 16384};
    std::set<std::string> profiles, dtypes;
    for (const PerfRow& r : perf.rows) {
      if (r.source == "kconform") {
        profiles.insert(r.profile);
        dtypes.insert(r.dtype);
      }
    }
    md << "### Bandwidth shapes (1 GiB moved, L2 flushed): GB/s (% of copy)\n\n| source | profile "
          "| dtype |";
    for (long long h : hiddens) md << " " << h << " |";
    md << "\n|---|---|---|";
    for (std::size_t i = 0; i < std::size(hiddens); ++i) md << "---:|";
    md << "\n";
    auto bw_line = [&](const std::string& src, const std::string& prof, const std::string& dt) {
      std::ostringstream l;
      bool any = false;
      l << "| " << src << " | " << prof << " | " << dt << " |";
      for (long long h : hiddens) {
        const PerfRow* r = perf.find(src, "bandwidth", prof, dt, -1, h);
        if (r != nullptr) {
          any = true;
          l << " " << fixed(r->gbps, 0) << " ("
            << fixed(100 * r->gbps / std::max(perf.copy_gbps, 1.0), 1) << "%) |";
        } else {
          l << " - |";
        }
      }
      if (any) md << l.str() << "\n";
    };
    for (const std::string& p : profiles) {
      for (const std::string& d : dtypes) bw_line("kconform", p, d);
    }
    for (const char* src : {"torch.compile", "torch eager"}) {
      for (const char* p : {"rmsnorm.hf", "rmsnorm.fp32", "fused_add_rmsnorm.hf"}) {
        for (const std::string& d : dtypes) bw_line(src, p, d);
      }
    }
    for (const char* p : kFlashInferProfiles) {
      for (const std::string& d : dtypes) bw_line("flashinfer", p, d);
    }
    md << "\n### Decode shapes (CUDA-graph replay): us per call, kconform / torch.compile\n\n";
    for (const std::string& d : dtypes) {
      for (const char* prof : {"rmsnorm.hf", "rmsnorm.fp32", "fused_add_rmsnorm.hf"}) {
        if (perf.find("kconform", "decode", prof, d, 1, 1024) == nullptr) continue;
        md << "**" << prof << " " << d << "**\n\n| tokens |";
        for (long long h : hiddens) md << " " << h << " |";
        md << "\n|---:|---:|---:|---:|---:|---:|\n";
        for (long long t : {1, 16, 64, 128, 256}) {
          md << "| " << t << " |";
          for (long long h : hiddens) {
            const PerfRow* o = perf.find("kconform", "decode", prof, d, t, h);
            const PerfRow* c = perf.find("torch.compile", "decode", prof, d, t, h);
            md << " " << (o ? fixed(o->us, 2) : "-") << " / " << (c ? fixed(c->us, 2) : "-")
               << " |";
          }
          md << "\n";
        }
        md << "\n";
      }
    }
    // FlashInfer (when its rows are there): the same table against its kernels, and a count.
    bool flashinfer = false;
    for (const PerfRow& r : perf.rows) flashinfer = flashinfer || r.source == "flashinfer";
    if (flashinfer) {
      md << "### Decode shapes: us per call, kconform / FlashInfer\n\n";
      int faster = 0, shapes = 0, bw_faster = 0, bw_shapes = 0;
      for (const std::string& d : dtypes) {
        for (const char* prof : kFlashInferProfiles) {
          if (perf.find("flashinfer", "decode", prof, d, 1, 1024) == nullptr) continue;
          md << "**" << prof << " " << d << "**\n\n| tokens |";
          for (long long h : hiddens) md << " " << h << " |";
          md << "\n|---:|---:|---:|---:|---:|---:|\n";
          for (long long t : {1, 16, 64, 128, 256}) {
            md << "| " << t << " |";
            for (long long h : hiddens) {
              const PerfRow* o = perf.find("kconform", "decode", prof, d, t, h);
              const PerfRow* f = perf.find("flashinfer", "decode", prof, d, t, h);
              md << " " << (o ? fixed(o->us, 2) : "-") << " / " << (f ? fixed(f->us, 2) : "-")
                 << " |";
              if (o != nullptr && f != nullptr) {
                ++shapes;
                faster += o->us < f->us ? 1 : 0;
              }
            }
            md << "\n";
          }
          md << "\n";
          for (long long h : hiddens) {
            const PerfRow* o = perf.find("kconform", "bandwidth", prof, d, -1, h);
            const PerfRow* f = perf.find("flashinfer", "bandwidth", prof, d, -1, h);
            if (o != nullptr && f != nullptr) {
              ++bw_shapes;
              bw_faster += o->gbps > f->gbps ? 1 : 0;
            }
          }
        }
      }
      md << "kconform is faster than FlashInfer at " << faster << " of " << shapes
         << " decode shapes and " << bw_faster << " of " << bw_shapes
         << " bandwidth shapes (same profiles and dtypes).\n\n";
    }
    // Targets (issue: bf16/fp16 bandwidth >= 90% of copy for hidden >= 2048; faster than
    // torch.compile at every decode shape).
    md << "### Targets\n\n";
    std::ostringstream misses;
    for (const PerfRow& r : perf.rows) {
      if (r.source != "kconform" || !r.error.empty()) continue;
      if (r.kind == "bandwidth" && (r.dtype == "bf16" || r.dtype == "fp16") && r.hidden >= 2048) {
        const double pct = 100 * r.gbps / std::max(perf.copy_gbps, 1.0);
        if (pct < 90) {
          ++outcome.target_misses;
          misses << "- bandwidth " << r.profile << " " << r.dtype << " " << r.tokens << "x"
                 << r.hidden << ": " << fixed(pct, 1) << "% of copy, " << fixed(90 - pct, 1)
                 << " points short\n";
        }
      }
      if (r.kind == "decode" && r.pdl) {
        const PerfRow* c =
            perf.find("torch.compile", "decode", r.profile, r.dtype, r.tokens, r.hidden);
        if (c != nullptr && r.us >= c->us) {
          ++outcome.target_misses;
          misses << "- decode " << r.profile << " " << r.dtype << " " << r.tokens << "x" << r.hidden
                 << ": " << fixed(r.us, 2) << " us vs torch.compile " << fixed(c->us, 2) << " us ("
                 << fixed(100 * (r.us / c->us - 1), 0) << "% slower)\n";
        }
      }
    }
    md << (outcome.target_misses == 0 ? "Every target is met.\n\n"
                                      : std::to_string(outcome.target_misses) +
                                            " target misses:\n\n" + misses.str() + "\n");
    if (!notes.empty()) md << "### Why\n\n" << notes << "\n";
    if (gnuplot) {
      for (const std::string& d : dtypes) {
        std::ostringstream data;
        // Every (source, profile) with bandwidth rows in this dtype.
        std::vector<std::pair<std::string, std::string>> series;
        for (const PerfRow& r : perf.rows) {
          if (r.kind != "bandwidth" || r.dtype != d || !r.error.empty()) continue;
          const std::pair<std::string, std::string> sp{r.source, r.profile};
          if (std::find(series.begin(), series.end(), sp) == series.end()) series.push_back(sp);
        }
        if (series.empty()) continue;
        int idx = 0;
        int drawn = 0;
        std::ostringstream gp;
        gp << "set title 'Bandwidth shapes, " << d
           << " (1 GiB moved, L2 flushed)'\n"
              "set xlabel 'hidden'\nset ylabel 'GB/s (read + written)'\nset logscale x 2\n"
              "set key bottom right\nset yrange [0:*]\nplot ";
        for (const auto& [src, prof] : series) {
          data << "# " << src << " " << prof << "\n";
          int n = 0;
          for (long long h : hiddens) {
            if (const PerfRow* r = perf.find(src, "bandwidth", prof, d, -1, h)) {
              data << h << " " << r->gbps << "\n";
              ++n;
            }
          }
          data << "\n\n";
          if (n > 0) {
            gp << (drawn++ ? ", " : "") << "'"
               << (dir / "plots" / ("bandwidth_" + d + ".dat")).string() << "' index " << idx
               << " with linespoints lw 2 title '" << src << " " << prof << "'";
          }
          ++idx;
        }
        gp << (drawn ? ", " : "") << perf.copy_gbps
           << " with lines dt 2 lc 'black' title 'copy ceiling'\n";
        std::ofstream(dir / "plots" / ("bandwidth_" + d + ".dat")) << data.str();
        if (plot(dir, "bandwidth_" + d, gp.str())) {
          md << "![bandwidth " << d << "](bandwidth_" << d << ".png)\n\n";
        }
        // Decode: us per call vs tokens at hidden 4096 and 16384.
        std::ostringstream dd;
        std::ostringstream dg;
        dg << "set title 'Decode shapes, " << d
           << " (CUDA-graph replay, us per call)'\n"
              "set xlabel 'tokens'\nset ylabel 'us per call'\nset logscale x 2\nset key top left\n"
              "set yrange [0:*]\nplot ";
        std::string dprof;
        for (const PerfRow& r : perf.rows) {
          if (r.source != "kconform" || r.kind != "decode" || r.dtype != d) continue;
          const bool peer = perf.find("torch.compile", "decode", r.profile, d, 1, 4096) != nullptr;
          if (dprof.empty() || peer) dprof = r.profile;
          if (peer) break;
        }
        int di = 0;
        int ddrawn = 0;
        for (long long h : {4096LL, 16384LL}) {
          for (const char* src : {"kconform", "torch.compile"}) {
            dd << "# " << src << " " << h << "\n";
            int n = 0;
            for (long long t : {1, 16, 64, 128, 256}) {
              if (const PerfRow* r = perf.find(src, "decode", dprof, d, t, h)) {
                dd << t << " " << r->us << "\n";
                ++n;
              }
            }
            dd << "\n\n";
            if (n > 0) {
              dg << (ddrawn++ ? ", " : "") << "'"
                 << (dir / "plots" / ("decode_" + d + ".dat")).string() << "' index " << di
                 << " with linespoints lw 2 title '" << src << " " << dprof << " h=" << h << "'";
            }
            ++di;
          }
        }
        dg << "\n";
        std::ofstream(dir / "plots" / ("decode_" + d + ".dat")) << dd.str();
        if (ddrawn > 0 && plot(dir, "decode_" + d, dg.str())) {
          md << "![decode " << d << "](decode_" << d << ".png)\n\n";
        }
      }
    }
  }

  // Baseline diff.
  if (!in.baseline_dir.empty()) {
    md << "## Against baseline `" << fs::path(in.baseline_dir).filename().string() << "`\n\n";
    md << "Thresholds (noise): bandwidth GB/s -" << fixed(100 * kBandwidthNoise, 0)
       << "%, decode us +" << fixed(100 * kDecodeNoise, 0) << "%, max ULP +" << kUlpNoise
       << ", exact-match fraction -" << fixed(100 * kExactNoise, 0) << " points.\n\n";
    std::ostringstream reg;
    json::value bp;
    std::string err;
    if (props::read_json_object((fs::path(in.baseline_dir) / "precision.json").string(), &bp,
                                &err)) {
      for (const json::value& ev : bp.as_object().at("entries").as_array()) {
        const json::object& e = ev.as_object();
        const std::string subject = json::value_to<std::string>(e.at("subject"));
        const std::string dt = json::value_to<std::string>(e.at("dtype"));
        const std::string bucket = json::value_to<std::string>(e.at("hidden_bucket"));
        for (const PrecEntry& now : prec) {
          if (now.subject != subject || now.dtype != dt || now.bucket != bucket) continue;
          const double base_max = e.at("max_ulp").to_number<double>();
          const double base_exact = e.at("exact_fraction").to_number<double>();
          if (now.stats.max_ulp > base_max + kUlpNoise) {
            ++outcome.regressions;
            reg << "- **REGRESSION** precision " << subject << " " << dt << " " << bucket
                << ": max ulp " << fixed(base_max, 4) << " -> " << fixed(now.stats.max_ulp, 4)
                << "\n";
          }
          if (now.exact_fraction() < base_exact - kExactNoise) {
            ++outcome.regressions;
            reg << "- **REGRESSION** precision " << subject << " " << dt << " " << bucket
                << ": exact-match " << fixed(100 * base_exact, 2) << "% -> "
                << fixed(100 * now.exact_fraction(), 2) << "%\n";
          }
        }
      }
    } else {
      md << "(baseline has no precision.json: " << err << ")\n\n";
    }
    if (fs::exists(fs::path(in.baseline_dir) / "perf.json") && !in.perf_files.empty()) {
      PerfSet base;
      if (base.load({(fs::path(in.baseline_dir) / "perf.json").string()}, &err)) {
        std::map<std::string, const PerfRow*> base_rows;
        for (const PerfRow& r : base.rows) base_rows[r.key()] = &r;
        for (const PerfRow& r : perf.rows) {
          if (r.source != "kconform" || !r.error.empty()) continue;
          const auto it = base_rows.find(r.key());
          if (it == base_rows.end() || !it->second->error.empty()) continue;
          const PerfRow& b = *it->second;
          if (r.kind == "bandwidth" && r.gbps < b.gbps * (1 - kBandwidthNoise)) {
            ++outcome.regressions;
            reg << "- **REGRESSION** bandwidth " << r.profile << " " << r.dtype << " " << r.tokens
                << "x" << r.hidden << ": " << fixed(b.gbps, 0) << " -> " << fixed(r.gbps, 0)
                << " GB/s (" << fixed(100 * (r.gbps / b.gbps - 1), 1) << "%)\n";
          }
          if (r.kind == "decode" && r.us > b.us * (1 + kDecodeNoise)) {
            ++outcome.regressions;
            reg << "- **REGRESSION** decode " << r.profile << " " << r.dtype << " " << r.tokens
                << "x" << r.hidden << (r.pdl ? "" : " (PDL off)") << ": " << fixed(b.us, 2)
                << " -> " << fixed(r.us, 2) << " us (+" << fixed(100 * (r.us / b.us - 1), 1)
                << "%)\n";
          }
        }
      }
    }
    // Conformance: a pair that passed in the baseline and fails now.
    if (bp.is_object() && bp.as_object().contains("conformance")) {
      for (const json::value& cv : bp.as_object().at("conformance").as_array()) {
        const json::object& c = cv.as_object();
        if (!c.at("passed").as_bool()) continue;
        for (const props::PairRecord& p : results.pairs()) {
          if (!p.passed && p.subject == json::value_to<std::string>(c.at("subject")) &&
              p.property == json::value_to<std::string>(c.at("property"))) {
            ++outcome.regressions;
            reg << "- **REGRESSION** conformance " << p.subject << " " << p.property
                << " passed in the baseline and fails now: " << p.failure << "\n";
          }
        }
      }
    }
    md << (outcome.regressions == 0 ? std::string("No regression beyond noise.\n\n")
                                    : reg.str() + "\n");
  }
  if (!gnuplot && in.plots) md << "(gnuplot not found: plots omitted)\n";
  const fs::path summary = dir / "summary.md";
  std::ofstream(summary) << md.str();
  outcome.summary_path = summary.string();
  return outcome;
}

}  // namespace kc::reports
