#include "app/remote_options.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace marill {

CurveKeyPair read_listed_key(const std::string& key_file, const std::string& listed_public, const std::string& hosts_file, const std::string& who) {
  if (key_file.empty())
    throw std::invalid_argument("option '--key': the Curve secret key file of " + who + " (or secret_key_file under " + who + " in " + hosts_file + ")");
  const CurveKeyPair keys = read_curve_secret_key(key_file);
  if (keys.public_z85 != listed_public)
    throw std::invalid_argument(key_file + ": this secret key's public key is " + keys.public_z85 + ", but " + hosts_file + " lists " +
                                listed_public + " for " + who);
  return keys;
}

std::unique_ptr<Coordinator> coordinator_from(const Args& args) {
  const HostsFile hosts = read_hosts_file(args.get("--hosts", ""));
  const CoordinatorEntry& me = hosts.coordinator_entry();
  const CurveKeyPair keys = read_listed_key(args.get("--key", me.secret_key_file), me.public_key, hosts.file, "coordinator");
  CoordinatorOptions opt;
  opt.timeout = std::chrono::milliseconds(args.get_int("--timeout-ms", 120000, 100, 24LL * 3600 * 1000));
  opt.max_point = std::chrono::seconds(args.get_int("--point-timeout", 86400, 1, 365LL * 86400));
  opt.progress = [](double s, const std::vector<Role>& running) {
    std::string who;
    for (Role r : running) who += std::string(who.empty() ? "" : ", ") + role_name(r);
    std::fprintf(stderr, "marill: a point has run %.0f s on the party servers (still running: %s)\n", s, who.c_str());
  };
  return std::make_unique<Coordinator>(hosts, keys, opt);
}

std::string calibration_text(const Args& args) {
  if (!args.has("--calibration")) return "";
  const std::string path = args.get("--calibration", "");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("option '--calibration': cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace marill
