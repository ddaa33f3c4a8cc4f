#include "net/start_barrier.h"

#include <algorithm>
#include <array>
#include <string>

#include "actors/party_error.h"

namespace marill {

namespace {

// Shorter than any protocol frame's header, so never mistaken for one.
constexpr std::array<std::uint8_t, 8> kHello{'m', 'a', 'r', 'i', 'l', 'l', 'H', 'i'};

bool is_hello(const std::vector<std::uint8_t>& b) { return b.size() == kHello.size() && std::equal(b.begin(), b.end(), kHello.begin()); }

}  // namespace

void StartBarrier::meet(std::chrono::milliseconds timeout) {
  for (Role p : peers_) inner_.send(p, std::vector<std::uint8_t>(kHello.begin(), kHello.end()));
  std::vector<Role> waiting = peers_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!waiting.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    std::optional<Incoming> in = left.count() > 0 ? inner_.receive(left) : std::nullopt;
    if (!in)
      throw TimeoutError(std::string(role_name(me_)) + ": timed out after " + std::to_string(timeout.count()) + " ms waiting for " +
                         role_name(waiting.front()) + " to connect (its hello)");
    const auto it = in->sender ? std::find(waiting.begin(), waiting.end(), *in->sender) : waiting.end();
    if (it != waiting.end() && is_hello(in->bytes))
      waiting.erase(it);
    else
      early_.push_back(std::move(*in));  // the communicator judges it (a stranger's frame is its error to report)
  }
}

std::optional<Incoming> StartBarrier::receive(std::chrono::milliseconds timeout) {
  if (!early_.empty()) {
    Incoming in = std::move(early_.front());
    early_.pop_front();
    return in;
  }
  return inner_.receive(timeout);
}

}  // namespace marill
