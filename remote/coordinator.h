// The coordinator of remote points: sends each point's job (remote/jobs.h) to the party server of
// every party of the point (remote/party_server.h) over the control channel (net/control_channel.h)
// and gathers their reports into the session an in-process run would have produced: the same
// bytes, messages and rounds per party, so the same CSV rows.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "actors/session.h"
#include "net/control_channel.h"
#include "net/hosts.h"
#include "remote/jobs.h"

namespace marill {

struct CoordinatorOptions {
  std::chrono::milliseconds timeout{120000};  // each party's waits (the job's), and reaching a party server
  std::chrono::milliseconds max_point{std::chrono::hours(24)};  // the longest a point may run before it is given up
  // Called about every `progress_every` while a point runs, with the seconds so far and the parties
  // still running it (a long point shows it is alive); null: silent.
  std::function<void(double, const std::vector<Role>&)> progress;
  std::chrono::milliseconds progress_every{std::chrono::seconds(30)};
};

class Coordinator {
 public:
  // Connects to the control endpoint of every party of the hosts file (each must have one).
  Coordinator(const HostsFile& hosts, const CurveKeyPair& coordinator_keys, CoordinatorOptions opt = {});

  struct Outcome {
    std::vector<JobReply> replies;  // in `roles` order
    std::string unreachable;        // the first party server that could not be reached or went away ("" if none)
  };
  // Sends `job` (its id is set here) to the servers of `roles` and waits for every reply. A server that
  // cannot be reached within the timeout, or whose connection drops before it answers, gets a failed
  // reply naming it; the others are still awaited: a party whose peer is missing fails within one
  // job timeout, so every server is idle again when the next job goes out.
  Outcome run(const std::vector<Role>& roles, PartyJob job);

  // The session of an outcome; throws SessionError naming the first root cause (an unreachable
  // server before the parties' own failures).
  static SessionResult session(Setting setting, const std::vector<Role>& roles, const Outcome& out);

  const CoordinatorOptions& options() const { return opt_; }

 private:
  CoordinatorOptions opt_;
  std::unique_ptr<ControlClient> control_;
  std::uint64_t next_id_ = 1;
};

}  // namespace marill
