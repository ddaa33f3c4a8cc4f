#include "remote/slurm_parties.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "actors/party_error.h"
#include "net/curve_keys.h"
#include "net/free_port.h"
#include "remote/party_server.h"
#include "runner/results_reader.h"
#include "runner/runner.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

std::string env_or_throw(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::invalid_argument(std::string("run --party-task: $") + name + " is not set (this runs as a Slurm task under srun)");
  return v;
}

// The whole file or nothing (a reader polling for it never sees half of it).
void write_atomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

std::string wait_for_file(const fs::path& path, std::chrono::milliseconds timeout, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw TimeoutError("timed out after " + std::to_string(timeout.count()) + " ms waiting for " + what + " (" + path.string() + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Meeting {
  fs::path dir;
  std::vector<Role> roles;
  RemoteParty me;
};

// Publishes this party's endpoint and key, then reads every other party's: the hosts file of the point.
Meeting meet(const std::string& shard_dir, size_t index, const std::vector<Role>& roles, const PartyTask& task, std::chrono::milliseconds timeout) {
  Meeting m;
  m.roles = roles;
  m.dir = fs::path(shard_dir) / ("point-" + std::to_string(index) + ".parties-" + task.attempt);
  fs::create_directories(m.dir);
  m.me.role = roles[static_cast<size_t>(task.procid)];
  m.me.keys = curve_keypair();
  m.me.hosts.file = m.dir.string();
  const int port = free_tcp_port(false);
  m.me.bind_endpoint = "tcp://*:" + std::to_string(port);  // the others connect by this node's name
  const std::string mine = "tcp://" + task.host + ":" + std::to_string(port) + " " + m.me.keys.public_z85 + "\n";
  write_atomic(m.dir / (std::string(role_name(m.me.role)) + ".addr"), mine);
  for (Role r : roles) {
    std::istringstream in(wait_for_file(m.dir / (std::string(role_name(r)) + ".addr"), timeout, std::string("the address of ") + role_name(r)));
    HostEntry h;
    h.role = r;
    if (!(in >> h.endpoint >> h.public_key) || !is_curve_key(h.public_key))
      throw ProtocolError(std::string("run --party-task: a malformed address file for ") + role_name(r) + " in " + m.dir.string());
    m.me.hosts.parties.push_back(h);
  }
  return m;
}

fs::path report_path(const Meeting& m, Role r, int repeat) {
  return m.dir / (std::string(role_name(r)) + "." + std::to_string(repeat) + ".report");
}

}  // namespace

PartyTask party_task_from_env() {
  PartyTask t;
  t.procid = std::stoi(env_or_throw("SLURM_PROCID"));
  const char* restarts = std::getenv("SLURM_RESTART_COUNT");
  t.attempt = env_or_throw("SLURM_JOB_ID") + "-" + (restarts && *restarts ? restarts : "0");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) throw std::runtime_error("run --party-task: gethostname failed");
  t.host = host;
  return t;
}

int run_point_party_task(const Scenario& sc, size_t index, const std::string& dir, const SweepOptions& opt, const PartyTask& task,
                         std::chrono::milliseconds timeout, std::ostream& log) {
  if (index >= sc.points.size()) throw std::invalid_argument("run: point " + std::to_string(index) + " is outside " + sc.file);
  const ScenarioPoint& p = sc.points[index];
  if (sc.workload != SweepWorkload::block && p.setting != Setting::cleartext)
    throw std::invalid_argument("run --slurm-parties: " + sc.file + " is a whole-model workload; one party per task runs block points");
  if (p.setting == Setting::cleartext) {  // one party: the first task runs it in its process
    if (task.procid == 0) run_sweep_shard(sc, index, dir, opt, log);
    return 0;
  }
  Point bp = block_point(sc, p);
  if (opt.compute_model) bp.compute_model = opt.compute_model;
  BackendOptions bo;
  bo.correlations = bp.correlations;
  const std::vector<Role> roles = session_roles(p.setting, bo);
  if (task.procid < 0 || static_cast<size_t>(task.procid) >= roles.size()) {
    log << "marill run: point " << index << " has " << roles.size() << " parties; task " << task.procid << " has nothing to do\n";
    return 0;
  }

  const Meeting m = meet(dir, index, roles, task, timeout);
  auto run_once = [&](int repeat) {
    const RemoteParty::Run run = m.me.run(roles, timeout, [&](Transport& t) { return run_party(bp, m.me.role, t, nullptr, timeout); });
    if (m.me.role != Role::client) {
      const auto bytes = report_to_binary(run.report);
      write_atomic(report_path(m, m.me.role, repeat), std::string(bytes.begin(), bytes.end()));
    }
    return run;
  };
  if (m.me.role != Role::client) {  // its reports go to the client's task, which writes the rows
    for (int repeat = 1; repeat <= sc.repeats; ++repeat) {
      try {
        run_once(repeat);
      } catch (const std::exception& e) {
        PartyReport failed;  // the client's task needs a report to name this party's failure
        failed.role = m.me.role;
        failed.error = e.what();
        failed.error_class = classify_error(e);
        const auto bytes = report_to_binary(failed);
        write_atomic(report_path(m, m.me.role, repeat), std::string(bytes.begin(), bytes.end()));
      }
    }
    log << "marill run: point " << index << ": " << role_name(m.me.role) << " ran " << sc.repeats << " repeats\n";
    return 0;
  }
  // The client's task: a fresh shard (the other parties run every repeat), each repeat's session
  // from its own report and the others'.
  for (const std::string& f : {sweep_shard_partial_path(dir, index), ops_csv_path(sweep_shard_partial_path(dir, index))}) {
    std::error_code ec;
    fs::remove(f, ec);
  }
  SweepOptions o = opt;
  o.jobs = 1;
  int repeat = 0;
  o.point_runner = [&](const ScenarioPoint&) {
    ++repeat;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<PartyReport> reports;
    try {
      reports.push_back(run_once(repeat).report);
    } catch (const std::exception& e) {
      PartyReport failed;
      failed.role = Role::client;
      failed.error = e.what();
      failed.error_class = classify_error(e);
      reports.push_back(failed);
    }
    for (Role r : roles) {
      if (r == Role::client) continue;
      const std::string bytes = wait_for_file(report_path(m, r, repeat), timeout, std::string("the report of ") + role_name(r));
      reports.push_back(report_from_binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())));
    }
    const SessionResult session = session_of_reports(p.setting, std::move(reports));
    return sweep_cost(sc, p, session, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  const SweepReport rep = run_sweep_shard(sc, index, dir, o, log);
  std::error_code ec;
  fs::remove_all(m.dir, ec);  // the meeting's files: addresses and reports
  log << "marill run: point " << index << ": " << rep.rows.size() << " rows in " << sweep_shard_path(dir, index) << ", " << rep.failed << " failed\n";
  return 0;
}

}  // namespace marill
