// `marill plot` (app/plot.h): figures from a sweep's CSVs through gnuplot, and quality beside cost.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "app/cli.h"
#include "app/commands.h"
#include "app/plot.h"

extern char** environ;

namespace marill {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- small helpers

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string general(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// A gnuplot string literal. Single quotes take everything literally but '' (one quote), so no
// text from a CSV can end the string or run a command; control characters become spaces.
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "'";
}

// A file-name part: letters, digits, '.', '+', '-'; anything else becomes '_'.
std::string file_part(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' ? c : '_';
  return out.empty() ? "_" : out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw std::runtime_error(path + ": cannot write");
}

// Means of values by (row key, column key), keys in first-seen order (repeats of a point average).
struct MeanTable {
  std::vector<std::string> rows, cols;
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> acc;
  void add(const std::string& r, const std::string& c, double v) {
    add_unique(rows, r);
    add_unique(cols, c);
    auto& a = acc[{r, c}];
    a.first += v;
    a.second += 1;
  }
  std::optional<double> get(const std::string& r, const std::string& c) const {
    auto it = acc.find({r, c});
    if (it == acc.end()) return std::nullopt;
    return it->second.first / it->second.second;
  }
};

// ---------------------------------------------------------------- what tells rows apart

// The dimensions beyond the setting that vary among rows: named in group keys only then.
struct Dimensions {
  bool stage = false, network = false, b = false, model = false;
};

Dimensions varying_dimensions(const std::vector<const SweepRow*>& rows) {
  std::set<std::string> stages, networks, models;
  std::map<std::string, std::set<long long>> bs;  // per stage: prefill's b and decode's context differ by design
  for (const SweepRow* r : rows) {
    stages.insert(r->stage);
    networks.insert(r->network);
    models.insert(r->model);
    bs[r->stage].insert(r->b);
  }
  bool b_varies = false;
  for (const auto& [stage, values] : bs) b_varies = b_varies || values.size() > 1;
  return {stages.size() > 1, networks.size() > 1, b_varies, models.size() > 1};
}

std::string setting_key(const SweepRow& r, const Dimensions& d) {
  std::string k = r.setting;
  if (d.stage) k += " " + r.stage;
  if (d.network) k += " " + r.network;
  if (d.b) k += " b=" + std::to_string(r.b);
  if (d.model) k += " " + r.model;
  return k;
}

// The MARILL knobs of a row, for naming points that carry no label.
const std::vector<std::pair<std::string, std::function<std::string(const SweepRow&)>>>& knobs() {
  static const std::vector<std::pair<std::string, std::function<std::string(const SweepRow&)>>> k = {
      {"f", [](const SweepRow& r) { return general(r.freeze); }},
      {"r", [](const SweepRow& r) { return std::to_string(r.lora_rank); }},
      {"targets", [](const SweepRow& r) { return r.lora_targets; }},
      {"m", [](const SweepRow& r) { return std::to_string(r.merge); }},
      {"grouping", [](const SweepRow& r) { return r.grouping; }},
      {"hp", [](const SweepRow& r) { return std::to_string(r.prune_heads); }},
      {"lp", [](const SweepRow& r) { return std::to_string(r.prune_layers); }},
      {"softmax", [](const SweepRow& r) { return r.softmax; }},
      {"act", [](const SweepRow& r) { return r.act; }},
  };
  return k;
}

std::vector<std::string> varying_knobs(const std::vector<const SweepRow*>& rows, const std::set<std::string>& skip) {
  std::vector<std::string> out;
  for (const auto& [name, get] : knobs()) {
    if (skip.count(name)) continue;
    std::set<std::string> values;
    for (const SweepRow* r : rows) values.insert(get(*r));
    if (values.size() > 1) out.push_back(name);
  }
  return out;
}

std::string knob_text(const SweepRow& r, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& [name, get] : knobs())
    if (std::find(names.begin(), names.end(), name) != names.end()) out += (out.empty() ? "" : " ") + name + "=" + get(r);
  return out;
}

const char* kMetrics[] = {"time", "comm"};
std::optional<double> ratio(const SweepRow& r, const std::string& metric) { return metric == "time" ? r.time_ratio : r.comm_ratio; }
std::string metric_words(const std::string& metric) {
  return metric == "time" ? "time improvement (baseline sim_s / sim_s)" : "communication improvement (baseline bytes / bytes)";
}

// ---------------------------------------------------------------- gnuplot

// The script: PNGs through pngcairo where gnuplot has it, else png; labels taken literally.
struct Script {
  std::string text =
      "# written by marill plot; run in this directory: gnuplot THIS_FILE\n"
      "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
      "  set terminal pngcairo size 1100,620 font ',10'\n"
      "} else {\n"
      "  set terminal png size 1100,620\n"
      "}\n"
      "set termoption noenhanced\n";
  std::vector<std::string> pngs;
  void begin(const std::string& png, const std::string& title) {
    text += "\nreset\nset datafile missing 'NaN'\nset output " + gp_quote(png) + "\nset title " + gp_quote(title) + "\n";
    pngs.push_back(png);
  }
  void end() { text += "unset output\n"; }
};

std::string data_value(const std::optional<double>& v) { return v ? general(*v) : "NaN"; }

std::string xtics(const std::vector<std::string>& names) {
  std::string s = "(";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + gp_quote(names[i]) + " " + std::to_string(i);
  return s + ")";
}

// The program on PATH (or a path); empty when there is none.
std::string find_program(const std::string& name) {
  auto executable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p); };
  if (name.find('/') != std::string::npos) return executable(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string p = (dir.empty() ? "." : dir) + "/" + name;
    if (executable(p)) return p;
  }
  return "";
}

// Runs `gnuplot script` in `dir` (no shell), its output into `log`. Throws naming the package when gnuplot is
// missing, and with gnuplot's messages when it fails.
void run_gnuplot(const std::string& gnuplot, const std::string& dir, const std::string& script, const std::string& log) {
  const std::string program = find_program(gnuplot);
  if (program.empty())
    throw std::runtime_error("gnuplot ('" + gnuplot + "') is not installed or not on PATH: install the Debian package gnuplot-nox (scripts/setup.sh does)");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());  // the script's file names are relative to dir
  std::vector<char*> argv = {const_cast<char*>(program.c_str()), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waiting for gnuplot: " + std::string(std::strerror(errno)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    std::string msg = s.str();
    if (msg.size() > 2000) msg = "..." + msg.substr(msg.size() - 2000);
    throw std::runtime_error("gnuplot failed on " + script + " (" + log + "):\n" + msg);
  }
}

bool is_png(const std::string& path) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::ifstream f(path, std::ios::binary);
  unsigned char head[8] = {};
  return f.read(reinterpret_cast<char*>(head), 8) && std::memcmp(head, sig, 8) == 0;
}

// ---------------------------------------------------------------- the figures

struct Figures {
  std::string dir, prefix;  // files are dir/prefix_...
  Script script;
  PlotOutput out;
  // The script names its files relative to dir (gnuplot runs there), so it can be moved or committed.
  std::string file(const std::string& name) const { return prefix + "_" + name; }
  std::string path(const std::string& name) const { return (fs::path(dir) / file(name)).string(); }
  std::string data(const std::string& name, const std::string& text) {
    write_file(path(name), text);
    out.files.push_back(path(name));
    return file(name);
  }
};

std::vector<std::string> stages_of(const std::vector<SweepRow>& rows) {
  std::vector<std::string> s;
  for (const SweepRow& r : rows) add_unique(s, r.stage);
  return s;
}

// Fig. 4: per stage and metric, each label's improvement, clustered by setting, values on the bars.
void fig4_bars(Figures& f, const std::vector<SweepRow>& rows) {
  bool any = false;
  for (const std::string& stage : stages_of(rows))
    for (const std::string metric : kMetrics) {
      std::vector<const SweepRow*> sel;
      for (const SweepRow& r : rows)
        if (r.stage == stage && !r.label.empty() && ratio(r, metric)) sel.push_back(&r);
      if (sel.empty()) continue;
      const Dimensions dims = varying_dimensions(sel);
      MeanTable t;  // setting group x label
      for (const SweepRow* r : sel) t.add(setting_key(*r, dims), r->label, *ratio(*r, metric));
      std::string dat = "# setting group, then one column per label:";
      for (const std::string& l : t.cols) dat += " " + l;
      dat += "\n";
      double top = 0;
      for (size_t g = 0; g < t.rows.size(); ++g) {
        dat += std::to_string(g);
        for (const std::string& l : t.cols) {
          const auto v = t.get(t.rows[g], l);
          dat += " " + data_value(v);
          if (v) top = std::max(top, *v);
        }
        dat += "\n";
      }
      const std::string name = "fig4_" + file_part(stage) + "_" + metric;
      const std::string d = f.data(name + ".dat", dat);
      f.script.begin(f.file(name + ".png"), f.prefix + ": " + stage + ", " + metric_words(metric));
      const size_t n = t.cols.size();
      std::string& s = f.script.text;
      s += "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n";
      s += "set yrange [0:" + general(top * 1.2 + 1e-9) + "]\nset xrange [-0.6:" + general(static_cast<double>(t.rows.size()) - 0.4) + "]\n";
      s += "set xtics " + xtics(t.rows) + "\nset ylabel 'improvement factor (x)'\nset grid ytics\nset key outside right top\n";
      s += "plot ";
      for (size_t i = 0; i < n; ++i) s += (i ? ", " : "") + gp_quote(d) + " using " + std::to_string(i + 2) + " title " + gp_quote(t.cols[i]);
      // each bar's centre in its cluster: n bars and a gap of one bar share the unit of one cluster
      for (size_t i = 0; i < n; ++i)
        s += ", " + gp_quote(d) + " using ($0 + (" + std::to_string(i) + " - " + general((static_cast<double>(n) - 1) / 2) + ") / " +
             std::to_string(n + 1) + ".0):" + std::to_string(i + 2) + ":(sprintf('%.2f', $" + std::to_string(i + 2) +
             ")) with labels offset 0,0.7 font ',8' notitle";
      s += "\n";
      f.script.end();
      any = true;
    }
  if (!any) f.out.notes.push_back("Fig. 4 bars: no labelled point with a baseline (time_ratio / comm_ratio empty)");
}

// Table 2: the ratios against f, one curve per setting (and per other knob that varies), per stage.
void table2_curves(Figures& f, const std::vector<SweepRow>& rows) {
  bool any = false;
  for (const std::string& stage : stages_of(rows))
    for (const std::string metric : kMetrics) {
      std::vector<const SweepRow*> sel;
      for (const SweepRow& r : rows)
        if (r.stage == stage && ratio(r, metric)) sel.push_back(&r);
      std::set<double> fs;
      for (const SweepRow* r : sel) fs.insert(r->freeze);
      if (fs.size() < 2) continue;
      const Dimensions dims = varying_dimensions(sel);
      const std::vector<std::string> other = varying_knobs(sel, {"f"});
      std::map<std::string, std::map<double, std::pair<double, int>>> curves;
      std::vector<std::string> order;
      double top = 0;
      for (const SweepRow* r : sel) {
        std::string key = setting_key(*r, dims);
        const std::string knob = knob_text(*r, other);
        if (!knob.empty()) key += " " + knob;
        add_unique(order, key);
        auto& a = curves[key][r->freeze];
        a.first += *ratio(*r, metric);
        a.second += 1;
      }
      std::string dat;
      for (const std::string& key : order) {
        dat += "# " + key + ": f, " + metric + " ratio\n";
        for (const auto& [fr, a] : curves[key]) {
          dat += general(fr) + " " + general(a.first / a.second) + "\n";
          top = std::max(top, a.first / a.second);
        }
        dat += "\n\n";
      }
      const std::string name = "table2_" + file_part(stage) + "_" + metric;
      const std::string d = f.data(name + ".dat", dat);
      f.script.begin(f.file(name + ".png"), f.prefix + ": " + stage + ", " + metric_words(metric) + " against f");
      std::string& s = f.script.text;
      s += "set xlabel 'freeze f (fraction of the layers that is private)'\nset ylabel 'improvement factor (x)'\nset grid\n";
      s += "set key outside right top\nset xrange [" + general(*fs.begin() * 0.8) + ":" + general(*fs.rbegin() + 0.05) + "]\n";
      s += "set yrange [0:" + general(std::max(top, 1.0 / *fs.rbegin()) * 1.15) + "]\nset samples 400\nplot ";
      for (size_t i = 0; i < order.size(); ++i)
        s += gp_quote(d) + " index " + std::to_string(i) + " using 1:2 with linespoints lw 2 pt 7 title " + gp_quote(order[i]) + ", ";
      s += "1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'\n";
      f.script.end();
      any = true;
    }
  if (!any) f.out.notes.push_back("Table 2 curves: f does not vary among points with a baseline");
}

// Op-kind stacks: per stage and setting (network), each point's online bytes split by op kind.
void ops_stacks(Figures& f, const std::vector<SweepRow>& rows, const std::vector<OpsRow>& ops) {
  std::map<std::string, std::vector<const OpsRow*>> by_point;
  for (const OpsRow& o : ops) by_point[o.point_id].push_back(&o);
  std::vector<const SweepRow*> all;
  for (const SweepRow& r : rows) all.push_back(&r);
  const Dimensions dims_all = varying_dimensions(all);
  std::vector<std::string> groups;
  std::map<std::string, std::vector<const SweepRow*>> grouped;
  for (const SweepRow& r : rows) {
    std::string key = r.stage + " " + r.setting + (dims_all.network ? " " + r.network : "") + (dims_all.model ? " " + r.model : "");
    add_unique(groups, key);
    grouped[key].push_back(&r);
  }
  std::vector<std::string> unmatched;
  for (const SweepRow& r : rows)
    if (!by_point.count(r.point_id)) add_unique(unmatched, r.point_id);
  if (!unmatched.empty())
    f.out.notes.push_back("op-kind stacks: " + std::to_string(unmatched.size()) + " point(s) without op rows (first: " + unmatched.front() + ")");
  bool any = false;
  for (const std::string& g : groups) {
    // one bar per point (repeats share their point_id and their bytes)
    std::vector<const SweepRow*> points;
    std::set<std::string> seen;
    for (const SweepRow* r : grouped[g])
      if (by_point.count(r->point_id) && seen.insert(r->point_id).second) points.push_back(r);
    if (points.empty()) continue;
    const std::vector<std::string> knob_names = varying_knobs(points, {});
    const bool b_varies = varying_dimensions(points).b;
    // Paths include their sub-paths' costs: the top-level kinds split the bytes without counting twice.
    bool top_level = false;
    for (const SweepRow* p : points)
      for (const OpsRow* o : by_point[p->point_id]) top_level = top_level || o->kind.find('/') == std::string::npos;
    std::vector<std::string> kinds, names;
    std::vector<std::map<std::string, double>> bytes(points.size());
    std::map<std::string, double> kind_total;
    for (size_t i = 0; i < points.size(); ++i) {
      double sum = 0;
      for (const OpsRow* o : by_point[points[i]->point_id]) {
        if (top_level && o->kind.find('/') != std::string::npos) continue;
        bytes[i][o->kind] += o->online_bytes_total;
        sum += o->online_bytes_total;
      }
      if (points[i]->online_bytes_total > sum * 1.001) bytes[i]["other"] += points[i]->online_bytes_total - sum;
      for (const auto& [k, v] : bytes[i]) kind_total[k] += v;
      std::string name = points[i]->label.empty() ? knob_text(*points[i], knob_names) : points[i]->label;
      if (b_varies) name += (name.empty() ? "" : " ") + std::string("b=") + std::to_string(points[i]->b);
      names.push_back(name.empty() ? points[i]->point_id : name);
    }
    for (const auto& [k, v] : kind_total) kinds.push_back(k);
    std::stable_sort(kinds.begin(), kinds.end(), [&](const std::string& a, const std::string& b) { return kind_total[a] > kind_total[b]; });
    std::string dat = "# point, then the share (%) of online bytes of each kind:";
    for (const std::string& k : kinds) dat += " " + k;
    dat += "\n";
    for (size_t i = 0; i < points.size(); ++i) {
      double total = 0;
      for (const auto& [k, v] : bytes[i]) total += v;
      dat += std::to_string(i);
      for (const std::string& k : kinds) {
        auto it = bytes[i].find(k);
        dat += " " + general(total > 0 && it != bytes[i].end() ? 100.0 * it->second / total : 0.0);
      }
      dat += "\n";
    }
    const std::string name = "ops_" + file_part(g);
    const std::string d = f.data(name + ".dat", dat);
    f.script.begin(f.file(name + ".png"), f.prefix + ": " + g + ", share of online bytes by op kind");
    std::string& s = f.script.text;
    s += "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.85 border -1\nset boxwidth 0.75\n";
    s += "set yrange [0:100]\nset ylabel 'share of online bytes (%)'\nset xtics rotate by -35 " + xtics(names) + "\n";
    s += "set key outside right top\nplot ";
    for (size_t i = 0; i < kinds.size(); ++i) s += (i ? ", " : "") + gp_quote(d) + " using " + std::to_string(i + 2) + " title " + gp_quote(kinds[i]);
    s += "\n";
    f.script.end();
    any = true;
  }
  if (!any) f.out.notes.push_back("op-kind stacks: no point has op rows");
}

// Quality beside cost: one scatter per column and metric, the Pareto front marked.
void quality_plots(Figures& f, const QualityJoin& j) {
  for (const std::string& col : j.columns)
    for (const std::string metric : kMetrics) {
      std::vector<std::pair<double, double>> pts;
      std::vector<std::string> names;
      for (const QualityEntry& e : j.entries) {
        const auto& m = metric == std::string("time") ? e.time : e.comm;
        auto it = m.find(col);
        if (it == m.end() || !it->second) continue;
        pts.emplace_back(*it->second, e.pct_of_full);
        names.push_back(e.technique);
      }
      if (pts.empty()) continue;
      const std::vector<bool> front = pareto_front(pts);
      std::vector<std::pair<double, double>> fp;
      std::string all_dat = "# " + metric + " improvement, % of full fine-tuning\n";
      double maxx = 0, maxy = 100;
      for (size_t i = 0; i < pts.size(); ++i) {
        all_dat += general(pts[i].first) + " " + general(pts[i].second) + "\n";
        if (front[i]) fp.push_back(pts[i]);
        maxx = std::max(maxx, pts[i].first);
        maxy = std::max(maxy, pts[i].second);
      }
      std::sort(fp.begin(), fp.end());
      std::string front_dat = "# the Pareto front, by improvement\n";
      for (const auto& [x, y] : fp) front_dat += general(x) + " " + general(y) + "\n";
      const std::string name = "quality_" + file_part(j.task) + "_" + file_part(col) + "_" + metric;
      const std::string d_all = f.data(name + ".dat", all_dat), d_front = f.data(name + "_front.dat", front_dat);
      f.script.begin(f.file(name + ".png"), f.prefix + ": " + j.task + " quality beside " + metric + " cost, " + col);
      std::string& s = f.script.text;
      s += "set xlabel " + gp_quote(metric_words(metric) + ", " + col) + "\nset ylabel " + gp_quote("% of full fine-tuning (" + j.task + ")") + "\n";
      s += "set grid\nset key bottom right\nset xrange [0:" + general(maxx * 1.2 + 1e-9) + "]\nset yrange [0:" + general(maxy * 1.12) + "]\n";
      for (size_t i = 0; i < pts.size(); ++i)
        s += "set label " + std::to_string(i + 1) + " " + gp_quote(names[i]) + " at " + general(pts[i].first) + "," + general(pts[i].second) +
             " offset 0.8,0.6 font ',9'\n";
      s += "plot " + gp_quote(d_all) + " using 1:2 with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'technique', " + gp_quote(d_front) +
           " using 1:2 with linespoints pt 6 ps 2.8 lw 2 lc rgb '#d62728' title 'Pareto front'\n";
      f.script.end();
    }
}

}  // namespace

std::vector<bool> pareto_front(const std::vector<std::pair<double, double>>& p) {
  std::vector<bool> front(p.size(), true);
  for (size_t i = 0; i < p.size(); ++i)
    for (size_t k = 0; k < p.size() && front[i]; ++k)
      if (k != i && p[k].first >= p[i].first && p[k].second >= p[i].second && (p[k].first > p[i].first || p[k].second > p[i].second))
        front[i] = false;
  return front;
}

QualityJoin join_quality(const std::vector<SweepRow>& rows, const std::vector<QualityRow>& quality, const std::string& task) {
  QualityJoin j;
  j.task = task;
  std::vector<const QualityRow*> q;
  std::vector<std::string> tasks;
  for (const QualityRow& r : quality) {
    add_unique(tasks, r.task);
    if (r.task == task) q.push_back(&r);
  }
  if (q.empty()) {
    std::string known;
    for (const std::string& t : tasks) known += (known.empty() ? "" : ", ") + t;
    throw std::invalid_argument("the quality table has no row for task '" + task + "' (tasks: " + known + ")");
  }
  std::vector<const SweepRow*> labelled;
  for (const SweepRow& r : rows)
    if (!r.label.empty() && (r.time_ratio || r.comm_ratio)) labelled.push_back(&r);
  const Dimensions dims = varying_dimensions(labelled);
  MeanTable time, comm;
  std::vector<std::string> labels;
  for (const SweepRow* r : labelled) {
    const std::string col = setting_key(*r, dims);
    add_unique(j.columns, col);
    add_unique(labels, r->label);
    if (r->time_ratio) time.add(r->label, col, *r->time_ratio);
    if (r->comm_ratio) comm.add(r->label, col, *r->comm_ratio);
  }
  std::set<std::string> techniques;
  for (const QualityRow* r : q) {
    techniques.insert(r->technique);
    if (std::find(labels.begin(), labels.end(), r->technique) == labels.end()) {
      add_unique(j.unmatched_techniques, r->technique);
      continue;
    }
    QualityEntry e;
    e.technique = r->technique;
    e.description = r->description;
    e.pct_of_full = r->pct_of_full;
    for (const std::string& col : j.columns) {
      e.time[col] = time.get(r->technique, col);
      e.comm[col] = comm.get(r->technique, col);
    }
    j.entries.push_back(std::move(e));
  }
  for (const std::string& l : labels)
    if (!techniques.count(l)) j.unmatched_labels.push_back(l);
  // the fronts, per column and metric, over the techniques that have a value there
  for (const std::string& col : j.columns)
    for (const std::string metric : kMetrics) {
      std::vector<std::pair<double, double>> pts;
      std::vector<QualityEntry*> who;
      for (QualityEntry& e : j.entries) {
        const auto& v = (metric == std::string("time") ? e.time : e.comm)[col];
        if (!v) continue;
        pts.emplace_back(*v, e.pct_of_full);
        who.push_back(&e);
      }
      const std::vector<bool> front = pareto_front(pts);
      for (size_t i = 0; i < who.size(); ++i)
        if (front[i]) who[i]->front.push_back(col + " " + metric);
    }
  return j;
}

std::string quality_markdown(const QualityJoin& j) {
  std::ostringstream s;
  s << "| technique | % of full fine-tuning |";
  for (const std::string& c : j.columns) s << " " << c << " time (x) | " << c << " comm (x) |";
  s << " Pareto front |\n|---|---:|";
  for (size_t i = 0; i < j.columns.size(); ++i) s << "---:|---:|";
  s << "---|\n";
  auto cell = [](const std::optional<double>& v) { return v ? fixed(*v, 2) : std::string("-"); };
  for (const QualityEntry& e : j.entries) {
    s << "| " << e.technique << " | " << fixed(e.pct_of_full, 1) << " |";
    for (const std::string& c : j.columns) s << " " << cell(e.time.at(c)) << " | " << cell(e.comm.at(c)) << " |";
    std::string fr;
    for (const std::string& x : e.front) fr += (fr.empty() ? "" : ", ") + x;
    s << " " << (fr.empty() ? "-" : fr) << " |\n";
  }
  s << "\nPareto front (no other technique is at least as good on both quality and the improvement, and better on one):\n";
  for (const std::string& c : j.columns)
    for (const std::string metric : kMetrics) {
      std::string names;
      for (const QualityEntry& e : j.entries)
        if (std::find(e.front.begin(), e.front.end(), c + " " + metric) != e.front.end()) names += (names.empty() ? "" : ", ") + e.technique;
      if (!names.empty()) s << "- " << c << ", " << metric << ": " << names << "\n";
    }
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& x : v) out += (out.empty() ? "" : ", ") + x;
    return out.empty() ? std::string("none") : out;
  };
  s << "\nTechniques of the task without sweep rows: " << list(j.unmatched_techniques) << "\n";
  s << "Sweep labels without quality for the task: " << list(j.unmatched_labels) << "\n";
  return s.str();
}

PlotOutput make_plots(const PlotOptions& o) {
  if (o.results.empty()) throw std::invalid_argument("marill plot: which RESULTS.csv?");
  if (!o.quality.empty() && o.task.empty()) throw std::invalid_argument("option '--task': --quality needs the task (code or translate)");
  if (o.quality.empty() && !o.task.empty()) throw std::invalid_argument("option '--task': only with --quality");
  const std::vector<SweepRow> rows = read_sweep_csv(o.results);
  // read every input before drawing anything, so bad input writes no file
  const std::string ops_path = ops_csv_path(o.results);
  const bool have_ops = fs::exists(ops_path);
  const std::vector<OpsRow> ops = have_ops ? read_ops_csv(ops_path) : std::vector<OpsRow>{};
  std::optional<QualityJoin> joined;
  if (!o.quality.empty()) joined = join_quality(rows, read_quality_csv(o.quality), o.task);

  Figures f;
  f.dir = o.out_dir.empty() ? fs::path(o.results).parent_path().string() : o.out_dir;
  if (f.dir.empty()) f.dir = ".";
  std::error_code ec;
  fs::create_directories(f.dir, ec);
  if (ec || !fs::is_directory(f.dir)) throw std::invalid_argument(f.dir + ": cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  f.dir = fs::absolute(f.dir).lexically_normal().string();
  f.prefix = file_part(fs::path(o.results).stem().string());

  fig4_bars(f, rows);
  table2_curves(f, rows);
  if (have_ops) ops_stacks(f, rows, ops);
  else f.out.notes.push_back("op-kind stacks: " + ops_path + " is missing");
  if (joined) {
    const std::string md = f.path("quality_" + file_part(o.task) + ".md");
    write_file(md, "# Quality beside cost: " + o.task + "\n\nQuality: " + o.quality + " (% of full fine-tuning). Cost: " + o.results +
                       " (improvement factor = the baseline's / the point's: time = simulated online time, comm = online bytes), joined by "
                       "label = technique.\n\n" + quality_markdown(*joined));
    f.out.files.push_back(md);
    quality_plots(f, *joined);
    if (!joined->unmatched_techniques.empty() || !joined->unmatched_labels.empty())
      f.out.notes.push_back("quality join: techniques without sweep rows: " + std::to_string(joined->unmatched_techniques.size()) +
                            ", sweep labels without quality: " + std::to_string(joined->unmatched_labels.size()) + " (listed in " + md + ")");
  }
  if (f.script.pngs.empty()) {
    std::string why;
    for (const std::string& n : f.out.notes) why += "\n  " + n;
    throw std::invalid_argument(o.results + ": nothing to plot:" + why);
  }
  const std::string script = f.path("plots.gp"), log = f.path("gnuplot.log");
  write_file(script, f.script.text);
  f.out.files.push_back(script);
  run_gnuplot(o.gnuplot, f.dir, script, log);
  f.out.files.push_back(log);
  for (const std::string& name : f.script.pngs) {
    const std::string png = (fs::path(f.dir) / name).string();
    if (!is_png(png)) throw std::runtime_error(png + ": gnuplot wrote no PNG (see " + log + ")");
    f.out.files.push_back(png);
  }
  return f.out;
}

int cmd_plot(int argc, char** argv) {
  Args args(argc, argv, {{"--out", Opt::text}, {"--quality", Opt::text}, {"--task", Opt::text}},
            "usage: marill plot RESULTS.csv [--out DIR] [--quality results/ml/results.csv --task code|translate]\n"
            "Draws PNGs with gnuplot from a sweep's CSV (marill run) and RESULTS.ops.csv beside it: Fig. 4-style bars of\n"
            "each label's improvement per setting, Table 2-style ratio curves against f, op-kind stacks of the bytes;\n"
            "with --quality, the trained techniques' quality beside their cost (a markdown table and scatter plots with\n"
            "the Pareto front). Files go to DIR (default: the CSV's directory), named after the CSV.\n",
            /*positional_allowed=*/true);
  if (args.help()) return 0;
  if (args.positional().size() != 1)
    throw std::invalid_argument("marill plot: expected one RESULTS.csv, got " + std::to_string(args.positional().size()) + " file arguments");
  PlotOptions o;
  o.results = args.positional()[0];
  o.out_dir = args.get("--out", "");
  o.quality = args.get("--quality", "");
  o.task = args.get("--task", "");
  const PlotOutput out = make_plots(o);
  // the figures and the table; then the gnuplot script that drew them (its data files beside it)
  std::printf("marill plot: wrote\n");
  auto ends_with = [](const std::string& p, const std::string& e) { return p.size() >= e.size() && p.compare(p.size() - e.size(), e.size(), e) == 0; };
  size_t data_files = 0;
  for (const std::string& p : out.files) {
    if (ends_with(p, ".png") || ends_with(p, ".md") || ends_with(p, ".gp")) std::printf("  %s\n", p.c_str());
    data_files += ends_with(p, ".dat");
  }
  std::printf("  and %zu gnuplot data files and its log beside them\n", data_files);
  for (const std::string& n : out.notes) std::printf("note: %s\n", n.c_str());
  return 0;
}

}  // namespace marill
