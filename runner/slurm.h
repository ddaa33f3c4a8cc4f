// A scenario's sweep as a Slurm job array (`marill run SCENARIO.yaml --slurm`): one array task per
// point, each running `marill run SCENARIO.yaml --point I --shard-dir DIR` into its shard
// (runner/sweep.h); the submitting command polls squeue until the tasks are gone (or its timeout,
// when it cancels the job), then merges the shards into the CSV an in-process run writes. --resume
// submits only the points without a shard or row. Slurm's own tools do the scheduling (sbatch,
// squeue, scancel); nothing here schedules.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "runner/sweep.h"

namespace marill {

struct SlurmOptions {
  std::string marill;       // the binary the tasks run (absolute; on a cluster, on a file system every node sees)
  std::string scenario;     // the scenario file the tasks load (absolute)
  std::string dir;          // shards, task logs (DIR/logs/I.log) and the batch script; default slurm_dir_for(out)
  std::string calibration;  // passed to the tasks (--calibration), empty: the built-in one
  std::vector<std::string> sbatch_args;  // more sbatch options (--partition=..., --time=..., --account=...)
  int max_parallel = 0;     // at most this many tasks at once (the array's %N), 0: as Slurm allows
  std::chrono::seconds timeout{std::chrono::hours(24)};  // for the whole job; then it is cancelled
  std::chrono::milliseconds poll{1000};                  // squeue's interval
  // Multi-host points (remote/slurm_parties.h): each array task is this many Slurm tasks (srun),
  // one per party, which meet over ZeroMQ with CurveZMQ; 0: a task runs its point's parties in one process.
  int party_tasks = 0;
  std::chrono::milliseconds party_timeout{120000};  // every wait of those parties
};

// OUT minus .csv plus .slurm (results/x.csv -> results/x.slurm).
std::string slurm_dir_for(const std::string& out);
// "0-3,7,9-10": Slurm's --array list of sorted indices.
std::string slurm_array_list(const std::vector<size_t>& indices);
// The batch script every array task runs (its point: $SLURM_ARRAY_TASK_ID).
std::string slurm_task_script(const SlurmOptions& slurm);

// Submits the missing points, waits, merges (opt: out, resume; jobs and stop_after do not apply).
// Throws std::runtime_error when Slurm's tools are missing or refuse the job (their message).
SweepReport run_sweep_on_slurm(const Scenario& sc, const SweepOptions& opt, const SlurmOptions& slurm, std::ostream& log);

}  // namespace marill
