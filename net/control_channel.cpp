#include "net/control_channel.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "net/connection_monitor.h"

namespace marill {

namespace {
constexpr std::size_t kCurveOverhead = 64;  // a CURVE MESSAGE command's name, nonce, MAC and flags (RFC 26)
constexpr int kLingerMs = 2000;             // closing waits this long to deliver a last reply
constexpr int kHeartbeatMs = 2000, kHeartbeatTimeoutMs = 20000;
}  // namespace

ControlServer::ControlServer(const CurveKeyPair& my_keys, const std::string& endpoint, const std::string& coordinator_public_key,
                             std::string who, std::size_t max_message_bytes)
    : ctx_(1), router_(ctx_, zmq::socket_type::router) {
  zap_ = std::make_unique<ZapHandler>(ctx_, std::vector<ZapAllowed>{{coordinator_public_key, "coordinator"}}, std::move(who));
  router_.set(zmq::sockopt::curve_server, 1);
  router_.set(zmq::sockopt::curve_secretkey, my_keys.secret_z85);
  router_.set(zmq::sockopt::zap_domain, "marill-control");
  router_.set(zmq::sockopt::router_mandatory, 1);
  router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes + kCurveOverhead));
  router_.set(zmq::sockopt::linger, kLingerMs);
  router_.set(zmq::sockopt::sndtimeo, kLingerMs);
  try {
    router_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("control channel: cannot listen at " + endpoint + ": " + e.what());
  }
}

ControlServer::~ControlServer() {
  router_.close();
  zap_.reset();
}

std::optional<std::vector<std::uint8_t>> ControlServer::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    int ready = 0;
    try {
      ready = left.count() < 0 ? 0 : zmq::poll(&item, 1, left);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      return std::nullopt;  // a signal: the caller decides whether to go on
    }
    if (ready <= 0) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      continue;
    }
    zmq::message_t id, body;
    if (!router_.recv(id, zmq::recv_flags::dontwait)) continue;
    bool ok = id.more();
    if (ok) {
      (void)router_.recv(body, zmq::recv_flags::none);
      const char* user = body.gets("User-Id");
      ok = !body.more() && user && std::string(user) == "coordinator";
      zmq::message_t extra;
      while (body.more() && router_.recv(extra, zmq::recv_flags::none) && extra.more()) {
      }
    }
    if (!ok) {
      ++dropped_;
      continue;
    }
    last_sender_ = id.to_string();
    return std::vector<std::uint8_t>(body.data<std::uint8_t>(), body.data<std::uint8_t>() + body.size());
  }
}

bool ControlServer::reply(const std::vector<std::uint8_t>& bytes) {
  try {
    if (!router_.send(zmq::buffer(last_sender_), zmq::send_flags::sndmore)) return false;
    return router_.send(zmq::buffer(bytes), zmq::send_flags::none).has_value();
  } catch (const zmq::error_t&) {  // EHOSTUNREACH (ROUTER_MANDATORY): the coordinator is gone
    return false;
  }
}

struct ControlClient::Link {
  ControlPeer peer;
  zmq::socket_t dealer;
  std::unique_ptr<ConnectionMonitor> monitor;
};

ControlClient::ControlClient(const CurveKeyPair& my_keys, std::vector<ControlPeer> peers, std::size_t max_message_bytes)
    : ctx_(1), keys_(my_keys), max_message_bytes_(max_message_bytes) {
  for (ControlPeer& p : peers) {
    links_.push_back(std::make_unique<Link>(Link{p, zmq::socket_t(ctx_, zmq::socket_type::dealer), nullptr}));
    open(*links_.back());
  }
}

// Not ZMQ_IMMEDIATE: with it, a reconnect drops the replies a server sent just before it closed
// (libzmq terminates the pipe). The coordinator waits for the connection itself (await_connection)
// and starts a fresh socket for a server that went away (reset), so no stale job waits for it.
void ControlClient::open(Link& l) {
  auto& d = l.dealer;
  d.set(zmq::sockopt::curve_serverkey, l.peer.public_key);
  d.set(zmq::sockopt::curve_publickey, keys_.public_z85);
  d.set(zmq::sockopt::curve_secretkey, keys_.secret_z85);
  d.set(zmq::sockopt::sndtimeo, 100);  // a slice: send() waits in slices to notice a refused key
  d.set(zmq::sockopt::linger, 0);      // a coordinator that gives up drops its unsent jobs
  d.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes_ + kCurveOverhead));
  // ZMTP heartbeats: a party host that vanishes without closing its connection (power, network)
  // is noticed as a disconnect within the heartbeat timeout, not only at the point's limit.
  d.set(zmq::sockopt::heartbeat_ivl, kHeartbeatMs);
  d.set(zmq::sockopt::heartbeat_timeout, kHeartbeatTimeoutMs);
  l.monitor = std::make_unique<ConnectionMonitor>(ctx_, d);
  d.connect(l.peer.endpoint);
}

void ControlClient::reset(Role r) {
  Link& l = link(r);
  l.monitor->stop();
  l.dealer.close();
  l.dealer = zmq::socket_t(ctx_, zmq::socket_type::dealer);
  open(l);
}

ControlClient::~ControlClient() {
  for (auto& l : links_) {
    l->monitor->stop();
    l->dealer.close();
  }
}

ControlClient::Link& ControlClient::link(Role r) {
  for (auto& l : links_)
    if (l->peer.role == r) return *l;
  throw std::invalid_argument(std::string("control channel: no party server for ") + role_name(r));
}

const ControlPeer& ControlClient::peer(Role r) const {
  for (const auto& l : links_)
    if (l->peer.role == r) return l->peer;
  throw std::invalid_argument(std::string("control channel: no party server for ") + role_name(r));
}

bool ControlClient::lost(Role r) {
  ConnectionMonitor& m = *link(r).monitor;
  m.poll();
  return m.dropped() && !m.up();  // gone and not back
}

namespace {
std::string server_of(Role r, const std::string& endpoint) { return std::string("the party server of ") + role_name(r) + " at " + endpoint; }
}  // namespace

void ControlClient::await_connection(Role r, std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout) {
  Link& l = link(r);
  for (;;) {
    l.monitor->poll();
    if (l.monitor->refused())
      throw std::runtime_error(server_of(r, l.peer.endpoint) +
                               " refused the coordinator's Curve key (not the hosts file's coordinator key?) or holds another key than the hosts file lists");
    if (l.monitor->up()) return;
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("no connection to " + server_of(r, l.peer.endpoint) + " within " + std::to_string(timeout.count()) +
                               " ms (is `marill party --serve` running there?)");
    zmq::pollitem_t item{l.monitor->events().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(50));
  }
}

void ControlClient::send(Role to, const std::vector<std::uint8_t>& bytes, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Link& l = link(to);
  zmq::message_t msg(bytes.data(), bytes.size());
  while (!l.dealer.send(msg, zmq::send_flags::none)) await_connection(to, deadline, timeout);
}

std::optional<std::pair<Role, std::vector<std::uint8_t>>> ControlClient::receive(std::chrono::milliseconds timeout) {
  std::vector<zmq::pollitem_t> items;
  for (auto& l : links_) items.push_back({l->dealer.handle(), 0, ZMQ_POLLIN, 0});
  if (zmq::poll(items.data(), items.size(), timeout) <= 0) return std::nullopt;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!(items[i].revents & ZMQ_POLLIN)) continue;
    zmq::message_t m;
    if (!links_[i]->dealer.recv(m, zmq::recv_flags::dontwait)) continue;
    bool multipart = m.more();
    while (m.more()) (void)links_[i]->dealer.recv(m, zmq::recv_flags::none);
    if (multipart) continue;  // not a party server's reply
    return std::make_pair(links_[i]->peer.role, std::vector<std::uint8_t>(m.data<std::uint8_t>(), m.data<std::uint8_t>() + m.size()));
  }
  return std::nullopt;
}

}  // namespace marill
