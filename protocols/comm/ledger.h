// The cost ledger of one party: bytes sent (payload and framing apart), rounds, simulated time and
// CPU time, per phase and per operation path ("softmax/exp/mul"). Costs of a path include those
// of its sub-operations, so the top-level kinds of a program partition its total.
// Bytes are counted once, at the sender.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "protocols/ring/ring.h"
#include "protocols/comm/roles.h"

namespace marill {

struct OpCost {
  u64 bytes_sent = 0;     // payload bytes
  u64 framing_bytes = 0;  // envelope bytes (headers), reported apart
  u64 messages = 0;
  u64 rounds = 0;         // growth of this party's hop count while the op ran
  u64 calls = 0;
  u64 secure_macs = 0;    // secret x secret multiply-accumulates (local ops with public values are free)
  u64 hops_begin = 0;     // this party's hop count when the op was first entered
  u64 hops_end = 0;       // ... and when it was last left (session-wide op rounds =
                          //     max over parties of hops_end - max over parties of hops_begin)
  double cpu_s = 0;       // this party's CPU seconds (own thread + its kernel workers)
  double sim_s = 0;       // growth of this party's virtual clock while the op ran
  OpCost& operator+=(const OpCost& o);
};

class Ledger {
 public:
  // Clock state, maintained by the party's communicator (sim/ link model).
  struct Clock {
    double sim_time = 0;  // virtual seconds
    u64 hops = 0;         // longest chain of dependent messages ending here
  };
  Clock clock[2];  // indexed by Phase

  Phase phase = Phase::online;  // the phase this party's own sends belong to (dealer: offline)

  // Set by the party's communicator: brings the virtual clock up to date with the CPU time spent
  // since the last message, so an op's compute after its last message is charged to that op.
  std::function<void()> sync_clock;

  void start(double cpu_now) { cpu_start_ = cpu_now; }
  void record_send(Phase p, u64 payload, u64 framing);
  void record_macs(u64 n);  // in this party's phase
  void push_op(const std::string& kind, double cpu_now);
  void pop_op(double cpu_now);

  const OpCost& total(Phase p) const { return totals_[static_cast<int>(p)]; }
  const std::map<std::string, OpCost>& by_op(Phase p) const { return ops_[static_cast<int>(p)]; }
  void finish(double cpu_now);  // closes the totals' CPU and clock fields

 private:
  struct Frame {
    std::string path;
    double cpu0, sim0[2];
    u64 hops0[2];
    OpCost sent[2];  // bytes/messages sent while this frame was open (inclusive)
  };
  std::vector<Frame> stack_;
  OpCost totals_[2];
  std::map<std::string, OpCost> ops_[2];
  double cpu_start_ = -1;
};

// RAII: attributes everything between construction and destruction to `kind` (nested in the
// enclosing scopes). cpu_now is read through party_cpu_seconds().
class OpScope {
 public:
  OpScope(Ledger& l, const std::string& kind);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  Ledger& ledger_;
};

}  // namespace marill
