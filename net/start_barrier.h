// The parties of a multi-process run meet before their program: each sends every peer one small
// hello and waits for every peer's. Then every channel is up in both directions (CurveZMQ handshakes
// take several round trips, 100+ ms on a WAN), so the program's wall time measures the program and
// can be set against its simulated time. The hellos travel below the party's communicator: no
// ledger counts them. A protocol frame that arrives from a faster peer during the wait is kept and
// delivered afterwards, in order.
#pragma once

#include <chrono>
#include <deque>
#include <vector>

#include "actors/transport.h"

namespace marill {

class StartBarrier final : public Transport {
 public:
  StartBarrier(Transport& inner, Role me, std::vector<Role> peers) : inner_(inner), me_(me), peers_(std::move(peers)) {}

  // Throws TimeoutError naming the first peer whose hello did not come within `timeout`.
  void meet(std::chrono::milliseconds timeout);

  void send(Role to, std::vector<std::uint8_t> bytes) override { inner_.send(to, std::move(bytes)); }
  void send_best_effort(Role to, std::vector<std::uint8_t> bytes) override { inner_.send_best_effort(to, std::move(bytes)); }
  std::optional<Incoming> receive(std::chrono::milliseconds timeout) override;

 private:
  Transport& inner_;
  Role me_;
  std::vector<Role> peers_;
  std::deque<Incoming> early_;  // protocol frames that came during meet()
};

}  // namespace marill
