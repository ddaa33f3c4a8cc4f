// `marill relay`: a TCP relay that delays every byte by a fixed one-way latency (net/delay_relay.h),
// the latency half of a WAN between network namespaces (scripts/netns_run.sh; tc tbf shapes the
// bandwidth). Runs until SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <tuple>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "net/delay_relay.h"

namespace marill {

namespace {

DelayRelay* g_relay = nullptr;

extern "C" void stop_relay(int) {
  if (g_relay) g_relay->stop();
}

// "IP:PORT" (IPv4).
std::pair<std::string, int> host_port(const std::string& option, const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("option '" + option + "': expected IP:PORT, got '" + text + "'");
  int port = 0;
  try {
    std::size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw std::invalid_argument("option '" + option + "': '" + text.substr(colon + 1) + "' is not a port number");
  }
  if (port < 0 || port > 65535) throw std::invalid_argument("option '" + option + "': port " + std::to_string(port) + " out of range");
  return {text.substr(0, colon), port};
}

}  // namespace

int cmd_relay(int argc, char** argv) {
  Args args(argc, argv,
            {{"--listen", Opt::text}, {"--to", Opt::text}, {"--delay-ms", Opt::number}, {"--connect-timeout-ms", Opt::integer}},
            "usage: marill relay --listen IP:PORT --to IP:PORT --delay-ms D [--connect-timeout-ms 30000]\n"
            "Relays TCP connections from --listen to --to, holding every byte D ms in each direction (a WAN's one-way\n"
            "latency where the kernel has no netem). Runs until SIGTERM or SIGINT.\n");
  if (args.help()) return 0;
  if (!args.has("--listen") || !args.has("--to")) throw std::invalid_argument("options '--listen' and '--to' are required (IP:PORT)");
  DelayRelayOptions o;
  std::tie(o.listen_host, o.listen_port) = host_port("--listen", args.get("--listen", ""));
  std::tie(o.target_host, o.target_port) = host_port("--to", args.get("--to", ""));
  const double delay_ms = args.get_double("--delay-ms", 0);
  if (!(delay_ms >= 0 && delay_ms <= 60000)) throw std::invalid_argument("option '--delay-ms': expected 0..60000");
  o.delay = std::chrono::microseconds(static_cast<long long>(delay_ms * 1000));
  o.connect_timeout = std::chrono::milliseconds(args.get_int("--connect-timeout-ms", 30000, 1, 3600000));
  DelayRelay relay(o);
  g_relay = &relay;
  std::signal(SIGTERM, stop_relay);
  std::signal(SIGINT, stop_relay);
  std::printf("marill relay: %s:%d -> %s:%d, %.3f ms each way\n", o.listen_host.c_str(), relay.port(), o.target_host.c_str(), o.target_port,
              delay_ms);
  std::fflush(stdout);
  relay.run();
  g_relay = nullptr;
  return 0;
}

}  // namespace marill
