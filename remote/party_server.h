// A party server: `marill party --serve` runs one party of every point a coordinator sends it
// (remote/coordinator.h), one after the other, until it is stopped. For each job it builds the
// point with the coordinator's own code (remote/jobs.h), opens a fresh ZeroMQ transport to the
// point's other parties (net/zmq_transport.h; they got the same job), meets them
// (net/start_barrier.h), runs its program from its own inputs and answers with its report.
//
// The coordinator's jobs arrive on the party's control endpoint (net/control_channel.h), which
// admits only the coordinator's key of the hosts file. A job that cannot be built (a scenario that
// does not parse here, a missing model file) is answered with the error; the server goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <utility>
#include <vector>

#include "actors/report.h"
#include "actors/transport.h"
#include "net/curve_keys.h"
#include "net/hosts.h"
#include "remote/jobs.h"

namespace marill {

// This party on the network: what a job handler needs to run its side of a point.
struct RemoteParty {
  Role role = Role::client;
  HostsFile hosts;
  CurveKeyPair keys;
  // The coordinator may see what only this party may otherwise see: the client's output (the
  // opened output's SHA-256, the generated tokens) and this party's own error texts (which may
  // name a value, actors/party_error.h). Without it, replies carry costs and error classes only;
  // the texts stay in this server's log.
  bool trust_coordinator = false;
  std::string key_store;  // a private directory for shipped key files (remote/key_shipping.h); "": none
  std::string bind_endpoint;  // where its transport listens if not at its hosts entry (ZmqOptions::bind_endpoint)

  struct Run {
    PartyReport report;
    double wall_s = 0;  // the program, after the parties met
  };
  // `run` over a fresh transport to the other `roles` (all in the hosts file), after every party met
  // within `timeout`; each receive of the program gives up after `timeout` too.
  Run run(const std::vector<Role>& roles, std::chrono::milliseconds timeout,
          const std::function<PartyReport(Transport&)>& program) const;
};

using JobHandler = std::function<JobReply(const PartyJob&, const RemoteParty&)>;

struct PartyServerOptions {
  std::chrono::milliseconds idle_timeout{0};  // stop after this long without a job (0: never)
  int max_jobs = 0;                           // stop after this many jobs (0: never)
  const std::atomic<bool>* stop = nullptr;     // set (e.g. by SIGTERM): stop before the next job
};

// Serves jobs until idle_timeout or max_jobs; a line per job to `log`. Returns the number of jobs.
int serve_party(const RemoteParty& me, const std::map<JobKind, JobHandler>& handlers, const PartyServerOptions& opt, std::ostream& log);

}  // namespace marill
