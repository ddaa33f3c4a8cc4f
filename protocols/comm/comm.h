// What a backend needs from its party: send to and receive from named peers, with the ledger.
// Implemented by the party's communicator (actors/party_comm.h) over a pluggable transport; protocols never
// see CAF, ZeroMQ or the simulated network.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocols/comm/ledger.h"
#include "protocols/ring/ring.h"
#include "protocols/comm/roles.h"

namespace marill {

// A peer misbehaved or the channel failed: wrong size, wrong peer, garbage, timeout, abort.
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual Role role() const = 0;
  virtual bool phantom() const = 0;
  virtual Ledger& ledger() = 0;

  // Sends n payload bytes to `to` in the ledger's current phase. In phantom mode data is null and
  // only the size travels (the ledger and clocks see exactly the bytes a real run sends).
  virtual void send_bytes(Role to, const std::uint8_t* data, u64 n) = 0;
  // The next message from `from`; throws ProtocolError unless it carries exactly n bytes.
  // Returns an empty vector for a phantom message.
  virtual std::vector<std::uint8_t> recv_bytes(Role from, u64 n) = 0;

  void send(Role to, const RingTensor& t);
  RingTensor recv(Role from, const Shape& shape);
};

}  // namespace marill
