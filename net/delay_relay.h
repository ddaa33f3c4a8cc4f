// A userspace TCP relay that holds every byte for a fixed one-way delay, in both directions: the
// latency half of a WAN between network namespaces. This kernel has no netem
// (CONFIG_NET_SCH_NETEM is not set), so `tc` shapes bandwidth (tbf) and this relay adds latency.
// Placed in the receiving party's namespace, it terminates the sender's TCP connection there and
// opens its own to the party: a chunk that arrives at time t leaves at t + delay, so a message's
// arrival is depart + bytes/bandwidth (tbf on the sender's link) + delay, the simulator's model
// (sim/network.h). TCP's own window never sees the delay, as in the simulator.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace marill {

struct DelayRelayOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;  // 0: any free port (see DelayRelay::port())
  std::string target_host = "127.0.0.1";
  int target_port = 0;
  std::chrono::microseconds delay{0};
  // How long a new connection keeps trying to reach the target (it may not listen yet).
  std::chrono::milliseconds connect_timeout{30000};
};

class DelayRelay {
 public:
  // Binds and listens at once; throws std::runtime_error naming the address if it cannot.
  explicit DelayRelay(DelayRelayOptions opt);
  ~DelayRelay();
  DelayRelay(const DelayRelay&) = delete;
  DelayRelay& operator=(const DelayRelay&) = delete;

  int port() const { return port_; }
  // Accepts and relays connections until stop() (from another thread or a signal handler's flag).
  void run();
  void stop() { *stop_ = true; }  // async-signal-safe: one lock-free atomic store

 private:
  DelayRelayOptions opt_;
  int listen_fd_ = -1;
  int port_ = 0;
  // Shared with the connections' threads, which may outlive a stopped relay.
  std::shared_ptr<std::atomic<bool>> stop_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace marill
