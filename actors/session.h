// Runs one secure computation: one party actor per role of the setting, all in this process over
// the simulated network. The same `Program` runs on every party (SPMD, as EzPC/sytorch programs
// do); each party reads its own inputs through Backend::role().
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocols/mpc/backend.h"
#include "sim/network.h"

namespace marill {

using Program = std::function<void(Backend&)>;
class FrameLog;  // actors/recording_transport.h

struct SessionConfig {
  Setting setting = Setting::three_pc;
  NetworkModel network = network_preset("lan");
  FixedPoint fxp;
  bool phantom = false;
  std::optional<FunctionPolicy> policy;  // the functions' methods; empty: default_policy(setting)
  CorrelationOptions correlations;  // 2pc-dealer: dealer stream, key files or size only
  bool charge_compute = true;  // false: virtual clocks see the network only (for tests)
  std::chrono::milliseconds recv_timeout{120000};      // every receive gives up after this
  std::chrono::milliseconds session_timeout{3600000};  // the coordinator's wait for all parties
  std::shared_ptr<FrameLog> record_frames;  // tests: every party records every frame it sends and receives here
};

struct PartyOutcome {
  Role role = Role::client;
  bool ran = false;
  Ledger ledger;
  std::string error;  // empty on success
};

struct SessionResult {
  Setting setting;
  std::vector<PartyOutcome> parties;  // in roles_of(setting) order; cleartext: one "client"
  const PartyOutcome& party(Role r) const;
  u64 online_rounds() const;     // max over parties of online hops
  // Session-wide online rounds of the op at `path` (e.g. "matmul", "forward/mlp"): the growth of the
  // longest message chain across all parties while it ran; 0 if no party ran it.
  u64 op_rounds(const std::string& path) const;
  double online_time_s() const;  // max over parties of online virtual time
};

// A party failed: carries the first root-cause error (not the "peer aborted" echoes).
struct SessionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `program` on every party of cfg.setting; throws SessionError if any party fails.
SessionResult run_session(const SessionConfig& cfg, const Program& program);

}  // namespace marill
