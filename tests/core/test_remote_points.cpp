// Remote points (remote/, `marill party --serve`, `marill run|generate --hosts`): party servers on
// loopback run what the coordinator sends them and the coordinator writes what an in-process run
// writes; a killed party server fails its points by name and --resume completes the sweep; a
// coordinator key outside the hosts file is refused; without --trust-coordinator a party's output
// and error texts stay in its own log. Plus the jobs' and replies' decoding, in this process.
#include <unistd.h>

#include <boost/process.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/curve_keys.h"
#include "net/hosts.h"
#include "remote/coordinator.h"
#include "remote/jobs.h"
#include "remote/key_shipping.h"
#include "remote/party_server.h"
#include "runner/runner.h"
#include "runner/sweep.h"
#include "tests/core/process_helpers.h"
#include "tests/core/zmq_cluster.h"

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace marill;
using namespace marill::test;
using Catch::Contains;

namespace {

const std::vector<std::pair<std::string, std::string>> kAllRoles{{"client", "client"}, {"server", "server"}, {"helper", "helper"}, {"dealer", "dealer"}};

// Long-lived party servers, one per role; killed when the test ends (and idle ones stop by themselves).
struct PartyServers {
  PartyServers(Cluster& c, const fs::path& hosts, const std::vector<std::string>& roles, bool trusted) : c_(c), hosts_(hosts), trusted_(trusted) {
    for (const std::string& r : roles) start(r);
  }
  ~PartyServers() {
    for (auto& [role, child] : children)
      if (child.running()) child.terminate();
  }
  void start(const std::string& role) {
    std::vector<std::string> args{"party", "--serve", "--role", role, "--hosts", hosts_.string(), "--idle-timeout-ms", "300000",
                                  "--key-store", key_store(role).string()};
    if (trusted_) args.push_back("--trust-coordinator");
    const fs::path log = c_.dir / (role + "-server-" + std::to_string(children.count(role) ? ++restarts : 0) + ".log");
    logs[role] = log;
    children[role] = bp::child(marill_exe(), bp::args(args), (bp::std_out & bp::std_err) > log.string(), bp::std_in < bp::null);
  }
  void kill(const std::string& role) {
    children.at(role).terminate();  // SIGKILL: no goodbye
    children.at(role).wait();
  }
  std::string log(const std::string& role) const { return slurp(logs.at(role)); }
  fs::path key_store(const std::string& role) const { return c_.dir / (role + "-keys"); }
  std::map<std::string, bp::child> children;
  std::map<std::string, fs::path> logs;
  int restarts = 0;

 private:
  Cluster& c_;
  fs::path hosts_;
  bool trusted_;
};

// Whole-model points of the bundled model's shape, phantom, in every setting with parties.
std::string phantom_scenario() {
  return "name: remote12\n"
         "model: {config: " + tiny_config() + "}\n"
         "settings: [3pc, 2pc-dealer, 2pc]\n"
         "networks: [lan]\n"
         "stages: [prefill, decode]\n"
         "b: [8]\n"
         "configs:\n"
         "  - {label: full}\n"
         "  - {label: lf, freeze: 1/2}\n"
         "baseline: {label: full}\n";
}

// Real blocks (random weights, secret shares of real values): bytes and rounds are fixed, times are not.
std::string real_block_scenario(const std::string& settings, const std::string& b) {
  return "name: remote-real\n"
         "model: {config: " + tiny_config() + "}\n"
         "workload: block\n"
         "mode: real\n"
         "settings: [" + settings + "]\n"
         "networks: [lan]\n"
         "stages: [prefill]\n"
         "b: [" + b + "]\n"
         "configs:\n"
         "  - {label: full}\n"
         "  - {label: hm2, merge: 2}\n"
         "baseline: {label: full}\n";
}

// The columns a real run fixes: point, setting, bytes per party, rounds.
std::vector<CsvFields> fixed_columns(const std::vector<CsvFields>& rows) {
  const auto& cols = sweep_csv_columns();
  std::vector<size_t> keep;
  for (const char* name : {"point_id", "setting", "online_bytes_max", "online_bytes_total", "offline_bytes_total", "rounds"}) {
    const size_t i = static_cast<size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
    REQUIRE(i < cols.size());
    keep.push_back(i);
  }
  std::vector<CsvFields> out;
  for (const CsvFields& r : rows) {
    CsvFields f;
    for (size_t i : keep) f.push_back(r.at(i));
    out.push_back(f);
  }
  return out;
}

std::vector<CsvFields> in_process_rows(const fs::path& scenario, const fs::path& out) {
  SweepOptions opt;
  opt.out = out.string();
  std::ostringstream log;
  REQUIRE(run_sweep(load_scenario(scenario.string()), opt, log).failed == 0);
  return csv_rows(out);
}

const bp::environment& env() {
  static const bp::environment e = boost::this_process::environment();
  return e;
}

// The lines of `marill generate` that do not change from run to run: the ids, and per step the
// bytes of each party and the rounds (real runs' simulated and CPU times vary).
std::vector<std::string> generation_fixed_lines(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("ids: ") != std::string::npos || line.rfind("[", 0) == 0) {
      out.push_back(line.substr(0, line.find(" wall") == std::string::npos ? line.size() : line.find(']') + 1));
      continue;
    }
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    const bool step = w.size() > 1 && (w[0] == "setup" || w[0] == "prefill" || (w[0] == "decode" && w[1] != "mean"));
    if (!step || w.size() < 4) continue;
    if (w[0] == "decode") w.erase(w.begin());  // "decode 001"
    w.resize(w.size() - 2);                     // sim_s, cpu_s
    std::string kept;
    for (const std::string& x : w) kept += x + " ";
    out.push_back(kept);
  }
  return out;
}

}  // namespace

TEST_CASE("remote jobs: jobs and replies round-trip, malformed bytes are refused before allocating", "[remote]") {
  PartyJob job;
  job.id = 42, job.kind = JobKind::generation, job.timeout_ms = 1500, job.calibration_json = "{}";
  job.args = {"--package", "/m/p", "--prompt-ids", "1,2"};
  const auto bytes = encode_job(job);
  const PartyJob back = decode_job(bytes.data(), bytes.size());
  CHECK(back.id == 42);
  CHECK(back.kind == JobKind::generation);
  CHECK(back.timeout_ms == 1500);
  CHECK(back.calibration_json == "{}");
  CHECK(back.args == job.args);
  for (size_t n = 0; n < bytes.size(); ++n) CHECK_THROWS_AS(decode_job(bytes.data(), n), ProtocolError);  // every cut
  auto extra = bytes;
  extra.push_back(0);
  CHECK_THROWS_WITH(decode_job(extra.data(), extra.size()), Contains("1 bytes after the end"));
  auto huge = bytes;  // the calibration's length (after magic, id, kind, timeout) announces 2^40 bytes
  const std::uint64_t announced = std::uint64_t{1} << 40;
  std::memcpy(huge.data() + 4 + 8 + 1 + 4, &announced, 8);
  CHECK_THROWS_WITH(decode_job(huge.data(), huge.size()), Contains("beyond the message's end"));
  auto kind = bytes;
  kind[12] = 9;
  CHECK_THROWS_WITH(decode_job(kind.data(), kind.size()), Contains("unknown job kind 9"));

  PartyReport report;
  report.role = Role::server, report.ran = true;
  report.ledger.ops[1]["forward/mlp"].bytes_sent = 777;
  JobReply reply;
  reply.id = 42, reply.has_report = true, reply.report = report_to_binary(report), reply.tokens = {5, 6}, reply.wall_s = 1.5;
  const auto rb = encode_reply(reply);
  const JobReply rback = decode_reply(rb.data(), rb.size());
  CHECK(rback.tokens == reply.tokens);
  CHECK(report_from_binary(rback.report).ledger.by_op(Phase::online).at("forward/mlp").bytes_sent == 777);
  for (size_t n = 0; n < rb.size(); ++n) CHECK_THROWS_AS(decode_reply(rb.data(), n), ProtocolError);
  // A report whose op name announces more bytes than it carries: refused before cereal resizes for it.
  auto bad_report = reply.report;
  const size_t name_length_at = 2 + 2 * sizeof(OpCost) + 8;  // role, ran, totals, offline ops (0), online ops' count
  std::memcpy(bad_report.data() + name_length_at + 8, &announced, 8);
  CHECK_THROWS_WITH(report_from_binary(bad_report), Contains("a length beyond its end"));
}

TEST_CASE("hosts file: control endpoints and the coordinator entry", "[remote]") {
  const std::string k1 = curve_keypair().public_z85, k2 = curve_keypair().public_z85, kc = curve_keypair().public_z85;
  const std::string parties = "parties:\n  client: {endpoint: tcp://127.0.0.1:5601, control: tcp://127.0.0.1:5701, public_key: \"" + k1 +
                              "\"}\n  server: {endpoint: tcp://127.0.0.1:5602, public_key: \"" + k2 + "\"}\n";
  const HostsFile h = parse_hosts("coordinator: {public_key: \"" + kc + "\", secret_key_file: c.key}\n" + parties, "d/h.yaml");
  CHECK(h.control_of(Role::client) == "tcp://127.0.0.1:5701");
  CHECK(h.coordinator_entry().secret_key_file == "d/c.key");
  CHECK_THROWS_WITH(h.control_of(Role::server), Contains("d/h.yaml: parties.server: no control endpoint"));
  CHECK_THROWS_WITH(parse_hosts(parties, "h.yaml").coordinator_entry(), Contains("h.yaml: no coordinator entry"));
  auto bad = [&](const std::string& text, const std::string& want) {
    INFO(text);
    CHECK_THROWS_WITH(parse_hosts(text, "h.yaml"), Contains(want));
  };
  bad("coordinator: {public_key: \"" + kc + "\", endpoint: tcp://1.2.3.4:5}\n" + parties, "h.yaml:1: coordinator.endpoint: unknown key");
  bad("coordinator: {public_key: \"" + k1 + "\"}\n" + parties, "coordinator.public_key: a party has this key");
  bad("coordinator: {public_key: short}\n" + parties, "coordinator.public_key: not a Curve public key");
  bad("parties:\n  client: {endpoint: tcp://127.0.0.1:5601, control: udp://x:1, public_key: \"" + k1 + "\"}\n",
      "h.yaml:2: parties.client.control: expected tcp://HOST:PORT");
  bad("parties:\n  client: {endpoint: tcp://127.0.0.1:5601, control: tcp://127.0.0.1:5601, public_key: \"" + k1 + "\"}\n",
      "parties.client.control: another endpoint of the file is there too");
}

TEST_CASE("remote points: a sweep on party servers writes the rows and op kinds of the in-process sweep", "[remote]") {
  Cluster c("remote_sweep");
  const fs::path hosts = c.hosts("hosts.yaml", kAllRoles, "coordinator");
  PartyServers servers(c, hosts, {"client", "server", "helper", "dealer"}, true);

  const fs::path scenario = c.dir / "phantom.yaml";
  std::ofstream(scenario) << phantom_scenario();
  const std::vector<CsvFields> expected = without_times(in_process_rows(scenario, c.dir / "local.csv"));
  REQUIRE(expected.size() == 12u);
  const fs::path csv = c.dir / "remote.csv";
  const Finished f = run_bounded(marill_exe(), {"run", scenario.string(), "--hosts", hosts.string(), "--out", csv.string(), "--timeout-ms", "20000"},
                                 env(), c.dir / "run.log", std::chrono::seconds(180));
  INFO(f.output << "\nclient server log:\n" << servers.log("client"));
  CHECK(f.status == 0);
  CHECK_THAT(f.output, Contains("12 rows in " + csv.string() + " (0 already done, 12 ran, 0 failed)"));
  CHECK(without_times(csv_rows(csv)) == expected);
  CHECK(slurp(ops_csv_path(csv.string())) == slurp(ops_csv_path((c.dir / "local.csv").string())));

  // Real values: the same bytes and rounds per party as in one process.
  const fs::path real = c.dir / "real.yaml";
  std::ofstream(real) << real_block_scenario("3pc, 2pc-dealer", "8");
  const std::vector<CsvFields> expected_real = fixed_columns(in_process_rows(real, c.dir / "real-local.csv"));
  const fs::path real_csv = c.dir / "real-remote.csv";
  const Finished g = run_bounded(marill_exe(), {"run", real.string(), "--hosts", hosts.string(), "--out", real_csv.string(), "--timeout-ms", "20000"},
                                 env(), c.dir / "real.log", std::chrono::seconds(120));
  INFO(g.output);
  CHECK(g.status == 0);
  CHECK(fixed_columns(csv_rows(real_csv)) == expected_real);
}

TEST_CASE("remote points: a generation on party servers opens the tokens of the in-process one, untrusted they stay with the client", "[remote]") {
  Cluster c("remote_generate");
  const std::string package = std::string(MARILL_SOURCE_DIR) + "/models/bundled/tiny/lf+hm2";
  const std::vector<std::string> gen{"generate", "--package", package, "--prompt-ids", "1,17,40,9", "--max-new-tokens", "2", "--settings", "3pc,2pc-dealer"};
  const Finished local = run_bounded(marill_exe(), gen, env(), c.dir / "local.log", std::chrono::seconds(120));
  REQUIRE(local.status == 0);
  const std::vector<std::string> expected = generation_fixed_lines(local.output);
  REQUIRE(expected.size() == 2 * 5);  // per setting: its name, its ids, setup, prefill, one decode step

  std::vector<std::string> remote = gen;
  SECTION("trusted: the ids come back") {
    const fs::path hosts = c.hosts("hosts.yaml", kAllRoles, "coordinator");
    PartyServers servers(c, hosts, {"client", "server", "helper", "dealer"}, true);
    remote.insert(remote.end(), {"--hosts", hosts.string(), "--timeout-ms", "20000"});
    const Finished f = run_bounded(marill_exe(), remote, env(), c.dir / "remote.log", std::chrono::seconds(120));
    INFO(f.output << "\nclient server log:\n" << servers.log("client"));
    CHECK(f.status == 0);
    CHECK(generation_fixed_lines(f.output) == expected);
  }
  SECTION("untrusted: the costs come back, the ids stay in the client server's log") {
    const fs::path hosts = c.hosts("hosts.yaml", kAllRoles, "coordinator");
    PartyServers servers(c, hosts, {"client", "server", "helper", "dealer"}, false);
    remote.insert(remote.end(), {"--hosts", hosts.string(), "--timeout-ms", "20000"});
    const Finished f = run_bounded(marill_exe(), remote, env(), c.dir / "remote.log", std::chrono::seconds(120));
    INFO(f.output << "\nclient server log:\n" << servers.log("client"));
    CHECK(f.status == 0);
    CHECK_THAT(f.output, Contains("the tokens stay with the client's party server"));
    CHECK(f.output.find("ids: ") == std::string::npos);
    std::vector<std::string> costs;
    for (const std::string& l : expected)
      if (l.find("ids: ") == std::string::npos) costs.push_back(l);
    CHECK(generation_fixed_lines(f.output) == costs);
    const std::string ids = expected[1].substr(expected[1].find("ids: ") + 5);
    CHECK_THAT(servers.log("client"), Contains("generated " + ids));
  }
}

TEST_CASE("remote points: a dealer run ahead ships each point's key files, the client and server run it without the dealer", "[remote]") {
  Cluster c("remote_dealer_ahead");
  const fs::path hosts = c.hosts("hosts.yaml", kAllRoles, "coordinator");
  PartyServers servers(c, hosts, {"client", "server", "dealer"}, true);
  const fs::path scenario = c.dir / "real.yaml";
  std::ofstream(scenario) << real_block_scenario("2pc-dealer", "8, 24");
  const std::vector<CsvFields> local = in_process_rows(scenario, c.dir / "local.csv");
  const fs::path csv = c.dir / "remote.csv";
  const Finished f = run_bounded(marill_exe(), {"run", scenario.string(), "--hosts", hosts.string(), "--out", csv.string(), "--timeout-ms", "20000",
                                                "--dealer-ahead"},
                                 env(), c.dir / "run.log", std::chrono::seconds(120));
  INFO(f.output << "\ndealer server log:\n" << servers.log("dealer"));
  CHECK(f.status == 0);
  const std::vector<CsvFields> remote = csv_rows(csv);
  REQUIRE(remote.size() == local.size());
  const auto& cols = sweep_csv_columns();
  auto col = [&](const char* name) { return static_cast<size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin()); };
  for (size_t i = 0; i < local.size(); ++i) {
    INFO("point " << local[i][col("point_id")]);
    // Online: the same bytes and rounds as with the dealer's live stream; the dealer sends nothing online.
    for (const char* same : {"point_id", "online_bytes_max", "online_bytes_total", "rounds"}) CHECK(remote[i][col(same)] == local[i][col(same)]);
    // Offline: the key files, i.e. the same material plus their headers and record tags (under 1% more).
    const double files = std::stod(remote[i][col("offline_bytes_total")]), stream = std::stod(local[i][col("offline_bytes_total")]);
    CHECK(files >= stream);
    CHECK(files <= stream * 1.01);
  }
  const std::string dealer_log = servers.log("dealer");
  CHECK_THAT(dealer_log, Contains("(key shipping) ran"));
  CHECK(dealer_log.find("(sweep point)") == std::string::npos);  // the online runs had no dealer
  for (const char* r : {"client", "server", "dealer"}) CHECK(fs::is_empty(servers.key_store(r)));  // single-use: deleted after the run
}

TEST_CASE("key files are created readable by their owner only", "[remote]") {
  Cluster c("key_file_mode");
  Point p;
  p.setting = Setting::two_pc_dealer;
  p.model = BlockShape{};
  p.model.d_model = 16, p.model.n_heads = 2, p.model.ffn_dim = 32;
  p.b = 4;
  const std::string dir = (c.dir / "keys").string();
  fs::create_directories(dir);
  deal_point(p, dir);
  for (const char* f : {"client.keys", "server.keys"})
    CHECK((fs::status(fs::path(dir) / f).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("remote points: a killed party server fails its points by name, rows stay and --resume completes", "[remote]") {
  Cluster c("remote_kill");
  const fs::path hosts = c.hosts("hosts.yaml", kAllRoles, "coordinator");
  PartyServers servers(c, hosts, {"client", "server", "helper"}, true);
  const fs::path scenario = c.dir / "real.yaml";
  std::ofstream(scenario) << real_block_scenario("3pc", "8, 16, 24, 32");
  const std::vector<CsvFields> expected = fixed_columns(in_process_rows(scenario, c.dir / "local.csv"));
  REQUIRE(expected.size() == 8u);

  const fs::path csv = c.dir / "remote.csv";
  const std::vector<std::string> run{"run", scenario.string(), "--hosts", hosts.string(), "--out", csv.string(), "--timeout-ms", "2000"};
  bp::child sweep(marill_exe(), bp::args(run), env(), (bp::std_out & bp::std_err) > (c.dir / "first.log").string(), bp::std_in < bp::null);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && sweep.running() && (!fs::exists(csv) || csv_rows(csv).size() < 2))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(sweep.running());
  servers.kill("server");
  const auto t0 = std::chrono::steady_clock::now();
  while (sweep.running() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(90)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (sweep.running()) sweep.terminate();
  sweep.wait();
  const std::string first = slurp(c.dir / "first.log");
  INFO(first << "\nhelper server log:\n" << servers.log("helper"));
  CHECK(sweep.exit_code() == 1);
  CHECK_THAT(first, Contains("the party server of server at tcp://127.0.0.1:" + std::to_string(c.port("server-control"))));
  // Every finished row is intact and as in one process; the others failed.
  const std::vector<CsvFields> kept = fixed_columns(csv_rows(csv));
  CHECK(kept.size() >= 2u);
  CHECK(kept.size() < 8u);
  for (const CsvFields& r : kept) CHECK(std::find(expected.begin(), expected.end(), r) != expected.end());
  // The other party servers live on: they failed the jobs whose server was gone and took the next.
  CHECK(servers.children.at("helper").running());
  CHECK(servers.children.at("client").running());

  servers.start("server");
  const Finished resumed = run_bounded(marill_exe(), {"run", scenario.string(), "--hosts", hosts.string(), "--out", csv.string(), "--timeout-ms", "20000",
                                                      "--resume"},
                                       env(), c.dir / "resume.log", std::chrono::seconds(120));
  INFO(resumed.output);
  CHECK(resumed.status == 0);
  CHECK_THAT(resumed.output, Contains("8 rows in " + csv.string() + " (" + std::to_string(kept.size()) + " already done, " +
                                      std::to_string(8 - kept.size()) + " ran, 0 failed)"));
  CHECK(fixed_columns(csv_rows(csv)) == expected);
}

TEST_CASE("remote points: a coordinator key outside the party servers' hosts file is refused", "[remote]") {
  Cluster c("remote_refused");
  const fs::path hosts = c.hosts("hosts.yaml", kAllRoles, "coordinator");
  const fs::path intruder = c.hosts("intruder.yaml", kAllRoles, "intruder");  // the same parties, another coordinator key
  PartyServers servers(c, hosts, {"client", "server"}, true);
  const fs::path scenario = c.dir / "real.yaml";
  std::ofstream(scenario) << real_block_scenario("2pc-dealer", "8");
  const fs::path csv = c.dir / "remote.csv";
  const Finished f = run_bounded(marill_exe(), {"run", scenario.string(), "--hosts", intruder.string(), "--out", csv.string(), "--timeout-ms", "3000"},
                                 env(), c.dir / "run.log", std::chrono::seconds(60));
  INFO(f.output);
  CHECK(f.status == 1);
  CHECK_THAT(f.output, Contains("refused the coordinator's Curve key"));
  CHECK(csv_rows(csv).empty());
  CHECK_THAT(servers.log("client") + servers.log("server"), Contains("its Curve key " + c.key("intruder") + " is not in the hosts file"));
}

TEST_CASE("remote points: without --trust-coordinator a party's error text stays in its own log", "[remote]") {
  Cluster c("remote_texts");
  const HostsFile hosts = read_hosts_file(c.hosts("hosts.yaml", {{"client", "client"}}, "coordinator").string());
  for (bool trusted : {false, true}) {
    RemoteParty me;
    me.role = Role::client;
    me.hosts = hosts;
    me.keys = read_curve_secret_key((c.dir / "client.key").string());
    me.trust_coordinator = trusted;
    const std::map<JobKind, JobHandler> handlers{{JobKind::sweep_point, [](const PartyJob&, const RemoteParty&) -> JobReply {
                                                    throw std::runtime_error("weight 3.25 overflows the fixed point");
                                                  }}};
    std::ostringstream log;
    PartyServerOptions opt;
    opt.max_jobs = 1;
    opt.idle_timeout = std::chrono::milliseconds(20000);
    std::thread server([&] { serve_party(me, handlers, opt, log); });
    CoordinatorOptions copt;
    copt.timeout = std::chrono::milliseconds(10000);
    Coordinator coordinator(hosts, read_curve_secret_key((c.dir / "coordinator.key").string()), copt);
    const Coordinator::Outcome out = coordinator.run({Role::client}, PartyJob{});
    server.join();
    REQUIRE(out.replies.size() == 1u);
    INFO("trusted " << trusted << ": " << out.replies[0].error);
    CHECK(out.unreachable.empty());
    CHECK_FALSE(out.replies[0].has_report);
    CHECK((out.replies[0].error.find("3.25") != std::string::npos) == trusted);
    if (!trusted) CHECK_THAT(out.replies[0].error, Contains("the text is in the log of marill party client"));
    CHECK_THAT(log.str(), Contains("weight 3.25 overflows"));  // the server's own log has it either way
    CHECK_THROWS_WITH(Coordinator::session(Setting::two_pc_dealer, {Role::client}, out), Contains("client: "));
  }
}
