// Party processes over ZeroMQ with CurveZMQ (net/, `marill party`): three `marill party` processes on
// loopback cost what the in-process run of the same point costs and open the same output; a Curve
// key outside the hosts file is refused; a killed party stops the others within the timeout. Plus
// the hosts file's errors and the transport's chunking, in this process.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <csignal>
#include <unistd.h>

#include <boost/process.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/cli.h"
#include "app/layer_options.h"
#include "net/curve_keys.h"
#include "net/hosts.h"
#include "net/zmq_transport.h"
#include "runner/runner.h"
#include "tests/core/process_helpers.h"
#include "tests/core/zmq_cluster.h"

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace marill;
using marill::test::free_loopback_port;
using marill::test::marill_exe;
using marill::test::slurp;
using marill::test::Cluster;

namespace {

struct PartyProcess {
  std::string role;
  fs::path out, err, report;
  bp::child child;
};

PartyProcess start_party(Cluster& c, const fs::path& hosts, const std::string& role, const std::vector<std::string>& point,
                         int timeout_ms) {
  PartyProcess p;
  p.role = role;
  p.out = c.dir / (role + ".out");
  p.err = c.dir / (role + ".err");
  p.report = c.dir / (role + ".report");
  std::vector<std::string> args{"party", "--role", role, "--hosts", hosts.string(), "--timeout-ms", std::to_string(timeout_ms),
                                "--report", p.report.string()};
  args.insert(args.end(), point.begin(), point.end());
  p.child = bp::child(marill_exe(), bp::args(args), bp::std_out > p.out.string(), bp::std_err > p.err.string());
  return p;
}

// Waits (polling: no reliance on wait_for) until every party exits or `limit` passes; kills the
// stragglers so that no test hangs. Returns the seconds it waited.
double wait_all(std::vector<PartyProcess>& ps, std::chrono::milliseconds limit) {
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < limit) {
    bool running = false;
    for (auto& p : ps) running = running || p.child.running();
    if (!running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& p : ps)
    if (p.child.running()) {
      p.child.terminate();
      FAIL_CHECK("party " << p.role << " still running after " << limit.count() << " ms: killed");
    }
  for (auto& p : ps)
    if (p.child.valid()) p.child.wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Point point_of(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  Args args(static_cast<int>(argv.size()), argv.data(), block_point_options({}), "");
  return block_point(args);
}

const std::vector<std::string> kSmallBlock{"--b", "4", "--d", "16", "--heads", "2", "--ffn", "32", "--reveal"};

// The three processes of `setting` against run_point() of the same point. `extra`: more point options.
// The opened output is compared where it is deterministic (a seeded dealer): 3pc's pairwise PRG keys
// are fresh each run and its local truncations differ in the last bit from run to run.
void check_processes_match_in_process(const std::string& setting, const std::vector<std::string>& roles,
                                      const std::vector<std::string>& extra, bool same_output) {
  Cluster c(setting);
  std::vector<std::pair<std::string, std::string>> rk;
  for (const auto& r : roles) rk.push_back({r, r});
  const fs::path hosts = c.hosts("hosts.yaml", rk);
  std::vector<std::string> point = kSmallBlock;
  point.insert(point.end(), {"--setting", setting});
  point.insert(point.end(), extra.begin(), extra.end());
  std::vector<PartyProcess> ps;
  for (const auto& r : roles) ps.push_back(start_party(c, hosts, r, point, 10000));
  wait_all(ps, std::chrono::milliseconds(20000));

  const PointResult in_process = run_point(point_of(point));
  for (auto& p : ps) {
    INFO(p.role << " stderr: " << slurp(p.err));
    REQUIRE(p.child.exit_code() == 0);
    const std::string bytes = slurp(p.report);
    const PartyReport rep = report_from_binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    REQUIRE(rep.ran);
    const PartyReport& ref = in_process.session.party(parse_role(p.role));
    for (Phase ph : {Phase::online, Phase::offline}) {
      CHECK(rep.ledger.total(ph).bytes_sent == ref.ledger.total(ph).bytes_sent);
      CHECK(rep.ledger.total(ph).messages == ref.ledger.total(ph).messages);
      CHECK(rep.ledger.total(ph).rounds == ref.ledger.total(ph).rounds);
    }
    CHECK(rep.ledger.total(Phase::online).bytes_sent + rep.ledger.total(Phase::offline).bytes_sent > 0);
  }
  REQUIRE(in_process.output_sha256.size() == 64);
  const std::string client_out = slurp(ps[0].out);
  INFO("client stdout: " << client_out);
  CHECK(client_out.find("output sha256 ") != std::string::npos);
  if (same_output) CHECK(client_out.find("output sha256 " + in_process.output_sha256) != std::string::npos);
}

}  // namespace

TEST_CASE("zmq parties: 3pc processes cost and open what the in-process run does") {
  check_processes_match_in_process("3pc", {"client", "server", "helper"}, {}, false);
}

TEST_CASE("zmq parties: 2pc-dealer client, server and dealer processes cost and open what the in-process run does") {
  check_processes_match_in_process("2pc-dealer", {"client", "server", "dealer"}, {"--dealer-seed", "5"}, true);
}

TEST_CASE("zmq parties: 2pc client and server processes (OT and HE) cost and open what the in-process run does") {
  // The OTs' and HE's randomness is fresh in every run: the opened output differs in its last bits.
  check_processes_match_in_process("2pc", {"client", "server"}, {}, false);
}

TEST_CASE("zmq parties: a Curve key outside the hosts file is refused") {
  Cluster c("refused");
  const fs::path hosts = c.hosts("hosts.yaml", {{"client", "client"}, {"server", "server"}, {"helper", "helper"}});
  // The intruder's own hosts file names it as the client, with its key; the others' files do not.
  const fs::path intruder_hosts = c.hosts("intruder.yaml", {{"client", "intruder"}, {"server", "server"}, {"helper", "helper"}});
  std::vector<std::string> point = kSmallBlock;
  point.insert(point.end(), {"--setting", "3pc"});
  std::vector<PartyProcess> ps;
  ps.push_back(start_party(c, intruder_hosts, "client", point, 2000));
  ps.push_back(start_party(c, hosts, "server", point, 2000));
  ps.push_back(start_party(c, hosts, "helper", point, 2000));
  const double waited = wait_all(ps, std::chrono::milliseconds(15000));
  CHECK(waited < 10.0);
  const std::string intruder_key = c.key("intruder");
  // The intruder stops at its first refused send, so not every party need have seen it knock; a
  // party may also stop on a peer's abort (which names only the first failing role) before its own
  // wait for the client ends.
  bool zap_refused = false, names_client = false;
  for (auto& p : ps) {
    const std::string err = slurp(p.err);
    INFO(p.role << " stderr: " << err);
    CHECK(p.child.exit_code() != 0);  // nobody ran the block
    if (p.role == "client") {
      CHECK(err.find("refused this party's Curve key") != std::string::npos);
    } else {
      zap_refused = zap_refused || err.find("its Curve key " + intruder_key + " is not in the hosts file") != std::string::npos;
      names_client = names_client || err.find("connection to client") != std::string::npos || err.find("waiting for client") != std::string::npos;
    }
  }
  CHECK(zap_refused);
  CHECK(names_client);
}

TEST_CASE("zmq parties: a killed party makes the others stop within the timeout, naming it") {
  Cluster c("killed");
  const fs::path hosts = c.hosts("hosts.yaml", {{"client", "client"}, {"server", "server"}, {"helper", "helper"}});
  // Long enough (64 blocks: several seconds) that the kill lands mid-run.
  const std::vector<std::string> point{"--b", "16", "--d", "64", "--heads", "2", "--ffn", "128", "--blocks", "64", "--setting", "3pc"};
  const int timeout_ms = 3000;
  std::vector<PartyProcess> ps;
  for (const char* r : {"client", "server", "helper"}) ps.push_back(start_party(c, hosts, r, point, timeout_ms));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE(ps[1].child.running());
  ps[1].child.terminate();  // SIGKILL: no abort frame, no goodbye
  ps[1].child.wait();
  std::vector<PartyProcess> survivors;
  survivors.push_back(std::move(ps[0]));
  survivors.push_back(std::move(ps[2]));
  const double waited = wait_all(survivors, std::chrono::milliseconds(timeout_ms * 3));
  CHECK(waited < timeout_ms / 1000.0 + 3.0);  // the timeout, plus slack for process exit on a loaded machine
  bool named = false;
  for (auto& p : survivors) {
    const std::string err = slurp(p.err);
    INFO(p.role << " stderr: " << err);
    CHECK(p.child.exit_code() != 0);  // killed mid-run, not after the end
    CHECK(err.find("failed") != std::string::npos);
    named = named || err.find("server") != std::string::npos;
  }
  CHECK(named);
}

TEST_CASE("zmq transport: a message of several chunks arrives whole, from the authenticated sender") {
  const CurveKeyPair ck = curve_keypair(), sk = curve_keypair();
  const std::vector<ZmqPeerAddress> parties{{Role::client, "tcp://127.0.0.1:" + std::to_string(free_loopback_port()), ck.public_z85},
                                            {Role::server, "tcp://127.0.0.1:" + std::to_string(free_loopback_port()), sk.public_z85}};
  ZmqOptions opt;
  opt.chunk_bytes = 1000;
  opt.max_message_bytes = 10000;
  opt.send_timeout = std::chrono::milliseconds(5000);
  ZmqTransport client(Role::client, ck, parties, opt), server(Role::server, sk, parties, opt);
  std::vector<std::uint8_t> msg(3500);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 7);
  client.send(Role::server, msg);
  client.send(Role::server, {});  // an empty message is one chunk too
  auto a = server.receive(std::chrono::milliseconds(5000));
  REQUIRE(a);
  CHECK(a->sender == Role::client);
  CHECK(a->bytes == msg);
  auto b = server.receive(std::chrono::milliseconds(5000));
  REQUIRE(b);
  CHECK(b->bytes.empty());
  CHECK_FALSE(server.receive(std::chrono::milliseconds(50)));  // nothing more: a timeout, not a hang
  client.send(Role::server, std::vector<std::uint8_t>(10001));
  CHECK_THROWS_WITH(server.receive(std::chrono::milliseconds(5000)), Catch::Contains("exceeds 10000 bytes"));
}

TEST_CASE("hosts file: errors name the file, the line and the key") {
  const std::string k1 = curve_keypair().public_z85, k2 = curve_keypair().public_z85;
  const std::string ok = "parties:\n  client: {endpoint: tcp://127.0.0.1:5601, public_key: \"" + k1 + "\"}\n" +
                         "  server: {endpoint: tcp://127.0.0.1:5602, public_key: \"" + k2 + "\", secret_key_file: s.key}\n";
  const HostsFile h = parse_hosts(ok, "dir/h.yaml");
  CHECK(h.at(Role::server).endpoint == "tcp://127.0.0.1:5602");
  CHECK(h.at(Role::server).secret_key_file == "dir/s.key");
  CHECK_THROWS_WITH(h.at(Role::dealer), Catch::Contains("no entry for dealer"));
  auto bad = [&](const std::string& text, const std::string& want) {
    INFO(text);
    CHECK_THROWS_WITH(parse_hosts(text, "h.yaml"), Catch::Contains(want));
  };
  bad("parties:\n  client: {endpoint: tcp://127.0.0.1:5601, public_key: \"" + k1 + "\", port: 3}\n", "h.yaml:2: parties.client.port: unknown key");
  bad("parties:\n  client: {endpoint: tcp://127.0.0.1, public_key: \"" + k1 + "\"}\n", "h.yaml:2: parties.client.endpoint: expected tcp://HOST:PORT");
  bad("parties:\n  client:\n    endpoint: tcp://127.0.0.1:1\n    public_key: short\n", "h.yaml:4: parties.client.public_key: not a Curve public key");
  bad("parties:\n  client: {endpoint: tcp://127.0.0.1:1, public_key: \"" + k1 + "\"}\n  server: {endpoint: tcp://127.0.0.1:2, public_key: \"" + k1 + "\"}\n",
      "h.yaml:3: parties.server.public_key: another role has this key");
  bad("parties:\n  clint: {endpoint: tcp://127.0.0.1:1, public_key: \"" + k1 + "\"}\n", "h.yaml:2: parties.clint:");
  bad("parties:\n  client: {public_key: \"" + k1 + "\"}\n", "parties.client.endpoint: missing");
  bad("hosts: 1\n", "h.yaml:1: hosts: unknown key");
}

TEST_CASE("curve keys: the secret file is private and matches its public key") {
  Cluster c("keys");
  const std::string pub = c.key("a");
  struct stat st{};
  REQUIRE(::stat((c.dir / "a.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const CurveKeyPair kp = read_curve_secret_key((c.dir / "a.key").string());
  CHECK(kp.public_z85 == pub);
  CHECK(curve_public_of(kp.secret_z85) == pub);
  CHECK_THROWS_WITH(write_curve_keypair((c.dir / "a").string(), curve_keypair()), Catch::Contains("refusing to overwrite"));
  ::chmod((c.dir / "a.key").c_str(), 0644);
  CHECK_THROWS_WITH(read_curve_secret_key((c.dir / "a.key").string()), Catch::Contains("must not be readable by others"));
}

TEST_CASE("zmq transport: malformed chunks from an admitted peer are refused, a plain client is not admitted") {
  const CurveKeyPair ck = curve_keypair(), sk = curve_keypair();
  const std::vector<ZmqPeerAddress> parties{{Role::client, "tcp://127.0.0.1:" + std::to_string(free_loopback_port()), ck.public_z85},
                                            {Role::server, "tcp://127.0.0.1:" + std::to_string(free_loopback_port()), sk.public_z85}};
  ZmqOptions opt;
  opt.send_timeout = std::chrono::milliseconds(5000);
  ZmqTransport server(Role::server, sk, parties, opt);
  zmq::context_t ctx;
  // The client's own key, on a raw DEALER that speaks something else than the chunk format.
  auto raw_client = [&](bool curve) {
    zmq::socket_t d(ctx, zmq::socket_type::dealer);
    if (curve) {
      d.set(zmq::sockopt::curve_serverkey, sk.public_z85);
      d.set(zmq::sockopt::curve_publickey, ck.public_z85);
      d.set(zmq::sockopt::curve_secretkey, ck.secret_z85);
    }
    d.set(zmq::sockopt::linger, 0);
    d.connect(parties[1].endpoint);
    return d;
  };
  auto refused = [&](std::vector<std::uint8_t> bytes, const std::string& why) {
    INFO(why);
    zmq::socket_t d = raw_client(true);
    d.send(zmq::buffer(bytes), zmq::send_flags::none);
    CHECK_THROWS_WITH(server.receive(std::chrono::milliseconds(5000)), Catch::Contains(why));
  };
  refused({0x80, 1, 2}, "malformed chunk from client");
  refused({0x02, 1, 2}, "sent a chunk of no message");
  refused({0x03, 1, 0}, "malformed chunk from client");  // a first chunk too short for its length
  refused({0x03, 5, 0, 0, 0, 0, 0, 0, 0, 1}, "ended a message short of its length");
  {
    zmq::socket_t plain = raw_client(false);  // no CURVE: the handshake cannot even start
    plain.send(zmq::str_buffer("\x03\x01\0\0\0\0\0\0\0x"), zmq::send_flags::dontwait);
    CHECK_FALSE(server.receive(std::chrono::milliseconds(500)));
  }
}

TEST_CASE("zmq parties: a secret key that is not the hosts file's key for the role is a clear error") {
  Cluster c("wrongkey");
  const fs::path hosts = c.hosts("hosts.yaml", {{"client", "client"}, {"server", "server"}, {"helper", "helper"}});
  c.key("other");
  std::vector<PartyProcess> ps;
  ps.push_back(start_party(c, hosts, "client", {"--setting", "3pc", "--key", (c.dir / "other.key").string()}, 2000));
  wait_all(ps, std::chrono::milliseconds(10000));
  const std::string err = slurp(ps[0].err);
  INFO(err);
  CHECK(ps[0].child.exit_code() != 0);
  CHECK(err.find("other.key: this secret key's public key is " + c.key("other")) != std::string::npos);
  CHECK(err.find("lists " + c.key("client") + " for client") != std::string::npos);
}

// Issue 16, item 5: each party in its own network namespace, links shaped by tc tbf and delayed by
// `marill relay` (scripts/netns_run.sh). Bytes, messages and rounds equal the in-process run's; time
// is the benchmark's business (scripts/netns_bench.sh), but every round must have crossed the delay.
TEST_CASE("netns parties: over tbf-shaped links with delay relays, 3pc processes cost what the in-process run does") {
  const fs::path out = fs::temp_directory_path() / ("marill_netns_" + std::to_string(::getpid()));
  fs::remove_all(out);
  std::vector<std::string> point = kSmallBlock;
  point.insert(point.end(), {"--setting", "3pc"});
  const int delay_ms = 5;
  std::vector<std::string> args{std::string(MARILL_SOURCE_DIR) + "/scripts/netns_run.sh", "--out", out.string(), "--marill", marill_exe(),
                                "--rate-mbit", "400", "--delay-ms", std::to_string(delay_ms), "--timeout-ms", "20000", "--"};
  args.insert(args.end(), point.begin(), point.end());
  const fs::path log = fs::temp_directory_path() / ("marill_netns_" + std::to_string(::getpid()) + ".log");
  bp::child script(bp::search_path("bash"), bp::args(args), (bp::std_out & bp::std_err) > log.string());
  const auto t0 = std::chrono::steady_clock::now();
  while (script.running() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (script.running()) {
    ::kill(script.id(), SIGTERM);  // its trap removes the namespaces
    script.wait();
    FAIL("scripts/netns_run.sh still running after 120 s: " << slurp(log));
  }
  script.wait();
  const std::string text = slurp(log);
  fs::remove(log);
  if (script.exit_code() == 77) {
    WARN("skipped: " << text);
    return;
  }
  INFO("netns_run.sh: " << text);
  REQUIRE(script.exit_code() == 0);

  point.insert(point.end(), {"--net", "custom:bw=400Mbit,lat=" + std::to_string(delay_ms) + "ms"});
  const PointResult in_process = run_point(point_of(point));
  for (const char* role : {"client", "server", "helper"}) {
    const std::string bytes = slurp(out / (std::string(role) + ".report"));
    const PartyReport rep = report_from_binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    REQUIRE(rep.ran);
    const PartyReport& ref = in_process.session.party(parse_role(role));
    const OpCost& online = rep.ledger.total(Phase::online);
    CHECK(online.bytes_sent == ref.ledger.total(Phase::online).bytes_sent);
    CHECK(online.messages == ref.ledger.total(Phase::online).messages);
    CHECK(online.rounds == ref.ledger.total(Phase::online).rounds);
    // The relay was in the path: the party's wall time covers its rounds' delays.
    const std::string party_out = slurp(out / (std::string(role) + ".out"));
    const auto at = party_out.find("wall ");
    REQUIRE(at != std::string::npos);
    const double wall = std::stod(party_out.substr(at + 5));
    CHECK(wall >= 0.9 * static_cast<double>(online.rounds) * delay_ms / 1000.0);
  }
  fs::remove_all(out);
}
