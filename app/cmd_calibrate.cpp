// `marill calibrate`: measures this machine's seconds per unit of each kind of counted work (the
// compute model of phantom runs, sim/compute_model.h) and writes a calibration file; `--check` then
// runs the accuracy benchmark (`marill bench phantom-time`) with it.
#include <cstdio>
#include <memory>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "runner/calibration.h"

namespace marill {

int cmd_calibrate(int argc, char** argv) {
  Args args(argc, argv, {{"--out", Opt::text}, {"--quick", Opt::flag}, {"--check", Opt::flag}},
            "usage: marill calibrate [--out FILE] [--quick] [--check]\n"
            "  measures this machine's throughput for each kind of work the kernels count (micro-benchmarks in thread\n"
            "  CPU time, several sizes each) and writes the compute model of phantom runs as a calibration file\n"
            "--out: the file to write (default calibration.json); runs take it with --calibration FILE\n"
            "--quick: fewer sizes and repetitions\n"
            "--check: then run `marill bench phantom-time` with the new calibration\n");
  if (args.help()) return 0;
  const std::string out = args.get("--out", "calibration.json");
  CalibrationOptions opt;
  opt.quick = args.has("--quick");
  opt.log = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  const MachineInfo m = this_machine();
  std::printf("marill calibrate: %s, %d cores, commit %s%s\n", m.cpu_model.c_str(), m.cores, m.commit.c_str(), opt.quick ? " (quick)" : "");
  const ComputeModel model = calibrate_compute_model(opt);
  model.save(out);
  std::printf("wrote %s\n", out.c_str());
  if (!args.has("--check")) return 0;
  std::string calib = "--calibration=" + out, quick = "--quick";
  char* check_argv[] = {&calib[0], opt.quick ? &quick[0] : nullptr, nullptr};
  return bench_phantom_time(opt.quick ? 2 : 1, check_argv);
}

}  // namespace marill
