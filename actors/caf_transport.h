// In-process transport: frames travel between party actors' CAF mailboxes (moved, not copied).
#pragma once

#include <caf/all.hpp>

#include <deque>
#include <vector>

#include "actors/messages.h"
#include "actors/transport.h"

namespace marill {

class CafTransport final : public Transport {
 public:
  explicit CafTransport(caf::blocking_actor* self) : self_(self) {}
  // Blocks until the coordinator's start message names the session's parties; frames that a
  // faster peer sent before it are kept for later.
  void await_start(std::chrono::milliseconds timeout);
  void send(Role to, std::vector<std::uint8_t> bytes) override;
  std::optional<Incoming> receive(std::chrono::milliseconds timeout) override;

 private:
  std::optional<Role> role_of(const caf::strong_actor_ptr& sender) const;
  caf::blocking_actor* self_;
  std::vector<caf::actor> parties_;  // by role index; empty handle = not in session
  std::deque<Incoming> early_;
};

}  // namespace marill
