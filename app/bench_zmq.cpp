// `marill bench zmq`: what CurveZMQ costs. A stream of messages from one party's transport to
// another's over loopback TCP, with Curve (encrypted, ZAP-authenticated) and plain, in this process
// (two transports, a sender thread): throughput and the Curve slowdown.

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "app/cli.h"
#include "app/commands.h"
#include "net/free_port.h"
#include "net/zmq_transport.h"

namespace marill {

namespace {


// Seconds to move `total` bytes in messages of `message` bytes from client to server.
double stream_seconds(bool curve, std::uint64_t total, std::size_t message) {
  const CurveKeyPair ck = curve_keypair(), sk = curve_keypair();
  const std::vector<ZmqPeerAddress> parties{{Role::client, "tcp://127.0.0.1:" + std::to_string(free_tcp_port(true)), ck.public_z85},
                                            {Role::server, "tcp://127.0.0.1:" + std::to_string(free_tcp_port(true)), sk.public_z85}};
  ZmqOptions opt;
  opt.curve = curve;
  opt.send_timeout = std::chrono::milliseconds(30000);
  ZmqTransport client(Role::client, ck, parties, opt), server(Role::server, sk, parties, opt);
  const std::uint64_t n = (total + message - 1) / message;
  // One warm-up message: the TCP connection and the Curve handshake are not part of the stream.
  client.send(Role::server, std::vector<std::uint8_t>(1, 0));
  if (!server.receive(std::chrono::milliseconds(30000))) throw std::runtime_error("bench zmq: no connection");
  const auto t0 = std::chrono::steady_clock::now();
  std::thread sender([&] {
    for (std::uint64_t i = 0; i < n; ++i) client.send(Role::server, std::vector<std::uint8_t>(message, static_cast<std::uint8_t>(i)));
  });
  std::uint64_t got = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    auto in = server.receive(std::chrono::milliseconds(30000));
    if (!in || in->sender != Role::client) {
      sender.join();
      throw std::runtime_error("bench zmq: the stream stalled");
    }
    got += in->bytes.size();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sender.join();
  if (got != n * message) throw std::runtime_error("bench zmq: bytes lost");
  return s;
}

}  // namespace

int bench_zmq(int argc, char** argv) {
  Args args(argc, argv, {{"--mb", Opt::integer}, {"--message-kb", Opt::integer}, {"--repeat", Opt::integer}},
            "usage: marill bench zmq [--mb 100] [--message-kb 1024] [--repeat 3]\n"
            "A stream of --mb megabytes in messages of --message-kb KiB over loopback TCP, CurveZMQ against plain ZeroMQ\n"
            "(best of --repeat runs each; the transport's 1 MiB chunks and copies included).\n");
  if (args.help()) return 0;
  const std::uint64_t total = static_cast<std::uint64_t>(args.get_int("--mb", 100, 1, 100000)) * 1000000;
  const std::size_t message = static_cast<std::size_t>(args.get_int("--message-kb", 1024, 1, 1 << 20)) * 1024;
  const int repeat = static_cast<int>(args.get_int("--repeat", 3, 1, 100));
  double best[2] = {1e300, 1e300};
  for (int r = 0; r < repeat; ++r)
    for (int curve = 0; curve < 2; ++curve) best[curve] = std::min(best[curve], stream_seconds(curve == 1, total, message));
  const double mb = static_cast<double>(total) / 1e6;
  std::printf("marill bench zmq: %.0f MB in %zu KiB messages over loopback, best of %d\n", mb, message / 1024, repeat);
  std::printf("  plain TCP  %8.3f s  %9.1f MB/s\n", best[0], mb / best[0]);
  std::printf("  CurveZMQ   %8.3f s  %9.1f MB/s  (%.2fx the plain time)\n", best[1], mb / best[1], best[1] / best[0]);
  return 0;
}

}  // namespace marill
