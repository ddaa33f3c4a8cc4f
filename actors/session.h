// Runs one secure computation: one party actor per role of the setting, all in this process over
// the simulated network. Each party builds its own program from its own inputs (PartyProgram), or
// the same `Program` runs on every party (SPMD, as EzPC/sytorch programs do) and each party reads
// its own inputs through Backend::role().
//
// The seam for other launchers: run_party() is one party over any Transport, returning its
// report; the in-process launcher below runs it in a CAF actor per role, and each actor sends its
// report back to the coordinator as a serialized message (actors/report.h).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/report.h"
#include "actors/transport.h"
#include "protocols/mpc/backend.h"
#include "sim/compute_model.h"
#include "sim/network.h"

namespace marill {

using Program = std::function<void(Backend&)>;
class FrameLog;  // actors/recording_transport.h
// Builds the program of one role, inside that party, from that party's own inputs only.
using PartyProgram = std::function<Program(Role)>;

struct SessionConfig {
  Setting setting = Setting::three_pc;
  NetworkModel network = network_preset("lan");
  FixedPoint fxp;
  bool phantom = false;
  std::optional<FunctionPolicy> policy;  // the functions' methods; empty: default_policy(setting)
  CorrelationOptions correlations;  // 2pc-dealer: dealer stream, key files or size only
  bool charge_compute = true;  // false: virtual clocks see the network only (for tests)
  // Phantom runs' compute: seconds per unit of counted work (sim/compute_model.h; `marill calibrate`).
  std::shared_ptr<const ComputeModel> compute_model = builtin_compute_model();
  std::chrono::milliseconds recv_timeout{120000};      // every receive gives up after this
  std::chrono::milliseconds session_timeout{3600000};  // the coordinator's wait for all parties
  std::shared_ptr<FrameLog> record_frames;  // tests: every party records every frame it sends and receives here
};

using PartyOutcome = PartyReport;

struct SessionResult {
  Setting setting;
  std::vector<PartyReport> parties;  // in roles_of(setting) order; cleartext: one "client"
  const PartyReport& party(Role r) const;
  u64 online_rounds() const;     // max over parties of online hops
  // Session-wide online rounds of the op at `path` (e.g. "matmul", "forward/mlp"): the growth of the
  // longest message chain across all parties while it ran; 0 if no party ran it.
  u64 op_rounds(const std::string& path) const;
  double online_time_s() const;  // max over parties of online virtual time
};

// A party failed: the message is the first root cause (not the "peer aborted" echoes) with the
// failing party's own text, which the in-process launcher may show; `parties` holds every party's
// report as that party wrote it (a peer's report names only the failing role and error class).
struct SessionError : std::runtime_error {
  SessionError(const std::string& what, std::vector<PartyReport> reports = {})
      : std::runtime_error(what), parties(std::move(reports)) {}
  std::vector<PartyReport> parties;
  const PartyReport* party(Role r) const;
};

// One party of a session over `transport`: builds its communicator and backend, then its program
// (program_of(me)), runs it and closes the ledger. Never throws for a failure of the run: the report
// carries the error, and peers were sent an abort naming only this role and the error class.
PartyReport run_party(const SessionConfig& cfg, Role me, Transport& transport, const PartyProgram& program_of);

// The backend options every party of cfg's session uses.
BackendOptions backend_options(const SessionConfig& cfg);

// Runs `program` on every party of cfg.setting; throws SessionError if any party fails.
SessionResult run_session(const SessionConfig& cfg, const Program& program);
// Each party runs program_of(its role), built inside that party.
SessionResult run_parties(const SessionConfig& cfg, const PartyProgram& program_of);
// The session of the parties' reports (every launcher's last step): throws SessionError with the
// first root cause (a party's own failure before the "peer aborted" echoes) if any party failed.
SessionResult session_of_reports(Setting setting, std::vector<PartyReport> reports);

}  // namespace marill
