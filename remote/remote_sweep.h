// A scenario's sweep on party servers (`marill run SCENARIO.yaml --hosts HOSTS.yaml`): each point
// (and repeat) goes as one job to the servers of its parties; their reports make the same row an
// in-process run writes (runner/sweep.h: run_sweep keeps writing, resuming and merging rows as
// always). A cleartext point has no parties and runs in the coordinator.
//
// Every host resolves the scenario's paths (model packages) as the coordinator does: the scenario's
// directory is sent as an absolute path, so hosts share it (a cluster file system, or the same
// checkout at the same place).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "remote/coordinator.h"
#include "remote/party_server.h"
#include "runner/sweep.h"

namespace marill {

struct RemoteSweepOptions {
  std::string calibration_json;  // phantom runs' compute model as every party must use it ("": the built-in one)
  // Real 2pc-dealer block points: the dealer deals each point's key files and ships them to the
  // client and server before the online run, which then has those two parties only
  // (remote/key_shipping.h). The row's offline bytes are the key files'.
  bool dealer_ahead = false;
};

// The point runner of run_sweep (SweepOptions::point_runner); cleartext points run here.
std::function<SweepCost(const ScenarioPoint&)> remote_point_runner(Coordinator& coordinator, const Scenario& sc, const RemoteSweepOptions& opt);

// A party server's handler of sweep-point jobs (args: scenario file, its directory, its text, the
// point's index, and optionally the key set the dealer shipped for it).
JobReply run_sweep_job(const PartyJob& job, const RemoteParty& me);
// The block point a sweep job names (its compute model the job's); throws for whole-model points.
Point sweep_job_block_point(const PartyJob& job);

// The compute model a job names (the built-in one for "").
std::shared_ptr<const ComputeModel> job_compute_model(const PartyJob& job);

}  // namespace marill
