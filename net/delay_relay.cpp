#include "net/delay_relay.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace marill {

namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in ipv4(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    throw std::invalid_argument("delay relay: '" + host + "' is not an IPv4 address");
  return a;
}

std::string where(const std::string& host, int port) { return host + ":" + std::to_string(port); }

void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// One direction of a relayed connection: what `from` sends reaches `to` `delay` later.
class Pump {
 public:
  Pump(int from, int to, std::chrono::microseconds delay) : from_(from), to_(to), delay_(delay) {}

  void start() {
    reader_ = std::thread([this] { read_loop(); });
    writer_ = std::thread([this] { write_loop(); });
  }
  void join() {
    reader_.join();
    writer_.join();
  }

 private:
  struct Chunk {
    Clock::time_point release;
    std::vector<char> bytes;  // empty: the sender closed
  };
  // Back-pressure: a receiver that stops reading must not make the relay buffer without bound.
  static constexpr std::size_t kMaxQueued = std::size_t{64} << 20;

  void read_loop() {
    std::vector<char> buf(std::size_t{1} << 16);
    for (;;) {
      const ssize_t n = ::read(from_, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      Chunk c{Clock::now() + delay_, {}};
      if (n > 0) c.bytes.assign(buf.data(), buf.data() + n);
      {
        std::unique_lock<std::mutex> lock(mu_);
        space_.wait(lock, [&] { return queued_ < kMaxQueued || broken_; });
        if (broken_) return;
        queued_ += c.bytes.size();
        queue_.push_back(std::move(c));
      }
      ready_.notify_one();
      if (n <= 0) return;
    }
  }

  void write_loop() {
    for (;;) {
      Chunk c;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return !queue_.empty(); });
        c = std::move(queue_.front());
        queue_.pop_front();
        queued_ -= c.bytes.size();
      }
      space_.notify_one();
      std::this_thread::sleep_until(c.release);
      if (c.bytes.empty()) {
        ::shutdown(to_, SHUT_WR);  // pass the sender's close on, after the data before it
        return;
      }
      std::size_t off = 0;
      while (off < c.bytes.size()) {
        const ssize_t w = ::send(to_, c.bytes.data() + off, c.bytes.size() - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          // The receiver went away: stop reading the sender too (its next write fails, as without a relay).
          {
            std::lock_guard<std::mutex> lock(mu_);
            broken_ = true;
          }
          space_.notify_all();
          ::shutdown(from_, SHUT_RD);
          return;
        }
        off += static_cast<std::size_t>(w);
      }
    }
  }

  int from_, to_;
  std::chrono::microseconds delay_;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<Chunk> queue_;
  std::size_t queued_ = 0;
  bool broken_ = false;
  std::thread reader_, writer_;
};

// Tries to reach the target until `timeout`: a party behind the relay may bind after the relay.
int connect_with_retry(const sockaddr_in& target, std::chrono::milliseconds timeout, const std::atomic<bool>& stop) {
  const auto deadline = Clock::now() + timeout;
  while (!stop && Clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

void relay_connection(int client_fd, sockaddr_in target, DelayRelayOptions opt, std::shared_ptr<std::atomic<bool>> stop) {
  const int target_fd = connect_with_retry(target, opt.connect_timeout, *stop);
  if (target_fd < 0) {
    ::close(client_fd);  // the sender sees its connection close and reconnects (ZeroMQ does)
    return;
  }
  no_delay(client_fd);
  no_delay(target_fd);
  Pump up(client_fd, target_fd, opt.delay), down(target_fd, client_fd, opt.delay);
  up.start();
  down.start();
  up.join();
  down.join();
  ::close(client_fd);
  ::close(target_fd);
}

}  // namespace

DelayRelay::DelayRelay(DelayRelayOptions opt) : opt_(std::move(opt)) {
  if (opt_.delay.count() < 0) throw std::invalid_argument("delay relay: negative delay");
  if (opt_.target_port <= 0 || opt_.target_port > 65535) throw std::invalid_argument("delay relay: target port out of range");
  const sockaddr_in a = ipv4(opt_.listen_host, opt_.listen_port);
  (void)ipv4(opt_.target_host, opt_.target_port);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("delay relay: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0) {
    const std::string err = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("delay relay: cannot listen at " + where(opt_.listen_host, opt_.listen_port) + ": " + err);
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
}

DelayRelay::~DelayRelay() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void DelayRelay::run() {
  const sockaddr_in target = ipv4(opt_.target_host, opt_.target_port);
  std::vector<std::thread> connections;
  while (!*stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 100);  // wake up to see stop()
    if (r <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections.emplace_back(relay_connection, fd, target, opt_, stop_);
  }
  // Connections end when both their ends close; a stopped relay's process exits without waiting.
  for (auto& t : connections) t.detach();
}

}  // namespace marill
