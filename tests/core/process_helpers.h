// Helpers of the tests that run marill (or daemons) as processes: the binary beside the test
// binary, an unused loopback port, a whole file, a sweep CSV's rows, a program run to its end or a
// time limit.
#pragma once

#include <boost/process.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/free_port.h"
#include "runner/results_reader.h"
#include "runner/sweep.h"

namespace marill::test {

// The marill executable beside this test binary.
inline std::string marill_exe() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "marill").string();
}

// The bundled tiny model's shape (config.json): scenarios of the tests run at it.
inline std::string tiny_config() { return std::string(MARILL_SOURCE_DIR) + "/models/bundled/tiny/base/config.json"; }

// A port nothing listens on now (bound, read, released).
inline int free_loopback_port() { return free_tcp_port(true); }

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The rows of a `marill run` CSV (its header checked).
inline std::vector<CsvFields> csv_rows(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == sweep_csv_header());
  std::vector<CsvFields> rows;
  while (std::getline(in, line)) rows.push_back(csv_split(line));
  return rows;
}

// The measured columns (CPU and wall time) blanked: they differ from run to run.
inline std::vector<CsvFields> without_times(std::vector<CsvFields> rows) {
  const auto& cols = sweep_csv_columns();
  const size_t cpu = static_cast<size_t>(std::find(cols.begin(), cols.end(), "cpu_s") - cols.begin());
  const size_t wall = static_cast<size_t>(std::find(cols.begin(), cols.end(), "wall_s") - cols.begin());
  REQUIRE(wall < cols.size());
  for (CsvFields& r : rows) r.at(cpu) = r.at(wall) = "";
  return rows;
}

struct Finished {
  int status = -1;  // -1: killed at the limit
  std::string output;
};

// Runs a program to its end or `limit` (then kills it), stdout and stderr into `log`.
inline Finished run_bounded(const std::string& exe, const std::vector<std::string>& args, const boost::process::environment& env,
                            const std::filesystem::path& log, std::chrono::seconds limit) {
  namespace bp = boost::process;
  bp::child c(exe, bp::args(args), env, (bp::std_out & bp::std_err) > log.string(), bp::std_in < bp::null);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (c.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Finished f;
  if (c.running()) {
    c.terminate();
    c.wait();
  } else {
    c.wait();
    f.status = c.exit_code();
  }
  f.output = slurp(log);
  return f;
}

}  // namespace marill::test
