// A directory of Curve key pairs (from `marill curve-keygen`) and hosts files on loopback, for the
// tests that run party processes (test_zmq_parties.cpp, test_remote_points.cpp); removed at the end.
#pragma once

#include <unistd.h>

#include <boost/process.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/core/process_helpers.h"

namespace marill::test {

struct Cluster {
  std::filesystem::path dir;
  explicit Cluster(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("marill_zmq_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Cluster() { std::filesystem::remove_all(dir); }
  std::string key(const std::string& who) {
    const std::filesystem::path prefix = dir / who;
    if (!std::filesystem::exists(prefix.string() + ".pub"))
      REQUIRE(boost::process::system(marill_exe(), "curve-keygen", "--out", prefix.string(), boost::process::std_out > boost::process::null) == 0);
    std::string pub = slurp(prefix.string() + ".pub");
    return pub.substr(0, pub.find('\n'));
  }
  // Each role: its endpoint, `who`'s public key and that key's secret file; with a coordinator
  // (`coordinator_who`: whose key it holds), each role's control endpoint too.
  std::filesystem::path hosts(const std::string& name, const std::vector<std::pair<std::string, std::string>>& role_key,
                              const std::string& coordinator_who = "") {
    std::ostringstream y;
    if (!coordinator_who.empty())
      y << "coordinator: {public_key: \"" << key(coordinator_who) << "\", secret_key_file: " << coordinator_who << ".key}\n";
    y << "parties:\n";
    for (const auto& [role, who] : role_key) {
      y << "  " << role << ": {endpoint: \"tcp://127.0.0.1:" << port(role) << "\", ";
      if (!coordinator_who.empty()) y << "control: \"tcp://127.0.0.1:" << port(role + "-control") << "\", ";
      y << "public_key: \"" << key(who) << "\", secret_key_file: " << who << ".key}\n";
    }
    const std::filesystem::path p = dir / name;
    std::ofstream(p) << y.str();
    return p;
  }
  int port(const std::string& role) {
    auto it = ports.find(role);
    if (it == ports.end()) it = ports.emplace(role, free_loopback_port()).first;
    return it->second;
  }
  std::map<std::string, int> ports;
};

}  // namespace marill::test
