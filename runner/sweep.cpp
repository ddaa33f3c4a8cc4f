#include "runner/sweep.h"

#include "runner/results_reader.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "runner/runner.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

// Columns of the sweep CSV used below (the header is the schema).
enum Col : size_t {
  kPointId = 1, kRepeat = 20, kOnlineTotal = 22, kSim = 25, kBaselineId = 28, kTimeRatio = 29, kCommRatio = 30, kColumns = 34
};

std::string fmt(const char* f, double x) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

// The whole file or nothing: a killed rewrite leaves the previous file.
void write_atomic(const std::string& path, const std::string& header, const std::vector<CsvFields>& rows) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << header << '\n';
    for (const CsvFields& r : rows) out << csv_join(r) << '\n';
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot replace " + path + ": " + ec.message());
}

// The rows of an existing CSV of `header` (a line that does not parse, e.g. cut by a kill, is skipped).
std::vector<CsvFields> read_rows(const std::string& path, const std::string& header, size_t columns, size_t* skipped) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  if (!std::getline(in, line) || line != header)
    throw std::invalid_argument(path + ": not a `marill run` output (its header is not the sweep schema's)");
  std::vector<CsvFields> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      CsvFields f = csv_split(line);
      if (f.size() == columns) {
        rows.push_back(std::move(f));
        continue;
      }
    } catch (const std::invalid_argument&) {
    }
    ++*skipped;
  }
  return rows;
}

using ItemIndex = std::map<std::pair<std::string, std::string>, size_t>;  // (point_id, repeat) -> work item

// Work item k: point k / repeats, repeat k % repeats + 1.
ItemIndex index_items(const Scenario& sc) {
  ItemIndex item_of;
  const size_t repeats = static_cast<size_t>(sc.repeats);
  for (size_t k = 0; k < sc.points.size() * repeats; ++k) item_of[{sc.points[k / repeats].id, std::to_string(k % repeats + 1)}] = k;
  return item_of;
}

// The rows (and op kinds) of an existing sweep output into `done` and `ops_of`.
void read_existing_output(const std::string& out, const std::string& ops_out, const ItemIndex& item_of,
                          std::vector<std::optional<CsvFields>>& done, std::map<std::string, std::vector<CsvFields>>& ops_of,
                          std::ostream& log);

std::vector<CsvFields> rows_in_order(const std::vector<std::optional<CsvFields>>& done) {
  std::vector<CsvFields> rows;
  for (const auto& d : done)
    if (d) rows.push_back(*d);
  return rows;
}

std::vector<CsvFields> ops_in_point_order(const Scenario& sc, const std::map<std::string, std::vector<CsvFields>>& ops_of) {
  std::vector<CsvFields> rows;
  for (const ScenarioPoint& p : sc.points) {
    auto it = ops_of.find(p.id);
    if (it != ops_of.end()) rows.insert(rows.end(), it->second.begin(), it->second.end());
  }
  return rows;
}

// "point ID (3pc lan prefill b=8 lf freeze=0.5, repeat 1): ERROR", as a failure is reported.
std::string describe_failure(const ScenarioPoint& p, int repeat, const std::string& error) {
  std::string what = "point " + p.id + " (" + setting_name(p.setting) + " " + p.network.name + " " + stage_name(p.stage) +
                     " b=" + std::to_string(p.b) + (p.label.empty() ? "" : " " + p.label);
  for (const KnobValue& v : p.knobs) what += " " + v.knob + "=" + v.text();
  return what + ", repeat " + std::to_string(repeat) + "): " + error;
}

}  // namespace

namespace {
std::string joined(const std::vector<std::string>& columns) {
  std::string s;
  for (const std::string& c : columns) s += (s.empty() ? "" : ",") + c;
  return s;
}
}  // namespace

// The schema the plots read (results_reader.h), then each party's online bytes.
const char* sweep_csv_header() {
  static const std::string h = joined(sweep_csv_columns()) + ",online_bytes_client,online_bytes_server,online_bytes_helper";
  return h.c_str();
}

const char* sweep_ops_csv_header() {
  static const std::string h = joined(ops_csv_columns());
  return h.c_str();
}

std::string csv_join(const CsvFields& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\n\r") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    out += '"';
  }
  return out;
}

CsvFields csv_split(const std::string& line) {
  CsvFields out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') out.back() += c;
      else if (i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else quoted = false;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c == '"' && out.back().empty()) {
      quoted = true;
    } else {
      out.back() += c;
    }
  }
  if (quoted) throw std::invalid_argument("csv: an unterminated quote in '" + line + "'");
  return out;
}

std::string sweep_scope(const Scenario& sc, const ScenarioPoint& p) {
  if (sc.workload == SweepWorkload::block) return "forward";
  return step_scope(p.stage == Stage::prefill ? 0 : 1);  // decode: the first step, after a prompt of b tokens
}

SweepCost sweep_cost(const Scenario& sc, const ScenarioPoint& p, const SessionResult& session, double wall_s) {
  SweepCost c;
  c.wall_s = wall_s;
  const std::string scope = sweep_scope(sc, p);
  c.step = step_cost(session, scope);
  for (const PartyReport& r : session.parties) c.roles.push_back(r.role);
  // Op kinds at most two levels below the step: bytes of all parties, the slowest party's time.
  std::map<std::string, std::pair<u64, double>> kinds;
  const std::string prefix = scope + "/";
  for (const PartyReport& pr : session.parties)
    for (const auto& [path, cost] : pr.ledger.by_op(Phase::online)) {
      if (path.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string kind = path.substr(prefix.size());
      if (std::count(kind.begin(), kind.end(), '/') > 1) continue;
      auto& k = kinds[kind];
      k.first += cost.bytes_sent;
      k.second = std::max(k.second, cost.sim_s);
    }
  for (const auto& [kind, v] : kinds)
    c.ops.push_back({p.id, kind, std::to_string(v.first), std::to_string(session.op_rounds(prefix + kind)), fmt("%.9g", v.second)});
  return c;
}

SweepCost run_sweep_point(const Scenario& sc, const ScenarioPoint& p, std::shared_ptr<const ComputeModel> model) {
  const auto t0 = std::chrono::steady_clock::now();
  SessionResult session;
  if (sc.workload == SweepWorkload::block) {
    Point bp = block_point(sc, p);
    if (model) bp.compute_model = model;
    session = run_point(bp).session;
  } else {
    GenerationPoint g = generation_point(sc, p);
    if (model) g.compute_model = model;
    session = run_generation(g, load_generation(g)).session;
  }
  return sweep_cost(sc, p, session, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

CsvFields sweep_row(const Scenario& sc, const ScenarioPoint& p, int repeat, const SweepCost& c) {
  const pkg::MarillConfig& mc = p.marill;
  std::string targets;
  if (mc.lora_rank > 0)
    for (size_t i = 0; i < mc.lora_targets.size(); ++i) targets += (i ? "+" : "") + mc.lora_targets[i];
  u64 on_max = 0, on_total = 0, off_total = 0;
  for (u64 b : c.step.online_bytes) on_max = std::max(on_max, b), on_total += b;
  for (u64 b : c.step.offline_bytes) off_total += b;
  const bool block = sc.workload == SweepWorkload::block;
  // Per role ("" where the setting has no such party; 2pc-dealer's dealer sends nothing online).
  auto online_of = [&](Role who) {
    for (size_t i = 0; i < c.roles.size() && i < c.step.online_bytes.size(); ++i)
      if (c.roles[i] == who) return std::to_string(c.step.online_bytes[i]);
    return std::string();
  };
  return {sc.name,
          p.id,
          p.label,
          sc.model.name,
          sweep_workload_name(sc.workload),
          setting_name(p.setting),
          p.network.name,
          stage_name(p.stage),
          std::to_string(p.b),
          fmt("%.6g", block ? 1.0 : mc.freeze),
          std::to_string(block ? 1 : mc.private_layers),
          std::to_string(mc.lora_rank),
          targets,
          std::to_string(mc.merge),
          mc.grouping,
          std::to_string(mc.prune_heads),
          std::to_string(mc.prune_layers),
          to_string(mc.softmax),
          to_string(mc.act),
          mode_name(sc.mode),
          std::to_string(repeat),
          std::to_string(on_max),
          std::to_string(on_total),
          std::to_string(off_total),
          std::to_string(c.step.rounds),
          fmt("%.9g", c.step.sim_s),
          fmt("%.6g", c.step.cpu_s),
          fmt("%.6g", c.wall_s),
          "",
          "",
          "",
          online_of(Role::client),
          online_of(Role::server),
          online_of(Role::helper)};
}

void fill_ratios(const Scenario& sc, std::vector<CsvFields>& rows) {
  std::map<std::string, size_t> point_of;
  for (size_t i = 0; i < sc.points.size(); ++i) point_of[sc.points[i].id] = i;
  std::map<std::pair<std::string, std::string>, size_t> row_of;  // (point_id, repeat)
  for (size_t i = 0; i < rows.size(); ++i) row_of[{rows[i][kPointId], rows[i][kRepeat]}] = i;
  for (CsvFields& r : rows) {
    r[kBaselineId] = r[kTimeRatio] = r[kCommRatio] = "";
    auto p = point_of.find(r[kPointId]);
    if (p == point_of.end() || sc.baseline[p->second] < 0) continue;
    const std::string& base_id = sc.points[static_cast<size_t>(sc.baseline[p->second])].id;
    auto b = row_of.find({base_id, r[kRepeat]});
    if (b == row_of.end()) continue;  // the baseline point failed: no ratio
    const CsvFields& base = rows[b->second];
    r[kBaselineId] = base_id;
    const double sim = std::stod(r[kSim]), bytes = std::stod(r[kOnlineTotal]);
    if (sim > 0) r[kTimeRatio] = fmt("%.4f", std::stod(base[kSim]) / sim);
    if (bytes > 0) r[kCommRatio] = fmt("%.4f", std::stod(base[kOnlineTotal]) / bytes);
  }
}

SweepReport run_sweep(const Scenario& sc, const SweepOptions& opt, std::ostream& log) {
  if (opt.out.empty()) throw std::invalid_argument("run: no output file (output: in the scenario, or --out FILE)");
  if (opt.jobs < 1) throw std::invalid_argument("run: jobs must be at least 1");
  const std::string ops_out = ops_csv_path(opt.out);
  const size_t repeats = static_cast<size_t>(sc.repeats);
  SweepReport rep;
  rep.total = sc.points.size() * repeats;
  const ItemIndex item_of = index_items(sc);
  std::vector<std::optional<CsvFields>> done(rep.total);
  std::map<std::string, std::vector<CsvFields>> ops_of;  // point_id -> its op-kind rows (from repeat 1)

  const bool exists = fs::exists(opt.out);
  if (!opt.resume)
    for (const std::string& f : {opt.out, ops_out})
      if (fs::exists(f)) throw std::invalid_argument(f + " exists: --resume continues that sweep; give another --out for a new one");
  if (exists) read_existing_output(opt.out, ops_out, item_of, done, ops_of, log);
  rep.already_done = static_cast<size_t>(std::count_if(done.begin(), done.end(), [](const auto& d) { return d.has_value(); }));
  if (opt.resume) log << "marill run: " << rep.already_done << " of " << rep.total << " points already done\n";

  auto ordered_rows = [&] { return rows_in_order(done); };
  auto ordered_ops = [&] { return ops_in_point_order(sc, ops_of); };
  // Start from the kept rows (ratios cleared: they are filled at the end), then append as points finish.
  if (!fs::path(opt.out).parent_path().empty()) fs::create_directories(fs::path(opt.out).parent_path());
  std::vector<CsvFields> kept = ordered_rows();
  for (CsvFields& r : kept) r[kBaselineId] = r[kTimeRatio] = r[kCommRatio] = "";
  write_atomic(opt.out, sweep_csv_header(), kept);
  write_atomic(ops_out, sweep_ops_csv_header(), ordered_ops());
  std::ofstream csv(opt.out, std::ios::binary | std::ios::app), ops(ops_out, std::ios::binary | std::ios::app);
  if (!csv || !ops) throw std::runtime_error("cannot append to " + opt.out);

  std::vector<size_t> todo;
  for (size_t k = 0; k < rep.total; ++k)
    if (!done[k]) todo.push_back(k);
  std::mutex mu;
  size_t next = 0, finished = 0;
  bool stop = false;
  const auto t0 = std::chrono::steady_clock::now();
  auto progress = [&] {  // under mu
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = el > 0 ? static_cast<double>(finished) / el : 0;
    const size_t left = todo.size() - finished;
    log << (opt.progress_inline ? "\r" : "") << "marill run: " << rep.already_done + finished << "/" << rep.total << " points, " << fmt("%.2f", rate) << " points/s, ETA "
        << (rate > 0 ? fmt("%.0f s", static_cast<double>(left) / rate) : std::string("?"))
        << (rep.failed ? ", " + std::to_string(rep.failed) + " failed" : "") << (opt.progress_inline ? "   " : "\n");
    log.flush();
  };
  auto worker = [&] {
    for (;;) {
      size_t k;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop || next >= todo.size()) return;
        k = todo[next++];
      }
      const ScenarioPoint& p = sc.points[k / repeats];
      const int repeat = static_cast<int>(k % repeats) + 1;
      std::optional<SweepCost> cost;
      std::string error;
      try {
        cost = opt.point_runner ? opt.point_runner(p) : run_sweep_point(sc, p, opt.compute_model);
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::lock_guard<std::mutex> lock(mu);
      ++finished;
      if (cost) {
        done[k] = sweep_row(sc, p, repeat, *cost);
        csv << csv_join(*done[k]) << '\n';
        csv.flush();
        if (repeat == 1) {
          for (const CsvFields& r : cost->ops) ops << csv_join(r) << '\n';
          ops.flush();
          ops_of[p.id] = cost->ops;
        }
        ++rep.ran;
      } else {
        const std::string what = describe_failure(p, repeat, error);
        log << (opt.progress_inline ? "\n" : "") << "marill run: " << what << "\n";
        rep.errors.push_back(what);
        ++rep.failed;
      }
      progress();
      if (opt.stop_after > 0 && finished >= static_cast<size_t>(opt.stop_after)) stop = true;
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min<int>(opt.jobs, static_cast<int>(todo.size())); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (opt.progress_inline && finished) log << "\n";
  csv.close();
  ops.close();
  rep.rows = ordered_rows();
  if (stop && next < todo.size()) {
    rep.stopped = true;  // as if killed: the files stay as they are
    return rep;
  }
  fill_ratios(sc, rep.rows);
  write_atomic(opt.out, sweep_csv_header(), rep.rows);
  write_atomic(ops_out, sweep_ops_csv_header(), ordered_ops());
  return rep;
}

// --- Shards ---

namespace {

void read_existing_output(const std::string& out, const std::string& ops_out, const ItemIndex& item_of,
                          std::vector<std::optional<CsvFields>>& done, std::map<std::string, std::vector<CsvFields>>& ops_of,
                          std::ostream& log) {
  size_t skipped = 0, foreign = 0;
  for (CsvFields& r : read_rows(out, sweep_csv_header(), kColumns, &skipped)) {
    auto it = item_of.find({r[kPointId], r[kRepeat]});
    if (it == item_of.end()) {
      ++foreign;
      continue;
    }
    done[it->second] = std::move(r);
  }
  if (fs::exists(ops_out))
    for (CsvFields& r : read_rows(ops_out, sweep_ops_csv_header(), 5, &skipped)) {
      auto it = item_of.find({r[0], "1"});
      if (it != item_of.end() && done[it->second]) ops_of[r[0]].push_back(std::move(r));
    }
  if (skipped) log << "marill run: " << skipped << " unreadable lines of " << out << " dropped (cut by a kill?)\n";
  if (foreign) log << "marill run: " << foreign << " rows of " << out << " belong to no point of this scenario: dropped\n";
}

std::string shard_errors_path(const std::string& dir, size_t index) { return dir + "/point-" + std::to_string(index) + ".errors"; }

// What the shards of `dir` (over an existing output, with resume) hold.
struct ShardedState {
  std::vector<std::optional<CsvFields>> done;        // by work item
  std::vector<bool> from_shard;                      // by work item: the row came from a shard
  std::map<std::string, std::vector<CsvFields>> ops_of;
  std::vector<bool> shard_present;                   // by point
  std::vector<std::string> errors;                   // the shards' failed repeats, in point order
};

ShardedState read_sharded(const Scenario& sc, const std::string& dir, const SweepOptions& opt, std::ostream& log) {
  if (opt.out.empty()) throw std::invalid_argument("run: no output file (output: in the scenario, or --out FILE)");
  const std::string ops_out = ops_csv_path(opt.out);
  const size_t repeats = static_cast<size_t>(sc.repeats), total = sc.points.size() * repeats;
  const ItemIndex item_of = index_items(sc);
  ShardedState st;
  st.done.resize(total);
  st.from_shard.assign(total, false);
  st.shard_present.assign(sc.points.size(), false);
  if (opt.resume && fs::exists(opt.out)) read_existing_output(opt.out, ops_out, item_of, st.done, st.ops_of, log);
  for (size_t i = 0; i < sc.points.size(); ++i) {
    const std::string shard = sweep_shard_path(dir, i);
    if (!fs::exists(shard)) continue;
    st.shard_present[i] = true;
    const std::string& id = sc.points[i].id;
    size_t skipped = 0;
    bool has_first_repeat = false;
    for (CsvFields& r : read_rows(shard, sweep_csv_header(), kColumns, &skipped)) {
      auto it = item_of.find({r[kPointId], r[kRepeat]});
      if (r[kPointId] != id || it == item_of.end())
        throw std::invalid_argument(shard + ": a row of point " + r[kPointId] + ", not of this scenario's point " + std::to_string(i) +
                                    " (" + id + "): the scenario changed since its shards were written; give another --out for a new sweep");
      has_first_repeat = has_first_repeat || r[kRepeat] == "1";
      st.done[it->second] = std::move(r);
      st.from_shard[it->second] = true;
    }
    if (skipped) log << "marill run: " << skipped << " unreadable lines of " << shard << " dropped\n";
    if (has_first_repeat && fs::exists(ops_csv_path(shard))) st.ops_of[id] = read_rows(ops_csv_path(shard), sweep_ops_csv_header(), 5, &skipped);
    std::ifstream errors(shard_errors_path(dir, i));
    for (std::string line; std::getline(errors, line);)
      if (!line.empty()) st.errors.push_back(line);
  }
  return st;
}

void replace_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw std::runtime_error("cannot rename " + from + " to " + to + ": " + ec.message());
}

}  // namespace

std::string sweep_shard_partial_path(const std::string& dir, size_t index) { return dir + "/point-" + std::to_string(index) + ".partial.csv"; }

std::string sweep_shard_path(const std::string& dir, size_t index) { return dir + "/point-" + std::to_string(index) + ".csv"; }

SweepReport run_sweep_shard(const Scenario& sc, size_t index, const std::string& dir, const SweepOptions& opt, std::ostream& log) {
  if (index >= sc.points.size())
    throw std::invalid_argument("run: point " + std::to_string(index) + " is outside " + sc.file + "'s " + std::to_string(sc.points.size()) +
                                " points (0 to " + std::to_string(sc.points.size() - 1) + ")");
  // The point alone, as a scenario of one point without a baseline: the ratios are the merge's.
  Scenario one = sc;
  one.points = {sc.points[index]};
  one.baseline = {-1};
  fs::create_directories(dir);
  SweepOptions o = opt;
  o.out = sweep_shard_partial_path(dir, index);
  o.resume = true;  // a task Slurm requeued keeps the repeats it finished
  o.stop_after = 0;
  const SweepReport rep = run_sweep(one, o, log);
  const std::string shard = sweep_shard_path(dir, index), errors = shard_errors_path(dir, index);
  {
    std::ofstream out(errors + ".tmp", std::ios::binary | std::ios::trunc);
    for (const std::string& e : rep.errors) out << e << '\n';
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + errors + ".tmp");
  }
  // The CSV last: its presence says the shard is whole.
  replace_file(errors + ".tmp", errors);
  replace_file(ops_csv_path(o.out), ops_csv_path(shard));
  replace_file(o.out, shard);
  return rep;
}

std::vector<size_t> sweep_points_to_run(const Scenario& sc, const std::string& dir, const SweepOptions& opt) {
  if (!opt.resume) {
    for (const std::string& f : {opt.out, ops_csv_path(opt.out)})
      if (fs::exists(f)) throw std::invalid_argument(f + " exists: --resume continues that sweep; give another --out for a new one");
    for (size_t i = 0; i < sc.points.size(); ++i)
      if (fs::exists(sweep_shard_path(dir, i)))
        throw std::invalid_argument(dir + " holds shards of an earlier sweep (" + sweep_shard_path(dir, i) +
                                    "): --resume continues it; give another --out for a new one");
  }
  std::ostringstream ignored;
  const ShardedState st = read_sharded(sc, dir, opt, ignored);
  const size_t repeats = static_cast<size_t>(sc.repeats);
  std::vector<size_t> todo;
  for (size_t i = 0; i < sc.points.size(); ++i)
    for (size_t r = 0; r < repeats; ++r)
      if (!st.done[i * repeats + r]) {
        todo.push_back(i);
        break;
      }
  return todo;
}

SweepReport merge_sweep_shards(const Scenario& sc, const std::string& dir, const SweepOptions& opt, std::ostream& log,
                               const std::function<std::string(size_t index)>& missing) {
  ShardedState st = read_sharded(sc, dir, opt, log);
  const size_t repeats = static_cast<size_t>(sc.repeats);
  SweepReport rep;
  rep.total = st.done.size();
  rep.errors = st.errors;
  for (size_t k = 0; k < rep.total; ++k) {
    if (st.done[k]) {
      ++(st.from_shard[k] ? rep.ran : rep.already_done);
      continue;
    }
    ++rep.failed;
    const size_t i = k / repeats;
    if (!st.shard_present[i]) rep.errors.push_back(describe_failure(sc.points[i], static_cast<int>(k % repeats) + 1, missing(i)));
  }
  for (const std::string& e : rep.errors) log << "marill run: " << e << "\n";
  rep.rows = rows_in_order(st.done);
  fill_ratios(sc, rep.rows);
  if (!fs::path(opt.out).parent_path().empty()) fs::create_directories(fs::path(opt.out).parent_path());
  write_atomic(opt.out, sweep_csv_header(), rep.rows);
  write_atomic(ops_csv_path(opt.out), sweep_ops_csv_header(), ops_in_point_order(sc, st.ops_of));
  return rep;
}

}  // namespace marill
