#include "net/zap_handler.h"

#include <cstdio>
#include <set>

namespace marill {

namespace {
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";  // where libzmq asks (RFC 27)
}  // namespace

std::string z85_key(const std::uint8_t* raw32) {
  char z[41];
  zmq_z85_encode(z, raw32, 32);
  return z;
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::vector<ZapAllowed> allowed, std::string who)
    : allowed_(std::move(allowed)), who_(std::move(who)), socket_(ctx, zmq::socket_type::rep) {
  socket_.bind(kZapEndpoint);
  thread_ = std::thread([this] { run(); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  socket_.close();
}

void ZapHandler::run() {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  std::set<std::string> refused_keys;
  while (!stop_) {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) <= 0) continue;  // short: closing waits for this loop to see stop_
    std::vector<zmq::message_t> req;
    while (true) {
      zmq::message_t m;
      if (!socket_.recv(m, zmq::recv_flags::none)) break;
      const bool more = m.more();
      req.push_back(std::move(m));
      if (!more) break;
    }
    std::string status = "400", text = "not admitted", user;
    if (req.size() >= 6 && req[0].to_string() == "1.0") {
      const std::string mechanism = req[5].to_string();
      if (mechanism == "CURVE" && req.size() == 7 && req[6].size() == 32) {
        const std::string key = z85_key(req[6].data<std::uint8_t>());
        for (const auto& a : allowed_)
          if (a.public_key == key) status = "200", text = "OK", user = a.name;
        if (status != "200" && refused_keys.insert(key).second)  // once per key: a refused client keeps reconnecting
          std::fprintf(stderr, "%s: refused a connection from %s: its Curve key %s is not in the hosts file\n", who_.c_str(),
                       req[3].to_string().c_str(), key.c_str());
      } else {
        text = "only CURVE is admitted";
      }
    }
    const std::string reply[6] = {"1.0", req.size() > 1 ? req[1].to_string() : "", status, text, user, ""};
    for (int i = 0; i < 6; ++i) socket_.send(zmq::buffer(reply[i]), i < 5 ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

}  // namespace marill
