// `marill party`: one party of a block point in this process, its peers in other processes or on
// other hosts, over ZeroMQ with CurveZMQ (net/zmq_transport.h). `marill curve-keygen`: a party's
// Curve key pair.
// docs/multihost.md walks through a run.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "app/cli.h"
#include "app/commands.h"
#include "app/layer_options.h"
#include "app/remote_options.h"
#include "net/curve_keys.h"
#include "net/hosts.h"
#include "net/start_barrier.h"
#include "net/zmq_transport.h"
#include "remote/key_shipping.h"
#include "remote/remote_sweep.h"
#include "runner/runner.h"

namespace marill {

namespace {

std::string roles_text(const std::vector<Role>& roles) {
  std::string s;
  for (Role r : roles) s += std::string(s.empty() ? "" : ", ") + role_name(r);
  return s;
}

void print_phase(const char* name, const OpCost& c) {
  std::printf("  %-8s %14llu bytes sent %10llu messages %8llu rounds %10.4f s simulated\n", name,
              static_cast<unsigned long long>(c.bytes_sent), static_cast<unsigned long long>(c.messages),
              static_cast<unsigned long long>(c.rounds), c.sim_s);
}

CurveKeyPair party_keys(const Args& args, const HostsFile& hosts, Role me) {
  const HostEntry& mine = hosts.at(me);
  return read_listed_key(args.get("--key", mine.secret_key_file), mine.public_key, hosts.file, role_name(me));
}

// A fresh private directory for shipped key files, removed with what it holds when the server stops.
struct TempKeyStore {
  explicit TempKeyStore(const std::string& role) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("marill-keys-" + role + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot make a key store under " + std::filesystem::temp_directory_path().string());
    path = tmpl;  // mkdtemp makes it 0700
  }
  ~TempKeyStore() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

// `marill party --serve`: this party of every point a coordinator sends (remote/party_server.h).
int serve(const Args& args, Role me) {
  for (const Opt& o : block_point_options({}))
    if (args.has(o.name)) throw std::invalid_argument("option '" + o.name + "': a party server takes its points from the coordinator's jobs");
  for (const char* o : {"--timeout-ms", "--report"})
    if (args.has(o)) throw std::invalid_argument(std::string("option '") + o + "': not with --serve (the coordinator's jobs carry the timeout)");
  RemoteParty party;
  party.role = me;
  party.hosts = read_hosts_file(args.get("--hosts", ""));
  party.keys = party_keys(args, party.hosts, me);
  party.trust_coordinator = args.has("--trust-coordinator");
  std::unique_ptr<TempKeyStore> temp;
  if (args.has("--key-store")) {
    party.key_store = args.get("--key-store", "");
    std::filesystem::create_directories(party.key_store);
    std::filesystem::permissions(party.key_store, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  } else {
    temp = std::make_unique<TempKeyStore>(role_name(me));
    party.key_store = temp->path;
  }
  PartyServerOptions opt;
  opt.idle_timeout = std::chrono::milliseconds(args.get_int("--idle-timeout-ms", 0, 0, 365LL * 86400 * 1000));
  opt.max_jobs = static_cast<int>(args.get_int("--max-jobs", 0, 0, 1 << 30));
  // SIGTERM or SIGINT: a running job ends (the wait it is in fails) and is answered, then the server
  // stops and its key store is removed.
  static std::atomic<bool> stop{false};
  struct sigaction sa {};
  sa.sa_handler = [](int) { stop = true; };
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  opt.stop = &stop;
  const std::map<JobKind, JobHandler> handlers{
      {JobKind::sweep_point, run_sweep_job}, {JobKind::generation, run_generation_job}, {JobKind::ship_keys, run_key_shipping_job}};
  serve_party(party, handlers, opt, std::cerr);
  return 0;
}

}  // namespace

int cmd_party(int argc, char** argv) {
  Args args(argc, argv,
            block_point_options({{"--role", Opt::text}, {"--hosts", Opt::text}, {"--key", Opt::text}, {"--timeout-ms", Opt::integer},
                                 {"--report", Opt::text}, {"--serve", Opt::flag}, {"--trust-coordinator", Opt::flag},
                                 {"--idle-timeout-ms", Opt::integer}, {"--max-jobs", Opt::integer},
                                 {"--key-store", Opt::text}}),
            "usage: marill party --role ROLE --hosts HOSTS.yaml [--key FILE] [--timeout-ms 120000] [--report FILE]\n"
            "                    " + std::string(kBlockPointUsage) + "                    " + kLayerPointUsage +
            "       marill party --serve --role ROLE --hosts HOSTS.yaml [--key FILE] [--trust-coordinator] [--key-store DIR]\n"
            "                    [--idle-timeout-ms MS] [--max-jobs N]\n"
            "--serve: a party server: runs this party of every point the coordinator (`marill run|generate --hosts`)\n"
            "         sends to its control endpoint, until stopped (or --idle-timeout-ms without a job, or --max-jobs jobs)\n"
            "--trust-coordinator: replies carry the client's output (opened output's SHA-256, generated tokens) and this\n"
            "         party's error texts; without it, costs and error classes only (the texts stay in this log)\n"
            "--key-store DIR: where the client and server keep key files a dealer shipped (run --dealer-ahead);\n"
            "         default: a fresh private directory under /tmp, removed when the server stops\n"
            "Runs ONE party (client, server, helper or dealer) of a block point; the other parties run the same\n"
            "command with their role and the same point options. HOSTS.yaml names each role's endpoint and Curve\n"
            "public key (docs/multihost.md); --key (or the hosts entry's secret_key_file) is this party's secret key.\n"
            "--timeout-ms: every wait (a peer's message, a peer's connection) gives up after this\n"
            "--report: write this party's report (actors/report.h, binary) to FILE\n");
  if (args.help()) return 0;
  if (!args.has("--role")) throw std::invalid_argument("option '--role': which party this process runs (client, server, helper, dealer)");
  if (!args.has("--hosts")) throw std::invalid_argument("option '--hosts': the hosts file (docs/multihost.md)");
  const Role me = args.parsed("--role", args.get("--role", ""), parse_role);
  if (args.has("--serve")) return serve(args, me);
  for (const char* o : {"--trust-coordinator", "--idle-timeout-ms", "--max-jobs", "--key-store"})
    if (args.has(o)) throw std::invalid_argument(std::string("option '") + o + "': only with --serve");
  const Point p = block_point(args);
  p.validate();
  if (p.setting == Setting::cleartext) throw std::invalid_argument("option '--setting': cleartext has one party and no network");
  const auto timeout = std::chrono::milliseconds(args.get_int("--timeout-ms", 120000, 1, 24LL * 3600 * 1000));
  const std::vector<Role> roles = session_roles(p.setting, backend_options(session_config(p)));
  if (std::find(roles.begin(), roles.end(), me) == roles.end())
    throw std::invalid_argument(std::string("option '--role': a ") + setting_name(p.setting) + " run has no " + role_name(me) +
                                " (its parties: " + roles_text(roles) + ")");

  const HostsFile hosts = read_hosts_file(args.get("--hosts", ""));
  std::vector<ZmqPeerAddress> addresses;
  for (Role r : roles) addresses.push_back({r, hosts.at(r).endpoint, hosts.at(r).public_key});
  const CurveKeyPair keys = party_keys(args, hosts, me);

  ZmqOptions opt;
  opt.send_timeout = timeout;
  opt.linger = timeout;
  auto digest = std::make_shared<std::string>();
  PartyReport report;
  double wall_s = 0;  // the program, from the moment every peer was connected
  {
    ZmqTransport transport(me, keys, addresses, opt);
    std::vector<Role> peers;
    for (Role r : roles)
      if (r != me) peers.push_back(r);
    StartBarrier met(transport, me, peers);
    met.meet(timeout);
    const auto t0 = std::chrono::steady_clock::now();
    report = run_party(p, me, met, digest, timeout);
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }  // closing the transport delivers this party's last frames (up to the timeout)
  if (args.has("--report")) {
    const std::string path = args.get("--report", "");
    const auto bytes = report_to_binary(report);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error(path + ": cannot write the report");
  }
  std::printf("marill party %s: %s block point over ZeroMQ/Curve (%s)\n", role_name(me), setting_name(p.setting), roles_text(roles).c_str());
  print_phase("online", report.ledger.total(Phase::online));
  print_phase("offline", report.ledger.total(Phase::offline));
  std::printf("  wall     %.4f s (the program, after the parties met; CPU %.4f s)\n", wall_s,
              report.ledger.total(Phase::online).cpu_s + report.ledger.total(Phase::offline).cpu_s);
  if (!digest->empty()) std::printf("output sha256 %s\n", digest->c_str());
  std::fflush(stdout);
  if (!report.ran) {
    std::fprintf(stderr, "marill party %s: failed (%s): %s\n", role_name(me), error_class_name(report.error_class), report.error.c_str());
    return 1;
  }
  return 0;
}

int cmd_curve_keygen(int argc, char** argv) {
  Args args(argc, argv, {{"--out", Opt::text}},
            "usage: marill curve-keygen --out PREFIX\n"
            "Writes a party's CurveZMQ key pair: PREFIX.key (the secret, mode 0600; only this party reads it) and\n"
            "PREFIX.pub (the public key for the hosts file). Not the dealer's key material (marill deal).\n");
  if (args.help()) return 0;
  if (!args.has("--out")) throw std::invalid_argument("option '--out': the key files' prefix (PREFIX.key, PREFIX.pub)");
  const std::string prefix = args.get("--out", "");
  const CurveKeyPair kp = curve_keypair();
  write_curve_keypair(prefix, kp);
  std::printf("%s.key (secret) and %s.pub: public key %s\n", prefix.c_str(), prefix.c_str(), kp.public_z85.c_str());
  return 0;
}

}  // namespace marill
