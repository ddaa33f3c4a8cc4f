#include "net/zmq_transport.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "actors/party_error.h"
#include "net/chunking.h"
#include "net/connection_monitor.h"
#include "net/zap_handler.h"

namespace marill {

namespace {

// The chunk format: net/chunking.h. A message's buffer is allocated once up to this size; a larger
// one grows as its bytes arrive (a peer's announced length alone never allocates more).
constexpr std::size_t kReserveAheadBytes = std::size_t{64} << 20;
// A CURVE MESSAGE command: its name, the nonce, the MAC and the flags byte (RFC 26), with room to spare.
constexpr std::size_t kCurveOverhead = 64;

}  // namespace

struct ZmqTransport::Peer {
  ZmqPeerAddress addr;
  zmq::socket_t dealer;
  std::unique_ptr<ConnectionMonitor> monitor;  // A session's frames are numbered and a reconnect may
                                               // lose some: a peer that dropped() is gone for this run.
};

ZmqTransport::ZmqTransport(Role me, const CurveKeyPair& my_keys, const std::vector<ZmqPeerAddress>& parties, ZmqOptions opt)
    : me_(me), opt_(opt), ctx_(1), allowed_(parties), router_(ctx_, zmq::socket_type::router),
      partial_(kMaxRoles, ChunkReassembler(opt.max_message_bytes, kReserveAheadBytes)) {
  if (opt_.chunk_bytes <= kChunkLengthBytes)
    throw std::invalid_argument("zmq transport: chunks must be larger than " + std::to_string(kChunkLengthBytes) + " bytes");
  const ZmqPeerAddress* self = nullptr;
  for (const auto& p : parties)
    if (p.role == me) self = &p;
  if (!self) throw std::invalid_argument(std::string("zmq transport: no address for this party (") + role_name(me) + ")");
  if (opt_.curve) {
    // The ZAP handler must be bound before the ROUTER accepts a handshake.
    std::vector<ZapAllowed> allowed;
    for (const auto& p : parties) allowed.push_back({p.public_key, role_name(p.role)});
    zap_ = std::make_unique<ZapHandler>(ctx_, std::move(allowed), std::string("marill party ") + role_name(me));
    router_.set(zmq::sockopt::curve_server, 1);
    router_.set(zmq::sockopt::curve_secretkey, my_keys.secret_z85);
    router_.set(zmq::sockopt::zap_domain, "marill");
  }
  router_.set(zmq::sockopt::router_mandatory, 1);  // never drop a routed message silently
  // The limit applies to the frame on the wire: a chunk, its flag byte and the Curve box around it.
  router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(opt_.chunk_bytes + 1 + kCurveOverhead));
  router_.set(zmq::sockopt::linger, static_cast<int>(opt_.linger.count()));
  const std::string& listen = opt_.bind_endpoint.empty() ? self->endpoint : opt_.bind_endpoint;
  try {
    router_.bind(listen);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("zmq transport: ") + role_name(me) + " cannot listen at " + listen + ": " + e.what());
  }
  for (const auto& p : parties) {
    if (p.role == me) continue;
    auto peer = std::make_unique<Peer>(Peer{p, zmq::socket_t(ctx_, zmq::socket_type::dealer), nullptr});
    auto& d = peer->dealer;
    if (opt_.curve) {
      d.set(zmq::sockopt::curve_serverkey, p.public_key);  // the peer must prove it holds this key's secret
      d.set(zmq::sockopt::curve_publickey, my_keys.public_z85);
      d.set(zmq::sockopt::curve_secretkey, my_keys.secret_z85);
    }
    d.set(zmq::sockopt::routing_id, std::string(role_name(me)));  // plain TCP only; with Curve, ZAP's User-Id counts
    d.set(zmq::sockopt::immediate, 1);
    // Parties start together and a peer may bind a moment after this connects: retry soon (ZeroMQ's
    // default waits 100 ms), backing off to 1 s for a peer that stays away.
    d.set(zmq::sockopt::reconnect_ivl, 10);
    d.set(zmq::sockopt::reconnect_ivl_max, 1000);
    d.set(zmq::sockopt::sndtimeo, static_cast<int>(std::min<long long>(opt_.send_timeout.count(), 10)));  // a slice: see send()
    d.set(zmq::sockopt::linger, static_cast<int>(opt_.linger.count()));
    peer->monitor = std::make_unique<ConnectionMonitor>(ctx_, d);
    d.connect(p.endpoint);
    peers_.push_back(std::move(peer));
  }
}

ZmqTransport::~ZmqTransport() {
  for (auto& p : peers_) {
    p->monitor->stop();
    p->dealer.close();  // lingers up to opt_.linger to deliver the last frames
  }
  router_.close();
  zap_.reset();
}

void ZmqTransport::fail_send(Peer& p, bool timed_out) {
  const std::string who = std::string(role_name(p.addr.role)) + " at " + p.addr.endpoint;
  if (p.monitor->refused())
    throw ProtocolError("zmq transport: " + who + " refused this party's Curve key (not in its hosts file?) or holds another key than the hosts file lists");
  if (p.monitor->dropped()) throw ProtocolError("zmq transport: " + who + " disconnected (its process ended or the network failed)");
  if (timed_out)
    throw TimeoutError("zmq transport: no connection to " + who + " within " + std::to_string(opt_.send_timeout.count()) +
                       " ms (not running, or it refused this party's Curve key)");
}

ZmqTransport::Peer& ZmqTransport::peer(Role to) {
  for (auto& p : peers_)
    if (p->addr.role == to) return *p;
  throw ProtocolError(std::string("zmq transport: no party ") + role_name(to) + " in this session");
}

void ZmqTransport::send_best_effort(Role to, std::vector<std::uint8_t> bytes) {
  Peer& p = peer(to);
  p.monitor->poll();
  if (p.monitor->up() && !p.monitor->dropped() && !p.monitor->refused()) send(to, std::move(bytes));
}

void ZmqTransport::send(Role to, std::vector<std::uint8_t> bytes) {
  Peer* peer = &this->peer(to);
  peer->monitor->poll();
  fail_send(*peer, false);  // known refused or gone: no point waiting
  std::size_t off = 0;
  do {
    zmq::message_t chunk(chunk_wire_bytes(bytes.size(), off, opt_.chunk_bytes));
    off += write_chunk(bytes.data(), bytes.size(), off, opt_.chunk_bytes, chunk.data<std::uint8_t>());
    // Waits in slices so that a refused key or a vanished peer is reported at once, not at the timeout.
    const auto deadline = std::chrono::steady_clock::now() + opt_.send_timeout;
    while (!peer->dealer.send(chunk, zmq::send_flags::none)) {
      peer->monitor->poll();
      fail_send(*peer, std::chrono::steady_clock::now() >= deadline);
    }
  } while (off < bytes.size());
}

std::optional<Incoming> ZmqTransport::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    if (zmq::poll(&item, 1, left) <= 0) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      continue;
    }
    zmq::message_t id, body;
    if (!router_.recv(id, zmq::recv_flags::dontwait)) continue;
    if (!id.more()) throw ProtocolError("zmq transport: a message without a body");
    (void)router_.recv(body, zmq::recv_flags::none);
    if (body.more()) {  // DEALERs here send one part; more is a peer speaking another protocol
      zmq::message_t extra;
      do (void)router_.recv(extra, zmq::recv_flags::none);
      while (extra.more());
      throw ProtocolError("zmq transport: a multi-part message (not a marill party)");
    }
    // With Curve the sender is who ZAP authenticated; in plain TCP, the DEALER's claimed name.
    const char* user = opt_.curve ? body.gets("User-Id") : nullptr;
    const std::string name = opt_.curve ? std::string(user ? user : "") : id.to_string();
    std::optional<Role> sender;
    for (const auto& a : allowed_)
      if (a.role != me_ && name == role_name(a.role)) sender = a.role;
    if (!sender) return Incoming{{}, std::nullopt};
    auto& reassembly = partial_[static_cast<std::size_t>(role_index(*sender))];
    if (auto message = reassembly.add(body.data<std::uint8_t>(), body.size(), role_name(*sender)))
      return Incoming{std::move(*message), sender};
  }
}

}  // namespace marill
