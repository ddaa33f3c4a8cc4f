// Multi-host points on Slurm (`marill run SCENARIO.yaml --slurm --slurm-parties`): each array task
// (one point) is an allocation of one Slurm task per party (`srun`, possibly on several nodes);
// every task runs this with its SLURM_PROCID as its party (the point's session roles in order;
// tasks beyond the point's parties have nothing to do).
//
// The parties meet through the shard directory, which every node sees: each makes a fresh Curve key
// pair for this run (the secret never leaves the task), picks a free port on its node and writes its
// endpoint and public key to DIR/point-I.parties-JOB/ROLE.addr; once every party's file is there, the
// hosts file is complete and the point runs over ZeroMQ with CurveZMQ as `marill party` does. The
// other parties write their reports beside it (ROLE.REPEAT.report); the client's task gathers them
// into the point's rows and writes the shard, which the submitting command merges as always.
// Everything that is waited for has the timeout.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "runner/sweep.h"

namespace marill {

struct PartyTask {
  int procid = 0;          // SLURM_PROCID: the index of this task's party in the point's roles
  std::string attempt;     // SLURM_JOB_ID and SLURM_RESTART_COUNT: a requeued task meets afresh
  std::string host;        // this node's name, as the other nodes reach it
};
// From Slurm's environment; throws std::invalid_argument naming what is missing.
PartyTask party_task_from_env();

// Runs this task's party of point `index` (every repeat); the client's task writes the shard.
// Returns the process's exit status: 0 unless the shard could not be written (a failed point is a
// row-less shard with its error, as in-process).
int run_point_party_task(const Scenario& sc, size_t index, const std::string& dir, const SweepOptions& opt, const PartyTask& task,
                         std::chrono::milliseconds timeout, std::ostream& log);

}  // namespace marill
