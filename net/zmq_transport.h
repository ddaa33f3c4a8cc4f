// The transport between party processes: ZeroMQ over TCP, CurveZMQ on every channel.
//
// Each party binds one ROUTER (a Curve server holding its secret key) where it receives, and
// connects one DEALER per peer (a Curve client that knows the peer's public key from the hosts
// file) through which it sends. DEALER/ROUTER rather than PAIR: they reconnect over TCP. A ZAP
// handler in the party's context admits only the public keys of the hosts file and names the
// connection by its role (ZMQ's User-Id), so the sender a message reports is the authenticated
// one, not a claim in the bytes; without ZAP, CURVE encrypts but admits any client.
//
// Messages are cut into chunks of at most `chunk_bytes` (plus a flags byte); the ROUTER's
// ZMQ_MAXMSGSIZE drops a larger chunk (and its connection) before allocating it, and a message whose
// first chunk announces more than `max_message_bytes` is refused before its buffer is allocated
// (net/chunking.h; a message's buffer then grows with the bytes that arrive). Sends wait at most `send_timeout` for the peer's connection
// (ZMQ_IMMEDIATE: nothing queues for a peer that is not there or refused this party's key), and a
// failure names the peer.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "actors/transport.h"
#include "net/chunking.h"
#include "net/curve_keys.h"
#include "net/zap_handler.h"

namespace marill {

struct ZmqPeerAddress {
  Role role = Role::client;
  std::string endpoint;    // tcp://HOST:PORT
  std::string public_key;  // Z85; ignored without curve
};

struct ZmqOptions {
  bool curve = true;  // false: plain TCP (benchmarks only: no encryption, no authentication)
  std::chrono::milliseconds send_timeout{120000};
  std::size_t chunk_bytes = std::size_t{1} << 20;
  std::uint64_t max_message_bytes = std::uint64_t{1} << 34;
  std::chrono::milliseconds linger{10000};  // how long closing waits to deliver what is queued
  // Where this party listens when not at its own endpoint's address: "tcp://*:PORT" for a party that
  // others reach by its host's name (ZeroMQ binds interfaces and addresses, not host names).
  std::string bind_endpoint;
};

class ZmqTransport final : public Transport {
 public:
  // `parties` holds every party of the session, this one included (its endpoint is bound).
  ZmqTransport(Role me, const CurveKeyPair& my_keys, const std::vector<ZmqPeerAddress>& parties, ZmqOptions opt = {});
  ~ZmqTransport() override;
  ZmqTransport(const ZmqTransport&) = delete;
  ZmqTransport& operator=(const ZmqTransport&) = delete;

  void send(Role to, std::vector<std::uint8_t> bytes) override;
  // Dropped at once unless the peer's connection is up (its handshake succeeded, no disconnect since).
  void send_best_effort(Role to, std::vector<std::uint8_t> bytes) override;
  std::optional<Incoming> receive(std::chrono::milliseconds timeout) override;

 private:
  struct Peer;
  Peer& peer(Role to);
  void fail_send(Peer& p, bool timed_out);  // throws if the peer refused us or went away, or if timed_out

  Role me_;
  ZmqOptions opt_;
  zmq::context_t ctx_;
  std::vector<ZmqPeerAddress> allowed_;  // who the ZAP handler admits
  std::unique_ptr<ZapHandler> zap_;  // declared after ctx_: stopped before the context closes
  zmq::socket_t router_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<ChunkReassembler> partial_;  // by sender
};

}  // namespace marill
