// Calibrating the compute model of phantom runs (sim/compute_model.h) on this machine, and checking
// it: `marill calibrate` and `marill bench phantom-time`.
//
// Calibration: one micro-benchmark per kind of work (protocols/ring/work_meter.h), each at several
// sizes, timed in thread CPU time (the kernels' worker threads included, as a real party is charged).
// Each sample's other kinds are charged at the coefficients fitted before it (the order below), and
// the kind's seconds per unit is the least-squares slope of the rest against its units, the
// intercept being per-call overhead the model does not carry (reported with R^2 in the file's "fit").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runner/runner.h"
#include "sim/compute_model.h"

namespace marill {

struct CalibrationOptions {
  bool quick = false;                                // fewer sizes and repetitions (seconds instead of a minute)
  std::function<void(const std::string&)> log;       // one line per fitted kind (optional)
};

// The machine this process runs on: CPU model (/proc/cpuinfo), online CPUs, the date (UTC), and the
// git commit of the source tree when `git` finds one (else "unknown").
MachineInfo this_machine();

ComputeModel calibrate_compute_model(const CalibrationOptions& opt);

// The accuracy check: points both modes can run, each run real and phantom.
struct PhantomTimeCase {
  std::string name;
  Point point;  // mode is set per run
};
// Three shapes (a GPT-2-small-like layer d768 h12 b128, a LLaMA d512 b64 prefill, a LLaMA decode
// step) in 3pc and 2pc-dealer; quick: smaller shapes (seconds).
std::vector<PhantomTimeCase> phantom_time_cases(bool quick);

struct PhantomTimeRow {
  std::string name;
  Setting setting = Setting::three_pc;
  double real_sim_s = 0, phantom_sim_s = 0;  // the point's online simulated time (slowest party)
  double real_cpu_s = 0;                     // the real run's CPU seconds of the online parties
  std::vector<PartyReport> real_parties;     // the real run's reports (work counts, CPU per party)
  double ratio() const { return real_sim_s > 0 ? phantom_sim_s / real_sim_s : 0; }
};
// The real run's time is the best of `real_runs` runs (CPU time on a shared machine only ever grows
// with other processes' load; the calibration takes the least of its timings too).
PhantomTimeRow phantom_time_check(const PhantomTimeCase& c, std::shared_ptr<const ComputeModel> model, int real_runs = 3);

}  // namespace marill
