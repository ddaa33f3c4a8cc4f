// A scenario's sweep: each point (and repeat) through the runner, one CSV row each in the schema
// `marill run` and `marill plot` share (scenarios/README.md), written as points finish so a killed
// sweep loses only its running points and --resume continues it.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "runner/scenario.h"
#include "sim/compute_model.h"

namespace marill {

const char* sweep_csv_header();      // scenario,point_id,label,...,comm_ratio,online_bytes_client,...
const char* sweep_ops_csv_header();  // point_id,kind,online_bytes_total,rounds,sim_s
// The op-kind breakdown beside the rows: ops_csv_path(RESULTS.csv) (runner/results_reader.h).

using CsvFields = std::vector<std::string>;
std::string csv_join(const CsvFields& fields);  // quotes fields holding ',', '"' or a line break
CsvFields csv_split(const std::string& line);   // the inverse; throws std::invalid_argument on a bad quote

// What one run of a point costs: the stage's step (whole model: "prefill" or "decode 001";
// block: "forward") over all parties, and its op kinds (at most two levels below the step).
struct SweepCost {
  StepCost step;
  std::vector<Role> roles;  // the parties of step's per-party vectors, in order
  double wall_s = 0;
  std::vector<CsvFields> ops;  // point_id,kind,online_bytes_total,rounds,sim_s
};
// model: phantom runs' compute model (null: the point's default, the built-in calibration).
SweepCost run_sweep_point(const Scenario& sc, const ScenarioPoint& p, std::shared_ptr<const ComputeModel> model = nullptr);
// The ledger scope a point's row reports: "forward" (block), "prefill" or "decode 001" (whole model).
std::string sweep_scope(const Scenario& sc, const ScenarioPoint& p);
// The cost of a point's session (however it was run: in process, by party servers) at sweep_scope.
SweepCost sweep_cost(const Scenario& sc, const ScenarioPoint& p, const SessionResult& session, double wall_s);
// The row of one repeat (ratios empty: fill_ratios sets them once the baselines are in).
CsvFields sweep_row(const Scenario& sc, const ScenarioPoint& p, int repeat, const SweepCost& c);
// baseline_id, time_ratio, comm_ratio of every row whose baseline row (same repeat) is present.
void fill_ratios(const Scenario& sc, std::vector<CsvFields>& rows);

struct SweepOptions {
  std::string out;      // the CSV (the ops CSV beside it)
  bool resume = false;  // keep the finished rows of an existing output, run the rest
  int jobs = 1;         // points run in parallel, each its own session
  bool progress_inline = false;  // one progress line rewritten in place (a terminal), else a line per point
  std::shared_ptr<const ComputeModel> compute_model;  // phantom runs' compute (null: the built-in calibration)
  // Runs one repeat of a point (remote/remote_sweep.h: on party servers); null: run_sweep_point in
  // this process with compute_model.
  std::function<SweepCost(const ScenarioPoint&)> point_runner;
  int stop_after = 0;   // TEST ONLY: stop taking points after this many of this run finished, and leave
                        // the files as a killed sweep would (no final rewrite)
};

struct SweepReport {
  size_t total = 0;         // points x repeats
  size_t already_done = 0;  // kept from the output (--resume)
  size_t ran = 0, failed = 0;
  bool stopped = false;     // stop_after ended the sweep early
  std::vector<std::string> errors;  // one per failed point
  std::vector<CsvFields> rows;      // the final rows, in point order
};

// Runs the sweep; progress lines (rate, ETA) and each failure go to `log`.
SweepReport run_sweep(const Scenario& sc, const SweepOptions& opt, std::ostream& log);

// --- Sweeps in shards (Slurm array tasks, runner/slurm.h): one point per shard, then one merge. ---
// The shard of point `index` (its place in sc.points) in `dir`: point-INDEX.csv holds its repeats'
// rows in the sweep schema (ratios empty), point-INDEX.ops.csv its op kinds, point-INDEX.errors one
// line per failed repeat. The files appear when the point has ended (written under other names,
// then renamed): a shard that exists is complete.
std::string sweep_shard_path(const std::string& dir, size_t index);
// Where run_sweep_shard keeps point `index`'s rows while it runs (resumed by a task Slurm requeued).
std::string sweep_shard_partial_path(const std::string& dir, size_t index);
// Runs point `index` alone (its repeats, opt.jobs at a time) into its shard; opt.out is ignored.
SweepReport run_sweep_shard(const Scenario& sc, size_t index, const std::string& dir, const SweepOptions& opt, std::ostream& log);
// The points (indices) a sharded sweep still has to run: those with a repeat in neither a shard of
// `dir` nor, with opt.resume, the existing opt.out. Without opt.resume an existing opt.out or a
// shard in `dir` is an error, as run_sweep's existing output is.
std::vector<size_t> sweep_points_to_run(const Scenario& sc, const std::string& dir, const SweepOptions& opt);
// Merges the shards of `dir` (over the rows of an existing opt.out with opt.resume) into opt.out and
// its ops CSV, exactly as run_sweep writes them: rows in point order, ratios filled. A point's failed
// repeats (its shard's errors) and points without a shard are reported and counted failed; `missing`
// says why a shard is absent (e.g. where its task's log is).
SweepReport merge_sweep_shards(const Scenario& sc, const std::string& dir, const SweepOptions& opt, std::ostream& log,
                               const std::function<std::string(size_t index)>& missing);

}  // namespace marill
