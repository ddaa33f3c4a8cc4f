// The seam under the party actors: a transport moves opaque frames between parties. The in-process
// one delivers through CAF mailboxes (virtual time comes from sim/, not from delays); the ZeroMQ one
// (net/zmq_transport.h, `marill party`) joins processes and hosts, without touching protocols.
//
// Confidentiality is the transport's job: frames carry shares, masked openings and, at set-up, raw
// AES PRG keys (protocols/comm/pair_keys.h) in the clear. In-process that is fine; a transport that
// leaves the process must encrypt and authenticate every channel (CurveZMQ with the peers' public
// keys from the hosts file, ZAP allowlist), or an eavesdropper holding two parties' keys learns the
// inputs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "protocols/comm/roles.h"

namespace marill {

struct Incoming {
  std::vector<std::uint8_t> bytes;
  std::optional<Role> sender;  // who the transport saw sending it; nullopt: not a session peer
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(Role to, std::vector<std::uint8_t> bytes) = 0;
  // A message that need not arrive (an abort, on the way out): a transport may drop it at once
  // when the peer is not reachable now, rather than wait for its send timeout.
  virtual void send_best_effort(Role to, std::vector<std::uint8_t> bytes) { send(to, std::move(bytes)); }
  // Waits up to `timeout` for the next message from anyone; nullopt on timeout.
  virtual std::optional<Incoming> receive(std::chrono::milliseconds timeout) = 0;
};

}  // namespace marill
