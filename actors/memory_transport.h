// Two parties joined in this process by plain queues, for protocols that need a bare Comm rather
// than a Backend (oblivious transfer, HE set-up): each side gets a PartyComm with its ledger and
// simulated clocks over `network`, in its own thread. Tests and benchmarks of such protocols use it;
// whole sessions use actors/session.h.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "actors/transport.h"
#include "protocols/comm/comm.h"
#include "protocols/comm/ledger.h"
#include "sim/network.h"

namespace marill {

// Two connected in-memory transports: frames `a` sends to b_role arrive at `b`, and back.
std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> memory_transport_pair(Role a_role, Role b_role);

struct CommPairResult {
  Ledger a, b;  // each side's ledger, closed
};

// Runs fa(comm) as a_role and fb(comm) as b_role concurrently, each in its own thread with its own
// PartyComm. Rethrows the first side's exception (the other side's receive then times out or sees
// its peer's abort). `phantom` sends sizes only.
using CommProgram = std::function<void(Comm&)>;
CommPairResult run_comm_pair(Role a_role, const CommProgram& fa, Role b_role, const CommProgram& fb,
                             const NetworkModel& network = network_preset("lan"), bool phantom = false,
                             std::chrono::milliseconds recv_timeout = std::chrono::milliseconds(60000));

}  // namespace marill
