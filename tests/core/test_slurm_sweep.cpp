// `marill run --slurm` through a real one-node Slurm that this test starts for itself: munged with a
// fresh key and its own socket, slurmctld and slurmd from a generated slurm.conf on 127.0.0.1 and
// unused ports, every state, spool and log file in a temporary directory; no cgroups, no accounting.
// The daemons stop when the test ends, failed or not (LocalSlurm's destructor). Skipped, with a
// message, only where Slurm's or munge's binaries are missing (scripts/setup.sh installs them) or
// the test is not root (SlurmUser=root).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runner/results_reader.h"
#include "runner/slurm.h"
#include "runner/sweep.h"
#include "tests/core/process_helpers.h"

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace marill;
using namespace marill::test;
using Catch::Contains;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kSlurmBinaries = {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"};

// A temporary directory, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("marill_slurm_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);  // munged refuses a socket directory others may write
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Daemons in the foreground, stopped in the reverse order of their start: SIGTERM, then SIGKILL
// after 10 s. A member, so a constructor that fails halfway still stops what it started.
struct Daemons {
  struct Daemon {
    std::string name;
    fs::path log;
    bp::child child;
  };
  std::vector<Daemon> list;
  void start(const std::string& name, const std::vector<std::string>& args, const fs::path& log) {
    const std::string exe = bp::search_path(name).string();
    list.push_back({name, log, bp::child(exe, bp::args(args), (bp::std_out & bp::std_err) > log.string(), bp::std_in < bp::null)});
  }
  std::string logs() const {
    std::string s;
    for (const Daemon& d : list) s += "--- " + d.name + " (" + d.log.string() + "):\n" + slurp(d.log);
    return s;
  }
  ~Daemons() {
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      if (!it->child.running()) continue;
      ::kill(it->child.id(), SIGTERM);
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (it->child.running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (it->child.running()) it->child.terminate();
      it->child.wait();
    }
  }
};

class LocalSlurm {
 public:
  // False, with a warning saying why, where this test cannot start its Slurm.
  static bool can_run() {
    if (const std::string missing = missing_binaries(); !missing.empty()) {
      WARN("skipped: Slurm/munge binaries missing (" << missing << "): bash scripts/setup.sh installs slurm-wlm and munge");
      return false;
    }
    if (::geteuid() != 0) {
      WARN("skipped: the test's Slurm runs its daemons as SlurmUser=root; run the tests as root");
      return false;
    }
    return true;
  }
  static std::string missing_binaries() {
    std::string missing;
    for (const std::string& b : kSlurmBinaries)
      if (bp::search_path(b).empty()) missing += (missing.empty() ? "" : ", ") + b;
    return missing;
  }

  LocalSlurm() {
    const fs::path dir = tmp_.path;
    for (const auto& var : boost::this_process::environment()) env[var.get_name()] = var.to_string();
    env["SLURM_CONF"] = (dir / "slurm.conf").string();
    // munge: a fresh key of its own, and its own socket.
    {
      std::ifstream rnd("/dev/urandom", std::ios::binary);
      std::string key(1024, '\0');
      rnd.read(key.data(), static_cast<std::streamsize>(key.size()));
      REQUIRE(rnd);
      std::ofstream(dir / "munge.key", std::ios::binary) << key;
      fs::permissions(dir / "munge.key", fs::perms::owner_read | fs::perms::owner_write);
    }
    const fs::path socket = dir / "munge.socket";
    daemons_.start("munged", {"--foreground", "--force", "--key-file=" + (dir / "munge.key").string(), "--socket=" + socket.string(),
                              "--pid-file=" + (dir / "munged.pid").string(), "--seed-file=" + (dir / "munged.seed").string(),
                              "--num-threads=2"},
                   dir / "munged.log");
    wait_for([&] { return fs::exists(socket); }, "munged's socket");

    char host[256] = {};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    node = std::string(host).substr(0, std::string(host).find('.'));
    for (const char* d : {"state", "spool"}) fs::create_directories(dir / d);
    std::ofstream conf(dir / "slurm.conf");
    conf << "ClusterName=marilltest\n"
         << "SlurmctldHost=" << node << "(127.0.0.1)\n"
         << "SlurmctldPort=" << free_loopback_port() << "\nSlurmdPort=" << free_loopback_port() << "\n"
         << "SlurmUser=root\nSlurmdUser=root\n"
         << "AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket=" << socket.string() << "\n"
         << "StateSaveLocation=" << (dir / "state").string() << "\nSlurmdSpoolDir=" << (dir / "spool").string() << "\n"
         << "SlurmctldPidFile=" << (dir / "slurmctld.pid").string() << "\nSlurmdPidFile=" << (dir / "slurmd.pid").string() << "\n"
         << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nMpiDefault=none\nSwitchType=switch/none\n"
         << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
         << "SchedulerType=sched/builtin\nSelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\nReturnToService=2\n"
         << "NodeName=" << node << " NodeAddr=127.0.0.1 CPUs=" << std::max(1u, std::thread::hardware_concurrency()) << " State=UNKNOWN\n"
         << "PartitionName=test Nodes=" << node << " Default=YES MaxTime=INFINITE State=UP\n";
    conf.close();
    const std::string conf_path = (dir / "slurm.conf").string();
    daemons_.start("slurmctld", {"-D", "-i", "-f", conf_path}, dir / "slurmctld.log");
    daemons_.start("slurmd", {"-D", "-N", node, "-f", conf_path}, dir / "slurmd.log");
    wait_for([&] {
      const Finished f = run_bounded(bp::search_path("sinfo").string(), {"-h", "-n", node, "-o", "%t"}, env, dir / "sinfo.out",
                                     std::chrono::seconds(10));
      return f.status == 0 && f.output.find("idle") != std::string::npos;
    }, "the node to be idle in sinfo");
  }

  ~LocalSlurm() {
    // Jobs first (slurmd leaves running steps behind when it stops), then the daemons.
    const std::string squeue = bp::search_path("squeue").string(), scancel = bp::search_path("scancel").string();
    run_bounded(scancel, {"--quiet", "--user=root"}, env, dir() / "scancel.out", std::chrono::seconds(10));
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
      const Finished q = run_bounded(squeue, {"-h"}, env, dir() / "squeue.out", std::chrono::seconds(10));
      if (q.status != 0 || q.output.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  const fs::path& dir() const { return tmp_.path; }
  bp::environment env;
  std::string node;

 private:
  template <class Ready>
  void wait_for(Ready ready, const std::string& what) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!ready()) {
      if (Clock::now() > deadline) FAIL("the local Slurm did not come up: no " << what << " within 30 s\n" << daemons_.logs());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  TempDir tmp_;       // declared first: removed last, after the daemons stopped
  Daemons daemons_;
};

// 20 points of the bundled tiny model's shape, phantom: 2 settings x 2 stages x 5 configurations.
std::string twenty_points() {
  return "name: slurm20\n"
         "model: {config: " + tiny_config() + "}\n"
         "settings: [3pc, 2pc-dealer]\n"
         "networks: [lan]\n"
         "stages: [prefill, decode]\n"
         "b: [8]\n"
         "configs:\n"
         "  - {label: full}\n"
         "  - {label: lf, freeze: 1/2}\n"
         "  - {label: hm2, merge: 2}\n"
         "  - {label: lora, lora_rank: 4}\n"
         "  - {label: 2relu, softmax: 2relu, act: relu}\n"
         "baseline: {label: full}\n";
}

}  // namespace

TEST_CASE("slurm sweep: array list, shard directory and task script", "[slurm]") {
  CHECK(slurm_array_list({0, 1, 2, 3, 7, 9, 10}) == "0-3,7,9-10");
  CHECK(slurm_array_list({5}) == "5");
  CHECK(slurm_dir_for("results/x.csv") == "results/x.slurm");
  CHECK(slurm_dir_for("out") == "out.slurm");
  SlurmOptions s;
  s.marill = "/opt/marill/build/marill";
  s.scenario = "/data/it's.yaml";
  s.dir = "/data/x.slurm";
  CHECK_THAT(slurm_task_script(s), Contains("exec '/opt/marill/build/marill' run '/data/it'\\''s.yaml' --point \"$SLURM_ARRAY_TASK_ID\" --shard-dir '/data/x.slurm'\n"));
}

TEST_CASE("slurm sweep: 20 points through a one-node Slurm merge into the in-process CSV, a failed task is reported, --resume reruns only it",
          "[slurm][sweep][cli]") {
  if (!LocalSlurm::can_run()) return;
  const auto t0 = Clock::now();
  LocalSlurm slurm;
  const fs::path dir = slurm.dir() / "sweep";
  fs::create_directories(dir);
  const fs::path scenario = dir / "slurm20.yaml";
  std::ofstream(scenario) << twenty_points();
  const Scenario sc = load_scenario(scenario.string());
  REQUIRE(sc.points.size() == 20u);

  // The reference: the same sweep in this process.
  SweepOptions in_process;
  in_process.out = (dir / "in_process.csv").string();
  std::ostringstream log;
  REQUIRE(run_sweep(sc, in_process, log).failed == 0);
  const std::vector<CsvFields> expected = without_times(csv_rows(in_process.out));
  REQUIRE(expected.size() == 20u);

  // Point 3's task cannot write its shard (a directory where its file goes): the task fails, the
  // others go on, the merge reports it and writes the rest.
  const fs::path shards = dir / "shards", csv = dir / "slurm.csv";
  fs::create_directories(shards / "point-3.partial.csv" / "blocker");
  const std::vector<std::string> run{"run", scenario.string(), "--slurm", "--out", csv.string(), "--slurm-dir", shards.string(),
                                     "--slurm-timeout", "100"};
  const Finished first = run_bounded(marill_exe(), run, slurm.env, dir / "first.log", std::chrono::seconds(110));
  INFO(first.output);
  CHECK(first.status == 1);
  CHECK_THAT(first.output, Contains("submitted 20 of 20 points as Slurm job"));
  CHECK_THAT(first.output, Contains("_3 ended without a result (log " + (shards / "logs" / "3.log").string()));
  CHECK_THAT(first.output, Contains("19 rows in " + csv.string() + " (0 already done, 19 ran, 1 failed)"));
  std::vector<CsvFields> expected_without_3;
  for (const CsvFields& r : expected)
    if (r[1] != sc.points[3].id) expected_without_3.push_back(r);
  CHECK(without_times(csv_rows(csv)) == expected_without_3);

  // --resume submits only point 3; the merged CSV (and the op kinds beside it) equal the in-process run's.
  fs::remove_all(shards / "point-3.partial.csv");
  std::vector<std::string> resume = run;
  resume.push_back("--resume");
  const Finished second = run_bounded(marill_exe(), resume, slurm.env, dir / "second.log", std::chrono::seconds(60));
  INFO(second.output);
  CHECK(second.status == 0);
  CHECK_THAT(second.output, Contains("submitted 1 of 20 points as Slurm job") && Contains("(array 3;"));
  CHECK_THAT(second.output, Contains("20 rows in " + csv.string() + " (19 already done, 1 ran, 0 failed)"));
  CHECK(without_times(csv_rows(csv)) == expected);
  CHECK(slurp(ops_csv_path(csv.string())) == slurp(ops_csv_path(in_process.out)));
  // Every point ran as its own task (one log each).
  for (size_t i = 0; i < 20; ++i) CHECK(fs::exists(shards / "logs" / (std::to_string(i) + ".log")));

  // Without --resume the finished sweep is not overwritten.
  const Finished again = run_bounded(marill_exe(), run, slurm.env, dir / "again.log", std::chrono::seconds(30));
  CHECK(again.status == 1);
  CHECK_THAT(again.output, Contains(csv.string() + " exists: --resume continues"));
  CHECK(Clock::now() - t0 < std::chrono::minutes(2));
}

TEST_CASE("slurm sweep: one Slurm task per party (srun), meeting over ZeroMQ with keys made for the run, merges into the in-process CSV",
          "[slurm][sweep][cli]") {
  if (!LocalSlurm::can_run()) return;
  LocalSlurm slurm;
  const fs::path dir = slurm.dir() / "parties";
  fs::create_directories(dir);
  const fs::path scenario = dir / "parties.yaml";
  std::ofstream(scenario) << "name: parties\n"
                             "model: {config: " + tiny_config() + "}\n"
                             "workload: block\n"
                             "settings: [3pc, 2pc-dealer, 2pc]\n"
                             "networks: [lan]\n"
                             "stages: [prefill]\n"
                             "b: [8]\n"
                             "configs:\n"
                             "  - {label: full}\n"
                             "  - {label: hm2, merge: 2}\n"
                             "baseline: {label: full}\n";
  const Scenario sc = load_scenario(scenario.string());
  SweepOptions in_process;
  in_process.out = (dir / "in_process.csv").string();
  std::ostringstream log;
  REQUIRE(run_sweep(sc, in_process, log).failed == 0);
  const std::vector<CsvFields> expected = without_times(csv_rows(in_process.out));
  REQUIRE(expected.size() == 6u);

  // Three tasks per point on this one node: --overcommit lets them share its CPUs (a cluster gives
  // each its own).
  const fs::path shards = dir / "shards", csv = dir / "slurm.csv";
  const Finished f = run_bounded(marill_exe(),
                                 {"run", scenario.string(), "--slurm", "--slurm-parties", "--out", csv.string(), "--slurm-dir", shards.string(),
                                  "--slurm-timeout", "150", "--timeout-ms", "30000", "--slurm-args=--overcommit"},
                                 slurm.env, dir / "run.log", std::chrono::seconds(160));
  std::string logs;
  for (size_t i = 0; i < 6; ++i) logs += slurp(shards / "logs" / (std::to_string(i) + ".log"));
  INFO(f.output << "\ntask logs:\n" << logs);
  CHECK(f.status == 0);
  CHECK_THAT(slurp(shards / "task.sh"), Contains("exec srun --ntasks=3 --kill-on-bad-exit=0 ") && Contains(" --party-task --timeout-ms 30000"));
  CHECK(without_times(csv_rows(csv)) == expected);
  CHECK(slurp(ops_csv_path(csv.string())) == slurp(ops_csv_path(in_process.out)));
  // Each party ran in a task of its own: the server's and helper's tasks say so; 2pc's third task had nothing to do.
  CHECK_THAT(logs, Contains(": server ran 1 repeats") && Contains(": helper ran 1 repeats") && Contains(": dealer ran 1 repeats"));
  CHECK_THAT(logs, Contains("has 2 parties; task 2 has nothing to do"));
  for (const auto& e : fs::directory_iterator(shards)) CHECK(e.path().filename().string().find(".parties-") == std::string::npos);  // met and cleaned up
}
