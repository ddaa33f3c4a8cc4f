// `marill run SCENARIO.yaml`: a scenario's sweep (runner/scenario.h, runner/sweep.h): every point
// through the runner, one CSV row per point and repeat as it finishes (the ops CSV beside it),
// progress with rate and ETA on stderr, the ratios to the baseline at the end, then a compact
// table of the rows on stdout. Exit status 1 when a point failed (the sweep goes on without it).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "app/remote_options.h"
#include "remote/remote_sweep.h"
#include "remote/slurm_parties.h"
#include "runner/slurm.h"
#include "runner/sweep.h"

namespace marill {

namespace {

// What distinguishes a point in a table: its label and its axes' values ("lf merge=4"), or all its
// knobs without a label.
std::string point_name(const ScenarioPoint& p) {
  std::string s = p.label;
  for (const KnobValue& v : p.knobs)
    if (p.label.empty() || v.where.find(": axes.") != std::string::npos) s += (s.empty() ? "" : " ") + v.knob + "=" + v.text();
  return s.empty() ? "(defaults)" : s;
}

void print_points(const Scenario& sc) {
  std::printf("%-12s %-11s %-8s %-7s %6s  %s\n", "point_id", "setting", "network", "stage", "b", "config");
  for (const ScenarioPoint& p : sc.points)
    std::printf("%-12s %-11s %-8s %-7s %6lld  %s\n", p.id.c_str(), setting_name(p.setting), p.network.name.c_str(), stage_name(p.stage),
                static_cast<long long>(p.b), point_name(p).c_str());
}

void print_rows(const Scenario& sc, const std::vector<CsvFields>& rows) {
  std::map<std::string, const ScenarioPoint*> point_of;
  for (const ScenarioPoint& p : sc.points) point_of[p.id] = &p;
  std::printf("%-11s %-8s %-7s %6s %-28s %3s %12s %12s %7s %10s %8s %8s\n", "setting", "network", "stage", "b", "config", "rep", "online MB",
              "offline MB", "rounds", "sim s", "x time", "x comm");
  for (const CsvFields& r : rows) {
    auto it = point_of.find(r[1]);
    const std::string name = it == point_of.end() ? r[2] : point_name(*it->second);
    std::printf("%-11s %-8s %-7s %6s %-28s %3s %12.3f %12.3f %7s %10.4f %8s %8s\n", r[5].c_str(), r[6].c_str(), r[7].c_str(), r[8].c_str(),
                name.c_str(), r[20].c_str(), std::stod(r[22]) / 1e6, std::stod(r[23]) / 1e6, r[24].c_str(), std::stod(r[25]),
                r[29].empty() ? "-" : r[29].c_str(), r[30].empty() ? "-" : r[30].c_str());
  }
}

// Where the tasks find the binary, the scenario and the shards: absolute paths (they may run elsewhere).
SlurmOptions slurm_options(const Args& args, const Scenario& sc, const SweepOptions& opt) {
  namespace fs = std::filesystem;
  SlurmOptions s;
  s.marill = fs::read_symlink("/proc/self/exe").string();
  s.scenario = fs::absolute(sc.file).string();
  s.dir = fs::absolute(args.get("--slurm-dir", slurm_dir_for(opt.out))).lexically_normal().string();
  if (args.has("--calibration")) s.calibration = fs::absolute(args.get("--calibration", "")).string();
  for (const std::string& a : split(args.get("--slurm-args", ""), ' '))
    if (!a.empty()) s.sbatch_args.push_back(a);
  s.max_parallel = static_cast<int>(args.get_int("--slurm-parallel", 0, 1, 1 << 20));
  s.timeout = std::chrono::seconds(args.get_int("--slurm-timeout", 86400, 1, 365LL * 86400));
  if (args.has("--slurm-parties")) {
    if (sc.workload != SweepWorkload::block) throw std::invalid_argument("run: --slurm-parties runs block points (" + sc.file + " is a whole-model workload)");
    for (const ScenarioPoint& p : sc.points) s.party_tasks = std::max<int>(s.party_tasks, static_cast<int>(roles_of(p.setting).size()));
    s.party_timeout = std::chrono::milliseconds(args.get_int("--timeout-ms", 120000, 100, 24LL * 3600 * 1000));
  }
  return s;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  Args args(argc, argv, {{"--out", Opt::text}, {"--resume", Opt::flag}, {"--jobs", Opt::integer}, {"--dry-run", Opt::flag},
                         {"--stop-after", Opt::integer}, {"--calibration", Opt::text}, {"--slurm", Opt::flag}, {"--slurm-dir", Opt::text},
                         {"--slurm-args", Opt::text}, {"--slurm-parallel", Opt::integer}, {"--slurm-timeout", Opt::integer},
                         {"--point", Opt::integer}, {"--shard-dir", Opt::text}, {"--hosts", Opt::text}, {"--key", Opt::text},
                         {"--timeout-ms", Opt::integer}, {"--point-timeout", Opt::integer}, {"--dealer-ahead", Opt::flag}, {"--slurm-parties", Opt::flag},
                         {"--party-task", Opt::flag}},
            "usage: marill run SCENARIO.yaml [--out FILE] [--resume] [--jobs N] [--dry-run] [--calibration FILE]\n"
            "       marill run SCENARIO.yaml --slurm [--out FILE] [--resume] [--slurm-dir DIR] [--slurm-args=\"...\"] ...\n"
            "Runs a scenario's sweep (format: scenarios/README.md): one CSV row per point and repeat, written as\n"
            "points finish, the op kinds in FILE minus .csv plus .ops.csv, the ratios to the baseline at the end.\n"
            "--out: the CSV (default: the scenario's output:, relative to the current directory)\n"
            "--resume: keep the finished rows of an existing output and run only the rest (without it an\n"
            "          existing output is an error)\n"
            "--jobs N: run N points in parallel (each its own session)\n"
            "--dry-run: list the points, run nothing\n"
            "--calibration: phantom runs' compute model (`marill calibrate --out FILE`; default: the built-in one)\n"
            "--stop-after N: (tests) stop after N points, leaving the files as a killed sweep would\n"
            "--slurm: one Slurm array task per point (sbatch), each writing a shard; waits for the job (squeue),\n"
            "         then merges the shards into FILE, the CSV an in-process run writes; with --resume only the\n"
            "         points without a shard or row are submitted (docs/multihost.md)\n"
            "--slurm-dir DIR: shards, task logs and the batch script (default: FILE minus .csv plus .slurm)\n"
            "--slurm-args=\"OPTS\": more sbatch options, e.g. --slurm-args=\"--partition=cpu --time=10\"\n"
            "--slurm-parallel N: at most N tasks at once (the array's %N)\n"
            "--slurm-timeout S: wait at most S seconds for the job (default 86400), then cancel it\n"
            "--slurm-parties: each point's parties in Slurm tasks of their own (srun; on one or several nodes), meeting\n"
            "         over ZeroMQ/Curve with keys made for the run (block workloads; --timeout-ms: their waits)\n"
            "--point I --shard-dir DIR: (what a Slurm task runs) point I of the scenario (from 0) into its shard in DIR\n"
            "         (with --party-task: this task's party of it, by $SLURM_PROCID)\n"
            "--hosts HOSTS.yaml: each point's parties are party servers (`marill party --serve`) on the hosts the file\n"
            "         names; this process coordinates and writes the same CSV (its key: the file's coordinator entry or\n"
            "         --key FILE; --timeout-ms: every wait of the parties, default 120000; --point-timeout S: the longest a\n"
            "         point may run, default 86400); docs/multihost.md\n"
            "--dealer-ahead: (with --hosts) the dealer deals each real 2pc-dealer block point's key files and ships them\n"
            "         to the client and server, which then run it without the dealer\n",
            true);
  if (args.help()) return 0;
  if (args.positional().size() != 1) throw std::invalid_argument("run: give one scenario file (marill run SCENARIO.yaml)");
  const Scenario sc = load_scenario(args.positional()[0]);
  const size_t total = sc.points.size() * static_cast<size_t>(sc.repeats);
  if (args.has("--dry-run")) {
    print_points(sc);
    std::printf("%zu points x %d repeats = %zu runs (dry run: nothing ran)\n", sc.points.size(), sc.repeats, total);
    return 0;
  }
  if (args.has("--point") != args.has("--shard-dir")) throw std::invalid_argument("run: --point and --shard-dir go together (a Slurm task's point)");
  if (args.has("--point")) {  // one Slurm array task: its status tells Slurm whether the point failed
    SweepOptions opt;
    opt.compute_model = compute_model_from(args.get("--calibration", ""));
    const size_t index = static_cast<size_t>(args.get_int("--point", 0, 0, 1 << 30));
    if (args.has("--party-task"))
      return run_point_party_task(sc, index, args.get("--shard-dir", ""), opt, party_task_from_env(),
                                  std::chrono::milliseconds(args.get_int("--timeout-ms", 120000, 100, 24LL * 3600 * 1000)), std::cerr);
    const SweepReport rep = run_sweep_shard(sc, index, args.get("--shard-dir", ""), opt, std::cerr);
    std::fprintf(stderr, "marill run: point %zu: %zu rows in %s, %zu failed\n", index, rep.rows.size(),
                 sweep_shard_path(args.get("--shard-dir", ""), index).c_str(), rep.failed);
    return rep.failed ? 1 : 0;
  }
  SweepOptions opt;
  opt.out = args.get("--out", sc.output);
  if (opt.out.empty()) throw std::invalid_argument("run: " + sc.file + " names no output: give --out FILE");
  opt.resume = args.has("--resume");
  opt.compute_model = compute_model_from(args.get("--calibration", ""));
  opt.jobs = static_cast<int>(args.get_int("--jobs", 1, 1, 256));
  opt.progress_inline = ::isatty(STDERR_FILENO);
  opt.stop_after = static_cast<int>(args.get_int("--stop-after", 0, 0, 1 << 30));
  std::fprintf(stderr, "marill run: %s: %zu points x %d repeats (%s, %s) -> %s\n", sc.name.c_str(), sc.points.size(), sc.repeats,
               sc.model.name.c_str(), mode_name(sc.mode), opt.out.c_str());
  const bool slurm = args.has("--slurm");
  for (const char* o : {"--slurm-dir", "--slurm-args", "--slurm-parallel", "--slurm-timeout"})
    if (args.has(o) && !slurm) throw std::invalid_argument(std::string("run: ") + o + " needs --slurm");
  if (slurm && (args.has("--jobs") || args.has("--stop-after")))
    throw std::invalid_argument("run: --jobs and --stop-after are for in-process sweeps; with --slurm each task runs one point");
  const bool remote = args.has("--hosts");
  if (args.has("--party-task")) throw std::invalid_argument("run: --party-task is a Slurm task's, with --point and --shard-dir");
  if (args.has("--slurm-parties") && !slurm) throw std::invalid_argument("run: --slurm-parties needs --slurm");
  if (!remote)
    for (const char* o : {"--key", "--dealer-ahead", "--point-timeout"})
      if (args.has(o)) throw std::invalid_argument(std::string("run: ") + o + " needs --hosts");
  if (args.has("--timeout-ms") && !remote && !args.has("--slurm-parties"))
    throw std::invalid_argument("run: --timeout-ms needs --hosts or --slurm-parties");
  if (remote && (slurm || args.has("--jobs")))
    throw std::invalid_argument("run: --hosts runs one point at a time on the party servers; not with --slurm or --jobs");
  std::unique_ptr<Coordinator> coordinator;
  if (remote) {
    coordinator = coordinator_from(args);
    RemoteSweepOptions ro;
    ro.calibration_json = calibration_text(args);
    ro.dealer_ahead = args.has("--dealer-ahead");
    opt.point_runner = remote_point_runner(*coordinator, sc, ro);
  }
  const SweepReport rep = slurm ? run_sweep_on_slurm(sc, opt, slurm_options(args, sc, opt), std::cerr) : run_sweep(sc, opt, std::cerr);
  if (rep.stopped) {
    std::fprintf(stderr, "marill run: stopped after %zu points (--stop-after); --resume continues\n", rep.ran + rep.failed);
    return 0;
  }
  print_rows(sc, rep.rows);
  std::printf("%zu rows in %s (%zu already done, %zu ran, %zu failed)\n", rep.rows.size(), opt.out.c_str(), rep.already_done, rep.ran,
              rep.failed);
  if (rep.failed) {
    std::fprintf(stderr, "marill run: %zu points failed:\n", rep.failed);
    for (const std::string& e : rep.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return 1;
  }
  return 0;
}

}  // namespace marill
