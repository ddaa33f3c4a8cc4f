// The hosts file of a multi-process run (`marill party --hosts HOSTS.yaml`): where each role's party
// listens and the Curve public key it proves it holds. Every process of a run reads the same file;
// a process also finds its own secret key file there (or is given one with --key).
//
//   parties:
//     client: {endpoint: tcp://127.0.0.1:5601, public_key: "<40 Z85 chars>", secret_key_file: client.key}
//     server: {endpoint: tcp://10.0.0.2:5601, public_key: "..."}
//     dealer: {endpoint: tcp://10.0.0.3:5601, public_key: "..."}
//
// Remote points (remote/): each party's server also listens for the coordinator's jobs at its
// `control` endpoint, and a `coordinator` entry names the only key those endpoints admit:
//
//   coordinator: {public_key: "...", secret_key_file: coordinator.key}
//   parties:
//     client: {endpoint: tcp://10.0.0.1:5601, control: tcp://10.0.0.1:5701, public_key: "..."}
//
// Strict: unknown keys, missing keys, malformed endpoints or keys, and one key or endpoint for two
// roles are errors naming the file, line and key. Relative key files are relative to the hosts file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "protocols/comm/roles.h"

namespace marill {

struct HostEntry {
  Role role = Role::client;
  std::string endpoint;    // tcp://HOST:PORT
  std::string public_key;  // Z85
  std::string secret_key_file;  // empty: not given (the process passes --key)
  std::string control;          // tcp://HOST:PORT where its party server takes jobs; empty: none
};

struct CoordinatorEntry {
  std::string public_key;       // Z85
  std::string secret_key_file;  // empty: not given
};

struct HostsFile {
  std::string file;
  std::vector<HostEntry> parties;
  std::optional<CoordinatorEntry> coordinator;
  const HostEntry* find(Role r) const;
  const HostEntry& at(Role r) const;  // throws std::invalid_argument naming the file
  // For remote points: r's control endpoint, the coordinator's entry; throw naming the file.
  const std::string& control_of(Role r) const;
  const CoordinatorEntry& coordinator_entry() const;
};

HostsFile read_hosts_file(const std::string& path);
HostsFile parse_hosts(const std::string& yaml_text, const std::string& file_name);

}  // namespace marill
