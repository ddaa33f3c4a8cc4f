#include "runner/slurm.h"

#include <boost/process.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "runner/results_reader.h"

namespace marill {

namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The last non-empty line of a file ("" if none): what a failed task said last.
std::string last_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line, last;
  while (std::getline(in, line))
    if (!trimmed(line).empty()) last = trimmed(line);
  return last;
}

// POSIX shell single quotes.
std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CommandResult {
  int status = -1;
  std::string out, err;
};

// Runs one of Slurm's tools, waiting at most `limit` (then kills it and throws). Output goes through
// files in `dir`, so a large one cannot fill a pipe while this polls.
CommandResult run_tool(const std::string& tool, const std::vector<std::string>& args, const fs::path& dir, std::chrono::seconds limit) {
  const boost::filesystem::path exe = bp::search_path(tool);
  if (exe.empty()) throw std::runtime_error("run --slurm: " + tool + " is not on PATH (Slurm's client tools: Debian's slurm-client)");
  const fs::path out = dir / ".tool.out", err = dir / ".tool.err";
  bp::child child(exe.string(), bp::args(args), bp::std_out > out.string(), bp::std_err > err.string(), bp::std_in < bp::null);
  const auto deadline = Clock::now() + limit;
  while (child.running()) {  // polling: Boost 1.74's wait_for is not to be relied on
    if (Clock::now() > deadline) {
      child.terminate();
      throw std::runtime_error("run --slurm: " + tool + " did not answer within " + std::to_string(limit.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child.wait();
  CommandResult r{child.exit_code(), slurp(out), slurp(err)};
  fs::remove(out);
  fs::remove(err);
  return r;
}

// The array tasks of `job` still in the queue: task id -> state (PENDING, RUNNING, ...). nullopt when
// squeue failed for another reason than the job having left the queue (`why` says how).
std::optional<std::map<size_t, std::string>> queued_tasks(const std::string& job, const fs::path& dir, std::string* why) {
  const CommandResult r = run_tool("squeue", {"-h", "-r", "-j", job, "-o", "%K %T"}, dir, std::chrono::seconds(60));
  std::map<size_t, std::string> tasks;
  if (r.status != 0) {
    if (r.err.find("Invalid job id") != std::string::npos) return tasks;  // purged: long finished
    *why = trimmed(r.err);
    return std::nullopt;
  }
  std::istringstream in(r.out);
  std::string id, state;
  while (in >> id >> state)
    if (id.find_first_not_of("0123456789") == std::string::npos) tasks[std::stoul(id)] = state;
  return tasks;
}

std::string fmt(const char* f, double x) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

}  // namespace

std::string slurm_dir_for(const std::string& out) {
  const fs::path p(out);
  return (p.parent_path() / (p.extension() == ".csv" ? p.stem().string() : p.filename().string())).string() + ".slurm";
}

std::string slurm_array_list(const std::vector<size_t>& indices) {
  std::string s;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    s += (s.empty() ? "" : ",") + std::to_string(indices[i]) + (j > i ? "-" + std::to_string(indices[j]) : "");
    i = j + 1;
  }
  return s;
}

std::string slurm_task_script(const SlurmOptions& slurm) {
  std::string s = "#!/bin/sh\n# marill run --slurm: one point of the scenario per array task (written by marill; --resume rewrites it)\n";
  s += "exec ";
  // One Slurm task per party: srun starts them (on the array task's nodes); each is a party by its SLURM_PROCID.
  if (slurm.party_tasks > 0) s += "srun --ntasks=" + std::to_string(slurm.party_tasks) + " --kill-on-bad-exit=0 ";
  s += shell_quoted(slurm.marill) + " run " + shell_quoted(slurm.scenario) + " --point \"$SLURM_ARRAY_TASK_ID\" --shard-dir " + shell_quoted(slurm.dir);
  if (!slurm.calibration.empty()) s += " --calibration " + shell_quoted(slurm.calibration);
  if (slurm.party_tasks > 0) s += " --party-task --timeout-ms " + std::to_string(slurm.party_timeout.count());
  return s + "\n";
}

SweepReport run_sweep_on_slurm(const Scenario& sc, const SweepOptions& opt, const SlurmOptions& slurm, std::ostream& log) {
  if (slurm.dir.empty() || slurm.marill.empty() || slurm.scenario.empty())
    throw std::invalid_argument("run --slurm: the shard directory, the marill binary and the scenario must be given");
  const std::vector<size_t> todo = sweep_points_to_run(sc, slurm.dir, opt);
  const fs::path dir = slurm.dir, logs = dir / "logs";
  auto task_log = [&](size_t i) { return (logs / (std::to_string(i) + ".log")).string(); };
  std::string job;
  bool timed_out = false;
  if (todo.empty()) {
    log << "marill run: every point has a shard or a row: merging\n";
  } else {
    fs::create_directories(logs);
    // A point to run again starts clean: its old shard must not stand in for a task that fails now.
    for (size_t i : todo) {
      const std::string shard = sweep_shard_path(slurm.dir, i);
      for (const std::string& f : {shard, ops_csv_path(shard), shard.substr(0, shard.size() - 4) + ".errors", task_log(i)}) {
        std::error_code ec;
        fs::remove(f, ec);
      }
    }
    const fs::path script = dir / "task.sh";
    std::ofstream(script, std::ios::trunc) << slurm_task_script(slurm);
    fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    std::string array = slurm_array_list(todo);
    if (slurm.max_parallel > 0) array += "%" + std::to_string(slurm.max_parallel);
    std::vector<std::string> args{"--parsable", "--array=" + array, "--job-name=marill-" + sc.name, "--output=" + (logs / "%a.log").string()};
    if (slurm.party_tasks > 0) args.push_back("--ntasks=" + std::to_string(slurm.party_tasks));
    args.insert(args.end(), slurm.sbatch_args.begin(), slurm.sbatch_args.end());
    args.push_back(script.string());
    const CommandResult sub = run_tool("sbatch", args, dir, std::chrono::seconds(120));
    if (sub.status != 0)
      throw std::runtime_error("run --slurm: sbatch refused the job array (" + array + "): " + trimmed(sub.err) +
                               (sub.err.find("array") != std::string::npos ? " (Slurm's MaxArraySize bounds the point indices)" : ""));
    job = trimmed(sub.out);
    job = job.substr(0, job.find(';'));  // --parsable: JOBID[;CLUSTER]
    log << "marill run: submitted " << todo.size() << " of " << sc.points.size() << " points as Slurm job " << job << " (array "
        << array << "; task logs in " << logs.string() << ")\n";

    // Wait until no task of the job is queued, with a progress line when something changed.
    const auto t0 = Clock::now(), deadline = t0 + slurm.timeout;
    std::string last_progress, squeue_error;
    auto last_print = t0;
    for (;;) {
      std::string why;
      const auto queued = queued_tasks(job, dir, &why);
      size_t finished = 0;
      for (size_t i : todo) finished += fs::exists(sweep_shard_path(slurm.dir, i)) ? 1 : 0;
      if (queued) {
        size_t running = 0, pending = 0;
        for (const auto& [id, state] : *queued) (state == "RUNNING" || state == "COMPLETING" ? running : pending) += 1;
        const double el = std::chrono::duration<double>(Clock::now() - t0).count();
        const double rate = el > 0 ? static_cast<double>(finished) / el : 0;
        const std::string progress = "marill run: Slurm job " + job + ": " + std::to_string(finished) + "/" + std::to_string(todo.size()) +
                                     " points done, " + std::to_string(running) + " running, " + std::to_string(pending) + " pending";
        if (progress != last_progress || Clock::now() - last_print > std::chrono::seconds(60)) {
          log << progress << ", " << fmt("%.2f", rate) << " points/s, ETA "
              << (rate > 0 ? fmt("%.0f s", static_cast<double>(todo.size() - finished) / rate) : std::string("?")) << "\n";
          log.flush();
          last_progress = progress;
          last_print = Clock::now();
        }
        if (queued->empty()) break;
      } else if (why != squeue_error) {
        log << "marill run: squeue failed (retrying until the timeout): " << why << "\n";
        squeue_error = why;
      }
      if (Clock::now() > deadline) {
        timed_out = true;
        const CommandResult cancel = run_tool("scancel", {job}, dir, std::chrono::seconds(60));
        log << "marill run: Slurm job " << job << " did not finish within " << slurm.timeout.count() << " s: "
            << (cancel.status == 0 ? "cancelled" : "scancel failed: " + trimmed(cancel.err)) << "; --resume submits the points left\n";
        break;
      }
      std::this_thread::sleep_for(slurm.poll);
    }
  }
  const std::set<size_t> submitted(todo.begin(), todo.end());
  auto missing = [&](size_t i) -> std::string {
    if (!submitted.count(i)) return "no shard in " + slurm.dir + " (not submitted: --resume submits it)";
    if (timed_out) return "its Slurm task " + job + "_" + std::to_string(i) + " had not finished at the timeout (cancelled)";
    const std::string said = last_line(task_log(i));
    return "its Slurm task " + job + "_" + std::to_string(i) + " ended without a result (log " + task_log(i) + (said.empty() ? "" : ": " + said) + ")";
  };
  SweepReport rep = merge_sweep_shards(sc, slurm.dir, opt, log, missing);
  // Rows of points submitted now count as ran, the others (earlier shards or rows) as already done.
  rep.ran = rep.already_done = 0;
  std::set<std::string> submitted_ids;
  for (size_t i : todo) submitted_ids.insert(sc.points[i].id);
  for (const CsvFields& r : rep.rows) ++(submitted_ids.count(r[1]) ? rep.ran : rep.already_done);
  return rep;
}

}  // namespace marill
