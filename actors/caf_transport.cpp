#include "actors/caf_transport.h"

#include "actors/party_error.h"

namespace marill {

std::optional<Role> CafTransport::role_of(const caf::strong_actor_ptr& sender) const {
  for (size_t i = 0; i < parties_.size(); ++i)
    if (parties_[i] && sender == caf::actor_cast<caf::strong_actor_ptr>(parties_[i])) return static_cast<Role>(i);
  return std::nullopt;
}

void CafTransport::await_start(std::chrono::milliseconds timeout) {
  bool started = false, timed_out = false;
  std::vector<std::pair<caf::strong_actor_ptr, std::vector<std::uint8_t>>> early;
  while (!started && !timed_out) {
    self_->receive(
        [&](start_msg& m) {
          parties_ = std::move(m.parties);
          started = true;
        },
        [&](wire_msg& m) { early.emplace_back(self_->current_sender(), std::move(m.bytes)); },
        caf::after(timeout) >> [&] { timed_out = true; });
  }
  if (!started) throw TimeoutError("party: no start message from the session within the timeout");
  for (auto& [sender, bytes] : early) early_.push_back(Incoming{std::move(bytes), role_of(sender)});
}

void CafTransport::send(Role to, std::vector<std::uint8_t> bytes) {
  size_t i = static_cast<size_t>(role_index(to));
  if (i >= parties_.size() || !parties_[i]) throw ProtocolError(std::string("transport: no party ") + role_name(to));
  self_->send(parties_[i], wire_msg{std::move(bytes)});
}

std::optional<Incoming> CafTransport::receive(std::chrono::milliseconds timeout) {
  if (!early_.empty()) {
    Incoming in = std::move(early_.front());
    early_.pop_front();
    return in;
  }
  std::optional<Incoming> out;
  self_->receive(
      [&](wire_msg& m) { out = Incoming{std::move(m.bytes), role_of(self_->current_sender())}; },
      [&](start_msg&) { out = Incoming{{}, std::nullopt}; },  // a second start is a protocol error
      caf::after(timeout) >> [] {});
  return out;
}

}  // namespace marill
