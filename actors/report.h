// What one party reports after a run: its ledger (totals per phase and per op path) and how it
// ended. Plain data that serializes with Cereal (binary between processes, JSON for people), so a
// party can send its report as a message, or write it, instead of sharing memory with a launcher.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "actors/party_error.h"
#include "protocols/comm/ledger.h"
#include "protocols/ring/work_meter.h"

namespace marill {

// A closed ledger as data (Ledger itself holds its communicator's clock hook and open scopes).
struct LedgerReport {
  std::array<OpCost, 2> totals;                        // by Phase
  std::array<std::map<std::string, OpCost>, 2> ops;    // by Phase, then op path ("softmax/exp")

  static LedgerReport of(const Ledger& l);
  const OpCost& total(Phase p) const { return totals[static_cast<size_t>(p)]; }
  const std::map<std::string, OpCost>& by_op(Phase p) const { return ops[static_cast<size_t>(p)]; }
};

struct PartyReport {
  Role role = Role::client;
  bool ran = false;                       // the program ran to its end
  LedgerReport ledger;
  WorkCounts work;                        // the work its kernels counted (protocols/ring/work_meter.h)
  ErrorClass error_class = ErrorClass::none;
  std::string error;                      // this party's own error text: kept local, never sent to peers
};

std::vector<std::uint8_t> report_to_binary(const PartyReport& r);
// Throws ProtocolError if the bytes are not a report (they may come from another process).
PartyReport report_from_binary(const std::vector<std::uint8_t>& bytes);
std::string report_to_json(const PartyReport& r);
PartyReport report_from_json(const std::string& json);

}  // namespace marill
