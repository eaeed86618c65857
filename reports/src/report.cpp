// Report generation (report.h): inputs through kc::results, tables and plots per family from the
// families' descriptions, targets, and the baseline diff.
#include "report.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "kc/results/json_file.h"
#include "kc/results/result_set.h"
#include "perf_set.h"

namespace kc::reports {
namespace json = boost::json;
namespace fs = std::filesystem;
using results::FamilyReport;
using results::PairRecord;
using results::PerfKey;
using results::PerfRow;
using results::PrecisionStats;

namespace {

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "inf";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// "tokens=1 hidden=4096" style text of a shape, leaving out one parameter (or none).
std::string shape_text(const PerfKey& k, const std::string& skip = "") {
  std::string s;
  for (const auto& [name, v] : k.shape) {
    if (name == skip) continue;
    s += (s.empty() ? "" : " ") + name + "=" + std::to_string(v);
  }
  return s;
}

// The values of the named shape parameters ("nq=32 nk=8"; "" for none).
std::string series_text(const PerfKey& k, const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) {
    s += (s.empty() ? "" : " ") + n + "=" + std::to_string(k.param(n));
  }
  return s;
}

// The shape written as the old reports did for two parameters ("4096x8192"), else as text.
std::string shape_short(const PerfKey& k) {
  if (k.shape.size() == 2) {
    return std::to_string(k.shape[0].second) + "x" + std::to_string(k.shape[1].second);
  }
  return shape_text(k);
}

struct PrecEntry {
  std::string subject, family, profile, backend, dtype, bucket;
  PrecisionStats stats;
  long long cases = 0;
  std::string seeds;
  double exact_fraction() const {
    return stats.elements ? static_cast<double>(stats.exact) / static_cast<double>(stats.elements)
                          : 1.0;
  }
};

std::vector<PrecEntry> precision_entries(const results::ResultSet& rs) {
  std::vector<PrecEntry> out;
  for (const PairRecord& p : rs.pairs()) {
    if (p.property != "bounded_error" || !p.defect.empty()) continue;
    std::string seeds;
    for (const std::string& s : p.seeds) seeds += (seeds.empty() ? "" : ",") + s;
    for (const results::BucketRecord& b : p.precision) {
      out.push_back(
          {p.subject, p.family, p.profile, p.backend, b.dtype, b.bucket, b.stats, p.cases, seeds});
    }
  }
  return out;
}

json::object precision_json(const std::vector<PrecEntry>& entries, const results::ResultSet& rs,
                            const std::string& commit) {
  json::object root;
  root["kconform_precision"] = 2;
  root["commit"] = commit;
  json::array conformance;
  for (const PairRecord& p : rs.pairs()) {
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
    o["family"] = e.family;
    o["profile"] = e.profile;
    o["backend"] = e.backend;
    o["dtype"] = e.dtype;
    o["bucket"] = e.bucket;
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

// ---- performance, one family at a time ---------------------------------------------------------

// The rows of one family, the values its axes take, and what the tables are made of.
struct FamilyPerf {
  const FamilyReport* desc;
  std::vector<const PerfRow*> rows;
  std::set<std::string> dtypes;       // of our rows
  std::set<std::int64_t> bw_values;   // values of the bandwidth axis
  std::set<std::int64_t> dec_values;  // values of the decode axis
};

PerfKey with_source(PerfKey k, const std::string& source) {
  k.source = source;
  return k;
}

void performance_section(const PerfSet& perf, const FamilyPerf& fp, const fs::path& dir,
                         bool gnuplot, std::ostringstream& md, ReportOutcome* outcome) {
  const FamilyReport& f = *fp.desc;
  md << "### " << f.family << "\n\n";
  // Bandwidth: GB/s (% of copy) along the bandwidth axis, one line per (source, profile, dtype,
  // values of the family's bandwidth_series parameters).
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> lines;
  for (const PerfRow* r : fp.rows) {
    if (r->key.kind != "bandwidth") continue;
    const auto t = std::make_tuple(r->key.source, r->key.profile, r->key.dtype,
                                   series_text(r->key, f.bandwidth_series));
    if (std::find(lines.begin(), lines.end(), t) == lines.end()) lines.push_back(t);
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
    return (std::get<0>(a) == "kconform") > (std::get<0>(b) == "kconform");
  });
  auto bw_row = [&](const std::string& src, const std::string& prof, const std::string& dt,
                    const std::string& series, std::int64_t v) -> const PerfRow* {
    for (const PerfRow* r : fp.rows) {
      if (r->key.kind == "bandwidth" && r->key.source == src && r->key.profile == prof &&
          r->key.dtype == dt && r->key.param(f.bandwidth_axis) == v && r->error.empty() &&
          series_text(r->key, f.bandwidth_series) == series) {
        return r;
      }
    }
    return nullptr;
  };
  if (!lines.empty()) {
    md << "Bandwidth shapes (about 1 GiB moved, L2 flushed): GB/s (% of copy), by "
       << f.bandwidth_axis << "\n\n| source | profile | dtype |";
    for (std::int64_t v : fp.bw_values) md << " " << v << " |";
    md << "\n|---|---|---|";
    for (std::size_t i = 0; i < fp.bw_values.size(); ++i) md << "---:|";
    md << "\n";
    for (const auto& [src, prof, dt, series] : lines) {
      md << "| " << src << " | " << prof << (series.empty() ? "" : " " + series) << " | " << dt
         << " |";
      for (std::int64_t v : fp.bw_values) {
        const PerfRow* r = bw_row(src, prof, dt, series, v);
        md << " " << (r ? fixed(r->gbps, 0) + " (" + fixed(perf.pct_copy(r->gbps), 1) + "%)" : "-")
           << " |";
      }
      md << "\n";
    }
    md << "\n";
  }
  // Decode: ours against the best peer timed the same way, per profile and dtype; rows along
  // the decode axis, columns the rest of the shape. PDL off is the headline; PDL on follows
  // where it was timed (a peer is compared only with its rows of the same setting).
  for (const bool pdl : {false, true}) {
    int faster = 0, compared = 0;
    std::map<std::string, std::pair<int, int>> per_peer;  // source -> (we are faster, shapes)
    for (const std::string& d : fp.dtypes) {
      for (const std::string& prof : f.decode_profiles) {
        // Columns in the numeric order of the other shape parameters.
        std::map<std::int64_t, std::map<std::string, const PerfRow*>> grid;
        std::map<std::vector<std::int64_t>, std::string> ordered;
        for (const PerfRow* r : fp.rows) {
          if (r->key.source != "kconform" || r->key.kind != "decode" || r->key.pdl != pdl ||
              r->key.profile != prof || r->key.dtype != d || !r->error.empty()) {
            continue;
          }
          const std::string col = shape_text(r->key, f.decode_axis);
          grid[r->key.param(f.decode_axis)][col] = r;
          std::vector<std::int64_t> order;
          for (const auto& [name, v] : r->key.shape) {
            if (name != f.decode_axis) order.push_back(v);
          }
          ordered[order] = col;
        }
        std::vector<std::string> columns;
        for (const auto& [order, col] : ordered) columns.push_back(col);
        if (grid.empty()) continue;
        md << "Decode shapes, **" << prof << " " << d << "**, PDL " << (pdl ? "on" : "off")
           << ": us per call (CUDA-graph replay), kconform / best peer\n\n| " << f.decode_axis
           << " |";
        for (const std::string& c : columns) md << " " << c << " |";
        md << "\n|---:|";
        for (std::size_t i = 0; i < columns.size(); ++i) md << "---|";
        md << "\n";
        for (const auto& [v, cells] : grid) {
          md << "| " << v << " |";
          for (const std::string& c : columns) {
            const auto it = cells.find(c);
            if (it == cells.end()) {
              md << " - |";
              continue;
            }
            const PerfRow* ours = it->second;
            const PerfRow* peer = perf.best_peer(ours->key);
            md << " " << fixed(ours->us, 2) << " / "
               << (peer ? fixed(peer->us, 2) + " " + peer->key.source : "-") << " |";
            if (peer != nullptr) {
              ++compared;
              faster += ours->us < peer->us;
            }
            for (const PerfRow* r : fp.rows) {
              if (r->key.source != "kconform" && r->error.empty() &&
                  r->key.id() == with_source(ours->key, r->key.source).id()) {
                auto& pp = per_peer[r->key.source];
                ++pp.second;
                pp.first += ours->us < r->us;
              }
            }
          }
          md << "\n";
        }
        md << "\n";
      }
    }
    if (compared > 0) {
      md << "Decode, PDL " << (pdl ? "on" : "off") << ": kconform is faster than the best peer "
         << "at **" << faster << " of " << compared << "** shapes";
      for (const auto& [src, c] : per_peer) {
        md << "; than " << src << " at " << c.first << " of " << c.second;
      }
      md << ".\n\n";
    }
  }
  // Bandwidth against each peer.
  std::map<std::string, std::pair<int, int>> bw_peer;
  for (const PerfRow* r : fp.rows) {
    if (r->key.source != "kconform" || r->key.kind != "bandwidth" || !r->error.empty()) continue;
    for (const PerfRow* o : fp.rows) {
      if (o->key.source != "kconform" && o->error.empty() &&
          o->key.id() == with_source(r->key, o->key.source).id()) {
        auto& c = bw_peer[o->key.source];
        ++c.second;
        c.first += r->gbps > o->gbps;
      }
    }
  }
  if (!bw_peer.empty()) {
    md << "Bandwidth: kconform moves more GB/s than";
    bool first = true;
    for (const auto& [src, c] : bw_peer) {
      md << (first ? " " : "; than ") << src << " at " << c.first << " of " << c.second;
      first = false;
    }
    md << " shapes.\n\n";
  }
  // Targets.
  md << "Targets of the " << f.family << " family:\n\n";
  std::ostringstream misses;
  int family_misses = 0;
  for (const results::PerfTarget& t : f.targets) {
    md << "- " << t.text << "\n";
    for (const PerfRow* r : fp.rows) {
      if (r->key.source != "kconform" || !r->error.empty() || r->key.kind != t.kind) continue;
      if (std::find(t.dtypes.begin(), t.dtypes.end(), r->key.dtype) == t.dtypes.end()) continue;
      if (t.kind == "bandwidth" && r->key.param(t.param) >= t.min_value) {
        const double pct = perf.pct_copy(r->gbps);
        if (pct < t.pct_copy) {
          ++family_misses;
          misses << "- bandwidth " << r->key.profile << " " << r->key.dtype << " "
                 << shape_short(r->key) << ": " << fixed(pct, 1) << "% of copy, "
                 << fixed(t.pct_copy - pct, 1) << " points short\n";
        }
      }
      if (t.kind == "decode" && !r->key.pdl) {
        const PerfRow* peer = perf.best_peer(r->key);
        if (peer != nullptr && r->us >= peer->us) {
          ++family_misses;
          misses << "- decode " << r->key.profile << " " << r->key.dtype << " "
                 << shape_short(r->key) << " (PDL off): " << fixed(r->us, 2) << " us vs "
                 << peer->key.source << " " << fixed(peer->us, 2) << " us ("
                 << fixed(100 * (r->us / peer->us - 1), 1) << "% slower)\n";
        }
      }
    }
  }
  md << "\n"
     << (family_misses == 0
             ? std::string("Every target is met.\n\n")
             : std::to_string(family_misses) + " target misses:\n\n" + misses.str() + "\n");
  outcome->target_misses += family_misses;
  if (!gnuplot) return;
  for (const std::string& d : fp.dtypes) {
    std::ostringstream data, gp;
    int idx = 0, drawn = 0;
    const std::string name = f.family + "_bandwidth_" + d;
    gp << "set title '" << f.family << ": bandwidth shapes, " << d << " (L2 flushed)'\nset xlabel '"
       << f.bandwidth_axis
       << "'\nset ylabel 'GB/s (read + written)'\nset logscale x 2\nset key bottom right\n"
          "set yrange [0:*]\nplot ";
    for (const auto& [src, prof, dt, series] : lines) {
      if (dt != d) continue;
      const std::string title = src + " " + prof + (series.empty() ? "" : " " + series);
      data << "# " << title << "\n";
      int n = 0;
      for (std::int64_t v : fp.bw_values) {
        if (const PerfRow* r = bw_row(src, prof, dt, series, v)) {
          data << v << " " << r->gbps << "\n";
          ++n;
        }
      }
      data << "\n\n";
      if (n > 0) {
        gp << (drawn++ ? ", " : "") << "'" << (dir / "plots" / (name + ".dat")).string()
           << "' index " << idx << " with linespoints lw 2 title '" << title << "'";
      }
      ++idx;
    }
    if (drawn > 0) {
      gp << ", " << perf.copy_gbps << " with lines dt 2 lc 'black' title 'copy ceiling'\n";
      std::ofstream(dir / "plots" / (name + ".dat")) << data.str();
      if (plot(dir, name, gp.str())) {
        md << "![" << f.family << " bandwidth " << d << "](" << name << ".png)\n\n";
      }
    }
    // Decode: us per call along the decode axis (PDL off), ours and the best peer, for the first
    // decode profile with rows and the smallest and largest of the other shape columns.
    std::string prof;
    std::set<std::string> cols;
    for (const std::string& p : f.decode_profiles) {
      for (const PerfRow* r : fp.rows) {
        if (r->key.source == "kconform" && r->key.kind == "decode" && !r->key.pdl &&
            r->key.profile == p && r->key.dtype == d && r->error.empty()) {
          prof = p;
          cols.insert(shape_text(r->key, f.decode_axis));
        }
      }
      if (!prof.empty()) break;
    }
    if (prof.empty()) continue;
    std::vector<std::string> picked = {*cols.begin()};
    if (cols.size() > 1) picked.push_back(*cols.rbegin());
    std::ostringstream dd, dg;
    const std::string dname = f.family + "_decode_" + d;
    dg << "set title '" << f.family << ": decode shapes, " << prof << " " << d
       << " (CUDA-graph replay, PDL off)'\nset xlabel '" << f.decode_axis
       << "'\nset ylabel 'us per call'\nset logscale x 2\nset key top left\nset yrange [0:*]\n"
          "plot ";
    int di = 0, ddrawn = 0;
    for (const std::string& col : picked) {
      for (const bool peer : {false, true}) {
        dd << "# " << (peer ? "best peer " : "kconform ") << col << "\n";
        int n = 0;
        for (const PerfRow* r : fp.rows) {
          if (r->key.source != "kconform" || r->key.kind != "decode" || r->key.pdl ||
              r->key.profile != prof || r->key.dtype != d || !r->error.empty() ||
              shape_text(r->key, f.decode_axis) != col) {
            continue;
          }
          const PerfRow* y = peer ? perf.best_peer(r->key) : r;
          if (y == nullptr) continue;
          dd << r->key.param(f.decode_axis) << " " << y->us << "\n";
          ++n;
        }
        dd << "\n\n";
        if (n > 0) {
          dg << (ddrawn++ ? ", " : "") << "'" << (dir / "plots" / (dname + ".dat")).string()
             << "' index " << di << " with linespoints lw 2 title '"
             << (peer ? "best peer " : "kconform ") << col << "'";
        }
        ++di;
      }
    }
    dg << "\n";
    std::ofstream(dir / "plots" / (dname + ".dat")) << dd.str();
    if (ddrawn > 0 && plot(dir, dname, dg.str())) {
      md << "![" << f.family << " decode " << d << "](" << dname << ".png)\n\n";
    }
  }
}

}  // namespace

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
  // Inputs, all read before anything is written.
  results::ResultSet results;
  if (!in.check_files.empty() && !results.load(in.check_files, &outcome.error)) {
    outcome.ok = false;
    return outcome;
  }
  PerfSet perf;
  if (!in.perf_files.empty() && !perf.load(in.perf_files, &outcome.error)) {
    outcome.ok = false;
    return outcome;
  }
  std::string env;
  if (!in.env_file.empty()) {
    json::value v;
    if (!results::read_json_object(in.env_file, &v, &outcome.error)) {
      outcome.ok = false;
      return outcome;
    }
    env = json::serialize(v);
  } else {
    env = environment_json(in.commit.empty() ? results.commit() : in.commit);
  }
  const json::object envo = json::parse(env).as_object();
  const std::string commit = !in.commit.empty() ? in.commit
                             : envo.contains("commit")
                                 ? json::value_to<std::string>(envo.at("commit"))
                                 : results.commit();
  const fs::path dir(in.out_dir);
  std::error_code ec;
  fs::create_directories(dir / "plots", ec);
  if (ec) {
    outcome.ok = false;
    outcome.error = "cannot create " + in.out_dir;
    return outcome;
  }
  std::vector<FamilyReport> families = results.families();
  for (const FamilyReport& f : perf.families) {
    bool known = false;
    for (const FamilyReport& g : families) known = known || g.family == f.family;
    if (!known) families.push_back(f);
  }
  const std::vector<PrecEntry> prec = precision_entries(results);
  std::ofstream(dir / "env.json") << env << "\n";
  std::ofstream(dir / "precision.json")
      << json::serialize(precision_json(prec, results, commit)) << "\n";
  if (!in.perf_files.empty()) {
    std::ofstream(dir / "perf.json") << json::serialize(perf.merged) << "\n";
  }
  const bool gnuplot = in.plots && have_gnuplot();

  std::ostringstream md;
  md << "# kconform report " << commit << "\n\n";
  if (envo.contains("date"))
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
  if (envo.contains("cuda") && envo.contains("compiler")) {
    md << "- toolkit: " << json::value_to<std::string>(envo.at("cuda").as_object().at("nvcc"))
       << "; compiler: " << json::value_to<std::string>(envo.at("compiler")) << "\n";
  }
  md << "- inputs: " << in.check_files.size() << " check/fuzz result files ("
     << results.pairs().size() << " pairs, " << results.total_cases() << " cases), "
     << in.perf_files.size() << " benchmark files\n";
  md << "- families:";
  for (const FamilyReport& f : families) md << " " << f.family;
  md << "\n\n";

  // Conformance.
  md << "## Conformance\n\n";
  if (results.pairs().empty()) {
    md << "No check results were given.\n\n";
  } else {
    int pass = 0;
    for (const PairRecord& p : results.pairs()) pass += p.passed;
    md << pass << " of " << results.pairs().size() << " (subject, property) pairs conform.\n\n";
    for (const PairRecord& p : results.pairs()) {
      if (p.passed) continue;
      md << "- **FAIL** " << p.subject << " " << p.property << ": " << p.failure.message;
      if (!p.repros.empty()) md << " (repro `" << p.repros.front() << "`)";
      md << "\n";
    }
    md << "\n| subject | properties | cases | n/a |\n|---|---|---:|---:|\n";
    std::map<std::string, std::vector<const PairRecord*>> by_subject;
    for (const PairRecord& p : results.pairs()) by_subject[p.subject].push_back(&p);
    for (const auto& [subject, list] : by_subject) {
      long long cases = 0, na = 0;
      int ok = 0;
      for (const PairRecord* p : list) {
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
    md << "Per subject and dtype over all of the family's precision buckets; p99 is the upper "
          "edge of its 1/64-ulp histogram bin. precision.json breaks them out per bucket with "
          "the seeds.\n\n";
    md << "| subject | dtype | elements | exact % | p99 ulp | max ulp "
          "|\n|---|---|---:|---:|---:|---:|\n";
    std::map<std::pair<std::string, std::string>, PrecisionStats> agg;
    for (const PrecEntry& e : prec) agg[{e.subject, e.dtype}].merge(e.stats);
    std::map<std::string, PrecisionStats> by_dtype;
    for (const auto& [k, st] : agg) {
      md << "| " << k.first << " | " << k.second << " | " << st.elements << " | "
         << fixed(100.0 * static_cast<double>(st.exact) /
                      std::max<double>(1, static_cast<double>(st.elements)),
                  3)
         << " | " << fixed(st.quantile(0.99), 4) << " | " << fixed(st.max_ulp, 4) << " |\n";
      if (k.first.rfind("kc.", 0) == 0) by_dtype[k.second].merge(st);
    }
    md << "\n";
    if (gnuplot && !by_dtype.empty()) {
      std::ostringstream data;
      for (const auto& [dt, st] : by_dtype) {
        data << "# " << dt << "\n";
        for (int i = 0; i < PrecisionStats::kLinearBins; ++i) {
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
      if (plot(dir, "precision_hist", gp.str())) {
        md << "![ULP error histogram](precision_hist.png)\n\n";
      }
    }
  }

  // Performance.
  md << "## Performance\n\n";
  if (in.perf_files.empty()) {
    md << "No benchmark results: speed is measured on a GPU (`kconform bench`), never assumed.\n\n";
  } else {
    md << "Method: CUDA events; bandwidth shapes launch once per timing with the L2 flushed; "
          "decode shapes replay a CUDA graph of back-to-back calls, the headline with PDL off "
          "(PDL between identical launches overlaps what a serving graph does not), PDL on in "
          "parentheses; every peer timed by the same method in the same run; decode compared "
          "with the best peer per shape.\n\n";
    md << "Device-to-device copy (bytes read + written) in the same run: **"
       << fixed(perf.copy_gbps, 0) << " GB/s**; % copy below is relative to it. Empty-kernel "
       << "graph node: " << fixed(perf.empty_us, 2) << " us (" << fixed(perf.empty_pdl_us, 2)
       << " us with PDL).\n\n";
    for (const FamilyReport& f : families) {
      FamilyPerf fp{&f, {}, {}, {}, {}};
      for (const PerfRow& r : perf.rows) {
        if (r.key.family != f.family) continue;
        fp.rows.push_back(&r);
        if (r.key.source == "kconform") fp.dtypes.insert(r.key.dtype);
        if (r.key.kind == "bandwidth") fp.bw_values.insert(r.key.param(f.bandwidth_axis));
        if (r.key.kind == "decode") fp.dec_values.insert(r.key.param(f.decode_axis));
      }
      if (fp.rows.empty()) continue;
      performance_section(perf, fp, dir, gnuplot, md, &outcome);
    }
    if (!notes.empty()) md << "### Why\n\n" << notes << "\n";
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
    if (results::read_json_object((fs::path(in.baseline_dir) / "precision.json").string(), &bp,
                                  &err) &&
        bp.as_object().contains("entries")) {
      for (const json::value& ev : bp.as_object().at("entries").as_array()) {
        const json::object& e = ev.as_object();
        const std::string subject = json::value_to<std::string>(e.at("subject"));
        const std::string dt = json::value_to<std::string>(e.at("dtype"));
        const std::string bucket = json::value_to<std::string>(e.at("bucket"));
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
      md << "(baseline has no readable precision.json: " << err << ")\n\n";
    }
    if (fs::exists(fs::path(in.baseline_dir) / "perf.json") && !in.perf_files.empty()) {
      PerfSet base;
      if (base.load({(fs::path(in.baseline_dir) / "perf.json").string()}, &err)) {
        std::map<std::string, const PerfRow*> base_rows;
        for (const PerfRow& r : base.rows) base_rows[r.key.id()] = &r;
        for (const PerfRow& r : perf.rows) {
          if (r.key.source != "kconform" || !r.error.empty()) continue;
          const auto it = base_rows.find(r.key.id());
          if (it == base_rows.end() || !it->second->error.empty()) continue;
          const PerfRow& b = *it->second;
          if (r.key.kind == "bandwidth" && r.gbps < b.gbps * (1 - kBandwidthNoise)) {
            ++outcome.regressions;
            reg << "- **REGRESSION** bandwidth " << r.key.profile << " " << r.key.dtype << " "
                << shape_short(r.key) << ": " << fixed(b.gbps, 0) << " -> " << fixed(r.gbps, 0)
                << " GB/s (" << fixed(100 * (r.gbps / b.gbps - 1), 1) << "%)\n";
          }
          if (r.key.kind == "decode" && r.us > b.us * (1 + kDecodeNoise)) {
            ++outcome.regressions;
            reg << "- **REGRESSION** decode " << r.key.profile << " " << r.key.dtype << " "
                << shape_short(r.key) << (r.key.pdl ? "" : " (PDL off)") << ": " << fixed(b.us, 2)
                << " -> " << fixed(r.us, 2) << " us (+" << fixed(100 * (r.us / b.us - 1), 1)
                << "%)\n";
          }
        }
      } else {
        md << "(baseline perf.json unreadable: " << err << ")\n\n";
      }
    }
    // Conformance: a pair that passed in the baseline and fails now.
    if (bp.is_object() && bp.as_object().contains("conformance")) {
      for (const json::value& cv : bp.as_object().at("conformance").as_array()) {
        const json::object& c = cv.as_object();
        if (!c.at("passed").as_bool()) continue;
        for (const PairRecord& p : results.pairs()) {
          if (!p.passed && p.subject == json::value_to<std::string>(c.at("subject")) &&
              p.property == json::value_to<std::string>(c.at("property"))) {
            ++outcome.regressions;
            reg << "- **REGRESSION** conformance " << p.subject << " " << p.property
                << " passed in the baseline and fails now: " << p.failure.message << "\n";
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
