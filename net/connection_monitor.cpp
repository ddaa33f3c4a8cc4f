#include "net/connection_monitor.h"

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace marill {

ConnectionMonitor::ConnectionMonitor(zmq::context_t& ctx, zmq::socket_t& socket) : socket_(&socket), events_(ctx, zmq::socket_type::pair) {
  static std::atomic<unsigned> next{0};
  const std::string endpoint = "inproc://marill-monitor-" + std::to_string(next++);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) != 0)
    throw std::runtime_error(std::string("socket monitor: ") + zmq_strerror(zmq_errno()));
  events_.connect(endpoint);
}

void ConnectionMonitor::stop() {
  if (!socket_) return;
  zmq_socket_monitor(socket_->handle(), nullptr, 0);
  events_.close();
  socket_ = nullptr;
}

void ConnectionMonitor::poll() {
  if (!socket_) return;
  zmq::message_t ev;
  while (events_.recv(ev, zmq::recv_flags::dontwait)) {  // frame 1: event id (u16) and value; frame 2: endpoint
    std::uint16_t id = 0;
    if (ev.size() >= 2) std::memcpy(&id, ev.data(), 2);
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) refused_ = true;
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) up_ = true;
    if (id == ZMQ_EVENT_DISCONNECTED && up_) up_ = false, dropped_ = true;
    while (ev.more()) (void)events_.recv(ev, zmq::recv_flags::none);
  }
}

}  // namespace marill
