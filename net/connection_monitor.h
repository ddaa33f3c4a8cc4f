// A connecting socket's connection events (ZeroMQ's socket monitor), so a sender can tell "the peer
// refused our Curve key" from "not there yet" from "went away": the transport's DEALERs to its peers
// and the coordinator's DEALERs to the party servers both wait on these.
#pragma once

#include <string>

#include <zmq.hpp>

namespace marill {

class ConnectionMonitor {
 public:
  // Starts monitoring `socket` (of `ctx`); call before the socket connects.
  ConnectionMonitor(zmq::context_t& ctx, zmq::socket_t& socket);
  ~ConnectionMonitor() { stop(); }
  ConnectionMonitor(const ConnectionMonitor&) = delete;
  ConnectionMonitor& operator=(const ConnectionMonitor&) = delete;

  void poll();  // takes in the events so far (never waits)
  void stop();  // stops monitoring; before the socket closes
  bool refused() const { return refused_; }  // a handshake failed: our key or the peer's is not the expected one
  bool up() const { return up_; }            // connected now
  bool dropped() const { return dropped_; }  // went away after a handshake, at least once
  zmq::socket_t& events() { return events_; }  // to wait on (poll for input)

 private:
  zmq::socket_t* socket_;
  zmq::socket_t events_;
  bool refused_ = false, up_ = false, dropped_ = false;
};

}  // namespace marill
