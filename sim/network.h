// Simulated network: link models and the per-link queue that turns a send into a virtual arrival.
//
// arrival = depart + bytes*8/bandwidth + latency, depart = max(send time, link free time):
// a message queues behind earlier messages on the same directed link. A receiver's clock becomes
// max(own clock, arrival); rounds are hop counts carried in messages (see actors/party_comm.cpp).
#pragma once

#include <string>

#include "protocols/ring/ring.h"

namespace marill {

struct LinkModel {
  double bandwidth_bps = 16e9;  // bits per second
  double latency_s = 1e-4;      // one way
};

struct NetworkModel {
  std::string name = "lan";
  LinkModel link;
};

// Presets: "lan" = 16 Gbit/s, 0.1 ms (the paper's); "wan" = 400 Mbit/s, 20 ms one way (SPU's).
// Custom: "custom:bw=<bits/s>,lat=<seconds>", e.g. "custom:bw=1e9,lat=0.005" (also "1Gbit", "5ms").
NetworkModel network_preset(const std::string& spec);

// The sending side of one directed link: it alone decides departures on that link.
class LinkQueue {
 public:
  explicit LinkQueue(LinkModel m = {}) : model_(m) {}
  // Returns the virtual arrival time of `bytes` sent at virtual time `send_time`.
  double transmit(double send_time, u64 bytes);
  const LinkModel& model() const { return model_; }

 private:
  LinkModel model_;
  double free_at_ = 0;
};

}  // namespace marill
