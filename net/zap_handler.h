// The ZAP handler (RFC 27) of a ZeroMQ context: admits a CURVE client only if its public key is
// listed, and names the connection by the listed name (ZeroMQ's User-Id on every message it sends),
// so a receiver knows who sent a message from the handshake, never from a claim in the bytes.
// Without ZAP, CURVE encrypts but admits any client.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

namespace marill {

struct ZapAllowed {
  std::string public_key;  // Z85
  std::string name;        // the User-Id of its connections
};

class ZapHandler {
 public:
  // Binds the context's ZAP endpoint; must be constructed before a CURVE server socket of `ctx`
  // accepts a handshake. A refused key is logged once, as "<who>: refused a connection ...".
  ZapHandler(zmq::context_t& ctx, std::vector<ZapAllowed> allowed, std::string who);
  ~ZapHandler();  // stops the handler thread (before the context is closed)
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  void run();

  std::vector<ZapAllowed> allowed_;
  std::string who_;
  zmq::socket_t socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The Z85 text of a raw 32-byte key.
std::string z85_key(const std::uint8_t* raw32);

}  // namespace marill
