// A party's communicator: implements protocols' Comm over any Transport, runs the simulated
// network's clocks (sim/network.h) and keeps the party's ledger.
//
// Virtual time: compute advances the party's clock (charged at every send and receive and op
// boundary) by its measured CPU time in real runs, and in phantom runs, which compute nothing, by
// the compute model's seconds for the work the kernels counted since the last charge
// (sim/compute_model.h); a send departs when the link is free and arrives after bytes/bandwidth +
// latency; a receive moves the clock to max(own, arrival) and the hop count to max(own, hops+1).
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "actors/frame.h"
#include "actors/party_error.h"
#include "actors/transport.h"
#include "protocols/comm/comm.h"
#include "sim/compute_model.h"
#include "sim/network.h"

namespace marill {

class PartyComm final : public Comm {
 public:
  PartyComm(Role me, std::vector<Role> peers, Transport& transport, NetworkModel net, bool phantom,
            std::chrono::milliseconds recv_timeout, bool charge_cpu = true,
            std::shared_ptr<const ComputeModel> compute_model = builtin_compute_model());

  Role role() const override { return me_; }
  bool phantom() const override { return phantom_; }
  Ledger& ledger() override { return ledger_; }
  void send_bytes(Role to, const std::uint8_t* data, u64 n) override;
  std::vector<std::uint8_t> recv_bytes(Role from, u64 n) override;

  // Tells every peer that `failed` (this party, or the peer it heard it from) failed with `cls`, so
  // none of them waits for its timeout. Two bytes: exception texts may carry data and stay local.
  void broadcast_abort(Role failed, ErrorClass cls);
  // Charges the compute since the last message and closes the ledger's totals.
  void finish();

 private:
  void charge_compute();
  Frame next_from(Role from);
  bool is_peer(Role r) const;
  std::string where() const;

  Role me_;
  std::vector<Role> peers_;
  Transport& transport_;
  NetworkModel net_;
  bool phantom_;
  bool charge_compute_;
  std::chrono::milliseconds recv_timeout_;
  Ledger ledger_;
  double last_cpu_;
  std::shared_ptr<const ComputeModel> model_;  // phantom runs' compute
  WorkCounts last_work_;                       // this thread's counters at the last charge
  std::array<std::array<LinkQueue, 2>, kMaxRoles> links_;  // [to][phase]
  std::array<u64, kMaxRoles> send_seq_{};
  std::array<u64, kMaxRoles> recv_seq_{};
  std::array<std::deque<Frame>, kMaxRoles> inbox_;
};

}  // namespace marill
