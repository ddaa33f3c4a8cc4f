// The control channel between a coordinator and the party servers of remote points
// (remote/coordinator.h, remote/party_server.h): one request, one reply, over CurveZMQ.
//
// A party server binds a ROUTER (a Curve server with its party's secret key) at its `control`
// endpoint; its ZAP handler admits only the coordinator's key from the hosts file. The coordinator
// connects one DEALER per party server (a Curve client that requires the party's listed public key),
// so a reply on that socket comes from that party. Messages are single frames of at most
// `max_message_bytes`; ZMQ_MAXMSGSIZE drops a larger one unread. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "net/curve_keys.h"
#include "net/zap_handler.h"
#include "protocols/comm/roles.h"

namespace marill {

class ControlServer {
 public:
  ControlServer(const CurveKeyPair& my_keys, const std::string& endpoint, const std::string& coordinator_public_key,
                std::string who, std::size_t max_message_bytes);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // The next request of the coordinator, or nullopt after `timeout`. A message that is not one frame
  // from the admitted coordinator is dropped (and counted in dropped()).
  std::optional<std::vector<std::uint8_t>> receive(std::chrono::milliseconds timeout);
  // Answers the last request; false if its sender is no longer connected (the reply is dropped).
  bool reply(const std::vector<std::uint8_t>& bytes);
  std::size_t dropped() const { return dropped_; }

 private:
  zmq::context_t ctx_;
  std::unique_ptr<ZapHandler> zap_;
  zmq::socket_t router_;
  std::string last_sender_;  // the ROUTER's routing id of the last request
  std::size_t dropped_ = 0;
};

struct ControlPeer {
  Role role = Role::client;
  std::string endpoint;    // its server's control endpoint
  std::string public_key;  // the party's Curve key (Z85)
};

class ControlClient {
 public:
  ControlClient(const CurveKeyPair& my_keys, std::vector<ControlPeer> peers, std::size_t max_message_bytes);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Waits until `deadline` for the party server's connection; throws std::runtime_error naming it
  // (not running, refused the coordinator's key, or holds another key than the hosts file lists).
  void await_connection(Role r, std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout);
  // Queues for the party server (call await_connection first: a send waits only while its queue is
  // full, at most `timeout`); throws as await_connection.
  void send(Role to, const std::vector<std::uint8_t>& bytes, std::chrono::milliseconds timeout);
  // The next reply of any party server, or nullopt after `timeout`.
  std::optional<std::pair<Role, std::vector<std::uint8_t>>> receive(std::chrono::milliseconds timeout);
  // True once the party server's connection went away after its handshake (its process ended).
  bool lost(Role r);
  // A fresh connection to r's server: what was queued for the old one (a job it never took) is gone.
  void reset(Role r);
  const ControlPeer& peer(Role r) const;

 private:
  struct Link;
  Link& link(Role r);
  void open(Link& l);

  zmq::context_t ctx_;
  CurveKeyPair keys_;
  std::size_t max_message_bytes_;
  std::vector<std::unique_ptr<Link>> links_;
};

}  // namespace marill
