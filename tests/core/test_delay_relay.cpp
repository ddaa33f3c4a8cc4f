// The delay relay (net/delay_relay.h): bytes arrive intact and in order, each direction `delay` late.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "net/delay_relay.h"
#include "protocols/ring/prg.h"

using namespace marill;

namespace {

struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
};

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

bool read_exact(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

void write_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    REQUIRE(w > 0);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Echoes everything back until the peer closes.
std::thread echo_once(Listener& l) {
  return std::thread([&l] {
    const int c = ::accept(l.fd, nullptr, nullptr);
    std::vector<std::uint8_t> buf(1 << 16);
    for (;;) {
      const ssize_t r = ::read(c, buf.data(), buf.size());
      if (r <= 0) break;
      std::size_t off = 0;
      while (off < static_cast<std::size_t>(r)) {
        const ssize_t w = ::send(c, buf.data() + off, static_cast<std::size_t>(r) - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
      }
    }
    ::close(c);
  });
}

struct RunningRelay {
  DelayRelay relay;
  std::thread t;
  explicit RunningRelay(DelayRelayOptions o) : relay(std::move(o)), t([this] { relay.run(); }) {}
  ~RunningRelay() {
    relay.stop();
    t.join();
  }
};

}  // namespace

TEST_CASE("delay relay: a round trip through the relay takes two delays, and the bytes come back intact") {
  Listener echo;
  std::thread server = echo_once(echo);
  DelayRelayOptions o;
  o.target_port = echo.port;
  o.delay = std::chrono::milliseconds(40);
  RunningRelay r(o);
  const int c = connect_to(r.relay.port());

  std::uint8_t ping = 7, pong = 0;
  const auto t0 = std::chrono::steady_clock::now();
  write_all(c, &ping, 1);
  REQUIRE(read_exact(c, &pong, 1));
  const double rtt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(pong == 7);
  CHECK(rtt >= 0.080);
  CHECK(rtt < 1.0);

  // 4 MiB of random bytes, written while the echo streams them back: order and content kept.
  const RingTensor data = Prg::from_os().random(Shape{1 << 19});
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::size_t n = static_cast<std::size_t>(data.numel()) * 8;
  std::vector<std::uint8_t> back(n);
  std::thread writer([&] { write_all(c, bytes, n); });
  REQUIRE(read_exact(c, back.data(), n));
  writer.join();
  CHECK(std::equal(back.begin(), back.end(), bytes));
  ::shutdown(c, SHUT_WR);
  CHECK(::read(c, &pong, 1) == 0);  // the echo's close comes back through the relay
  ::close(c);
  server.join();
}

TEST_CASE("delay relay: a target that never listens closes the connection after the connect timeout") {
  int dead_port = 0;
  {
    Listener l;  // a port that was free a moment ago and is closed now
    dead_port = l.port;
  }
  DelayRelayOptions o;
  o.target_port = dead_port;
  o.connect_timeout = std::chrono::milliseconds(300);
  RunningRelay r(o);
  const int c = connect_to(r.relay.port());
  std::uint8_t b = 0;
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(::read(c, &b, 1) <= 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  ::close(c);
}

TEST_CASE("delay relay: bad addresses are clear errors") {
  DelayRelayOptions o;
  o.target_port = 9;
  o.listen_host = "not-an-ip";
  CHECK_THROWS_WITH(DelayRelay(o), Catch::Contains("not-an-ip") && Catch::Contains("IPv4"));
  o.listen_host = "127.0.0.1";
  o.target_port = 0;
  CHECK_THROWS_WITH(DelayRelay(o), Catch::Contains("target port"));
}
