#include "net/hosts.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "net/curve_keys.h"

namespace marill {

namespace {

std::string at(const std::string& file, const YAML::Node& n) {
  if (!n.IsDefined() || n.Mark().is_null()) return file;
  return file + ":" + std::to_string(n.Mark().line + 1);  // yaml-cpp's marks are 0-based
}

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& key, const std::string& msg) {
  throw std::invalid_argument(at(file, n) + ": " + key + ": " + msg);
}

std::string word(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsDefined() || n.IsNull()) fail(file, n, key, "missing");
  if (!n.IsScalar()) fail(file, n, key, "expected a word");
  return n.Scalar();
}

// tcp://HOST:PORT with a port in 1..65535 (ZeroMQ would report a bad one only at bind/connect).
bool is_tcp_endpoint(const std::string& e) {
  if (e.rfind("tcp://", 0) != 0) return false;
  const auto colon = e.rfind(':');
  if (colon == std::string::npos || colon <= 6 || colon + 1 >= e.size()) return false;
  const std::string port = e.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const long v = std::stol(port);
  return v >= 1 && v <= 65535;
}

// An entry's secret_key_file, relative to the hosts file's directory ("" when not given).
std::string key_file(const std::string& file, const std::string& dir, const YAML::Node& entry, const std::string& key) {
  if (!entry["secret_key_file"]) return "";
  std::string path = word(file, entry["secret_key_file"], key + ".secret_key_file");
  if (std::filesystem::path(path).is_relative() && !dir.empty()) path = (std::filesystem::path(dir) / path).string();
  return path;
}

}  // namespace

const HostEntry* HostsFile::find(Role r) const {
  for (const auto& h : parties)
    if (h.role == r) return &h;
  return nullptr;
}

const HostEntry& HostsFile::at(Role r) const {
  if (const HostEntry* h = find(r)) return *h;
  throw std::invalid_argument(file + ": parties: no entry for " + role_name(r) + " (this run needs one)");
}

const std::string& HostsFile::control_of(Role r) const {
  const HostEntry& h = at(r);
  if (h.control.empty())
    throw std::invalid_argument(file + ": parties." + role_name(r) + ": no control endpoint (where its party server takes the coordinator's jobs)");
  return h.control;
}

const CoordinatorEntry& HostsFile::coordinator_entry() const {
  if (!coordinator) throw std::invalid_argument(file + ": no coordinator entry (the key a party server admits jobs from)");
  return *coordinator;
}

HostsFile parse_hosts(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw std::invalid_argument(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) fail(file, root, "(top)", "expected a map with 'parties'");
  for (auto it = root.begin(); it != root.end(); ++it)
    if (it->first.Scalar() != "parties" && it->first.Scalar() != "coordinator")
      fail(file, it->first, it->first.Scalar(), "unknown key (expected parties, coordinator)");
  const YAML::Node ps = root["parties"];
  if (!ps.IsMap() || ps.size() == 0) fail(file, ps, "parties", "expected a map from role to {endpoint, public_key}");
  HostsFile hf;
  hf.file = file;
  const std::string dir = std::filesystem::path(file).parent_path().string();
  std::set<std::string> endpoints, keys;
  for (auto it = ps.begin(); it != ps.end(); ++it) {
    const std::string name = word(file, it->first, "parties");
    const std::string key = "parties." + name;
    HostEntry h;
    try {
      h.role = parse_role(name);
    } catch (const std::invalid_argument& e) {
      fail(file, it->first, key, e.what());
    }
    if (hf.find(h.role)) fail(file, it->first, key, "listed twice");
    const YAML::Node e = it->second;
    if (!e.IsMap()) fail(file, e, key, "expected a map with endpoint and public_key");
    for (auto f = e.begin(); f != e.end(); ++f) {
      const std::string k = f->first.Scalar();
      if (k != "endpoint" && k != "public_key" && k != "secret_key_file" && k != "control")
        fail(file, f->first, key + "." + k, "unknown key (expected endpoint, control, public_key, secret_key_file)");
    }
    h.endpoint = word(file, e["endpoint"], key + ".endpoint");
    if (!is_tcp_endpoint(h.endpoint)) fail(file, e["endpoint"], key + ".endpoint", "expected tcp://HOST:PORT, got '" + h.endpoint + "'");
    if (!endpoints.insert(h.endpoint).second) fail(file, e["endpoint"], key + ".endpoint", "another role listens there too");
    h.public_key = word(file, e["public_key"], key + ".public_key");
    if (!is_curve_key(h.public_key))
      fail(file, e["public_key"], key + ".public_key", "not a Curve public key (40 Z85 characters, as `marill curve-keygen` writes to PREFIX.pub)");
    if (!keys.insert(h.public_key).second) fail(file, e["public_key"], key + ".public_key", "another role has this key: a key must name one role");
    if (e["control"]) {
      h.control = word(file, e["control"], key + ".control");
      if (!is_tcp_endpoint(h.control)) fail(file, e["control"], key + ".control", "expected tcp://HOST:PORT, got '" + h.control + "'");
      if (!endpoints.insert(h.control).second) fail(file, e["control"], key + ".control", "another endpoint of the file is there too");
    }
    h.secret_key_file = key_file(file, dir, e, key);
    hf.parties.push_back(h);
  }
  if (const YAML::Node c = root["coordinator"]) {
    if (!c.IsMap()) fail(file, c, "coordinator", "expected a map with public_key (and secret_key_file)");
    for (auto f = c.begin(); f != c.end(); ++f)
      if (f->first.Scalar() != "public_key" && f->first.Scalar() != "secret_key_file")
        fail(file, f->first, "coordinator." + f->first.Scalar(), "unknown key (expected public_key, secret_key_file)");
    CoordinatorEntry ce;
    ce.public_key = word(file, c["public_key"], "coordinator.public_key");
    if (!is_curve_key(ce.public_key)) fail(file, c["public_key"], "coordinator.public_key", "not a Curve public key (40 Z85 characters)");
    if (!keys.insert(ce.public_key).second) fail(file, c["public_key"], "coordinator.public_key", "a party has this key: a key must name one role");
    ce.secret_key_file = key_file(file, dir, c, "coordinator");
    hf.coordinator = ce;
  }
  return hf;
}

HostsFile read_hosts_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot read the hosts file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_hosts(ss.str(), path);
}

}  // namespace marill
