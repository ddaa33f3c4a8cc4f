// `marill bench phantom-time`: how close phantom runs' simulated time (network + the compute model
// of sim/compute_model.h) comes to real runs' (network + measured CPU): three block shapes in 3pc
// and 2pc-dealer, each run real and phantom, one table.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "runner/calibration.h"

namespace marill {

int bench_phantom_time(int argc, char** argv) {
  Args args(argc, argv, {{"--calibration", Opt::text}, {"--quick", Opt::flag}, {"--tolerance", Opt::number}, {"--verbose", Opt::flag}, {"--repeats", Opt::integer}},
            "usage: marill bench phantom-time [--calibration FILE] [--quick] [--repeats 3] [--tolerance 0.2] [--verbose]\n"
            "  runs GPT-2-small-like (d768 h12 b128), LLaMA d512 b64 prefill and a LLaMA d768 decode step in 3pc and\n"
            "  2pc-dealer, real and phantom, and prints each point's simulated time both ways (LAN)\n"
            "--calibration: the compute model to check (default: the built-in calibration)\n"
            "--quick: smaller shapes\n"
            "--repeats: real runs per point, the best counts (default 3: CPU time grows with other processes' load)\n"
            "--tolerance: the exit status is 1 when a ratio phantom/real is off by more than this\n"
            "--verbose: per party of each real run, its CPU seconds beside the model's seconds for its counted work, by kind\n");
  if (args.help()) return 0;
  const auto model = compute_model_from(args.get("--calibration", ""));
  const double tol = args.get_double("--tolerance", 0.2);
  std::printf("marill bench phantom-time: calibration from %s (%s, %d cores, %s)\n",
              args.has("--calibration") ? args.get("--calibration", "").c_str() : "the built-in default", model->machine.cpu_model.c_str(),
              model->machine.cores, model->machine.date.c_str());
  std::printf("%-34s %-11s %11s %11s %11s %7s\n", "point", "setting", "real_sim_s", "phant_sim_s", "real_cpu_s", "ratio");
  bool ok = true;
  for (const PhantomTimeCase& c : phantom_time_cases(args.has("--quick"))) {
    const PhantomTimeRow r = phantom_time_check(c, model, static_cast<int>(args.get_int("--repeats", 3, 1, 100)));
    const bool in = std::fabs(r.ratio() - 1) <= tol;
    ok = ok && in;
    std::printf("%-34s %-11s %11.4f %11.4f %11.4f %7.3f%s\n", r.name.c_str(), setting_name(r.setting), r.real_sim_s, r.phantom_sim_s,
                r.real_cpu_s, r.ratio(), in ? "" : "  (outside the tolerance)");
    if (args.has("--verbose"))
      for (const PartyReport& p : r.real_parties) {
        if (p.role == Role::dealer) continue;
        std::printf("    %-7s cpu %.4f s, model %.4f s:", role_name(p.role), p.ledger.total(Phase::online).cpu_s, model->seconds(p.work));
        for (int k = 0; k < kWorkKinds; ++k) {
          WorkCounts one;
          one.n[static_cast<size_t>(k)] = p.work.n[static_cast<size_t>(k)];
          if (one.n[static_cast<size_t>(k)]) std::printf(" %s %.4f", work_kind_name(static_cast<WorkKind>(k)), model->seconds(one));
        }
        std::printf("\n");
      }
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}

}  // namespace marill
