#include "sim/network.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace marill {

namespace {

// "1e9", "400Mbit", "16Gbit" -> bits/s
double parse_bandwidth(const std::string& v) {
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  std::string unit(end ? end : "");
  if (unit == "" || unit == "bit") return x;
  if (unit == "Kbit" || unit == "kbit") return x * 1e3;
  if (unit == "Mbit") return x * 1e6;
  if (unit == "Gbit") return x * 1e9;
  throw std::invalid_argument("network: bad bandwidth '" + v + "' (e.g. 1e9, 400Mbit, 16Gbit)");
}

// "0.02", "20ms", "100us" -> seconds
double parse_latency(const std::string& v) {
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  std::string unit(end ? end : "");
  if (unit == "" || unit == "s") return x;
  if (unit == "ms") return x * 1e-3;
  if (unit == "us") return x * 1e-6;
  throw std::invalid_argument("network: bad latency '" + v + "' (e.g. 0.02, 20ms, 100us)");
}

}  // namespace

NetworkModel network_preset(const std::string& spec) {
  if (spec == "lan") return {"lan", {16e9, 1e-4}};
  if (spec == "wan") return {"wan", {400e6, 20e-3}};
  const std::string prefix = "custom:";
  if (spec.rfind(prefix, 0) == 0) {
    NetworkModel m{spec, {}};
    bool has_bw = false, has_lat = false;
    std::string rest = spec.substr(prefix.size());
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t comma = rest.find(',', pos);
      std::string kv = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      size_t eq = kv.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("network: expected key=value in '" + kv + "'");
      std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (k == "bw") { m.link.bandwidth_bps = parse_bandwidth(v); has_bw = true; }
      else if (k == "lat") { m.link.latency_s = parse_latency(v); has_lat = true; }
      else throw std::invalid_argument("network: unknown key '" + k + "' (expected bw, lat)");
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (!has_bw || !has_lat) throw std::invalid_argument("network: custom needs both bw= and lat=: '" + spec + "'");
    if (!(m.link.bandwidth_bps > 0) || !(m.link.latency_s >= 0))
      throw std::invalid_argument("network: bandwidth must be > 0 and latency >= 0 in '" + spec + "'");
    return m;
  }
  throw std::invalid_argument("unknown network '" + spec + "' (expected lan, wan or custom:bw=...,lat=...)");
}

double LinkQueue::transmit(double send_time, u64 bytes) {
  double depart = std::max(send_time, free_at_);
  free_at_ = depart + static_cast<double>(bytes) * 8.0 / model_.bandwidth_bps;
  return free_at_ + model_.latency_s;
}

}  // namespace marill
