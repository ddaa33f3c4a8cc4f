// The compute model of phantom runs: seconds per unit of each kind of work the kernels count
// (protocols/ring/work_meter.h), measured on one machine by `marill calibrate` and kept in a JSON
// calibration file that names the machine. A phantom party's virtual clock advances by
// seconds(work since its last message) where a real party's advances by its measured CPU time
// (actors/party_comm.cpp). A default calibration (sim/calibration/default.json) is compiled into
// the binary, so runs need no file.
//
// File format (strict: a missing, unknown, non-numeric or negative entry is an error naming the
// file and the key):
//   { "format": "marill-calibration/1",
//     "machine": { "cpu_model": "...", "cores": 2, "date": "2026-11-30T09:00:00Z", "commit": "abc123" },
//     "seconds_per_unit": { "gemm_mac": 2.9e-11, ... every kind ... },
//     "parallel_speedup": { "dcf_eval_level": 1.9 },  // optional: threaded kinds (default 1)
//     "fit": { ... }  // optional: how each coefficient was measured (calibrate's report), not read back
//   }
#pragma once

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "protocols/ring/work_meter.h"

namespace marill {

struct CalibrationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where a calibration was measured.
struct MachineInfo {
  std::string cpu_model;  // /proc/cpuinfo "model name"
  int cores = 0;          // online CPUs
  std::string date;       // UTC, ISO 8601
  std::string commit;     // marill's git commit, or "unknown"
};

struct ComputeModel {
  std::array<double, kWorkKinds> seconds_per_unit{};  // on one core
  // A threaded kind's speedup on a party's two cores, measured alone (`marill calibrate`): its work
  // is charged seconds_per_unit / speedup, as a real run's parallel sections are (cpu_meter.h).
  std::array<double, kWorkKinds> parallel_speedup = [] {
    std::array<double, kWorkKinds> a{};
    a.fill(1.0);
    return a;
  }();
  MachineInfo machine;
  std::string fit_json = "{}";  // calibrate's report (JSON object), written to the file as "fit"

  double seconds(const WorkCounts& w) const;
  double& operator[](WorkKind k) { return seconds_per_unit[static_cast<size_t>(k)]; }
  double operator[](WorkKind k) const { return seconds_per_unit[static_cast<size_t>(k)]; }

  std::string to_json() const;
  // `source` names the text in errors (a file path, "built-in calibration").
  static ComputeModel from_json(const std::string& text, const std::string& source);
  // Throws CalibrationError naming the path if it cannot be read or is malformed.
  static ComputeModel load(const std::string& path);
  void save(const std::string& path) const;
};

// Makes this process's parallel sections charge the model's speedups (set_parallel_speedup), so
// real runs are clocked as phantom runs of the same model are.
void apply_parallel_speedups(const ComputeModel& m);

// The calibration compiled into the binary (sim/calibration/default.json at build time).
std::shared_ptr<const ComputeModel> builtin_compute_model();
// `path` loaded, or the built-in model when path is empty.
std::shared_ptr<const ComputeModel> compute_model_from(const std::string& path);

}  // namespace marill
