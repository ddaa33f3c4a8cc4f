// `marill bench primitives`: each secure primitive at a few shapes in each setting, one runner point
// per (setting, op, shape), printed as a table and optionally written as CSV (the runner's primitive
// schema: one row per party and phase). Costs are the op's own (inputs are shared first and excluded).
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "runner/rows.h"

namespace marill {

int bench_primitives(int argc, char** argv) {
  Args args(argc, argv,
            {{"--csv", Opt::text}, {"--net", Opt::text}, {"--settings", Opt::texts}, {"--frac-bits", Opt::integer}, {"--quick", Opt::flag}},
            "usage: marill bench primitives [--net lan|wan|custom:bw=..,lat=..] [--settings 3pc,2pc-dealer]\n"
            "                               [--frac-bits 16] [--csv FILE] [--quick]");
  if (args.help()) return 0;
  Point base;
  base.workload = Workload::primitive;
  base.network = args.parsed("--net", args.get("--net", "lan"), network_preset);
  base.frac_bits = static_cast<int>(args.get_int("--frac-bits", 16, 1, 30));
  std::vector<Setting> settings;
  for (const auto& s : args.get_texts("--settings", {"3pc", "2pc-dealer"})) settings.push_back(args.parsed("--settings", s, parse_setting));
  CsvWriter csv = args.has("--csv") ? CsvWriter(args.get("--csv", ""), primitive_csv_header()) : CsvWriter();

  std::printf("marill bench primitives: network %s (%.3g Gbit/s, %.3g ms one way), %d fractional bits\n",
              base.network.name.c_str(), base.network.link.bandwidth_bps / 1e9, base.network.link.latency_s * 1e3, base.frac_bits);
  std::printf("%-11s %-7s %-12s %-7s %-8s %12s %8s %7s %11s %10s\n", "setting", "op", "shape", "party", "phase",
              "bytes_sent", "B/elem", "rounds", "sim_time_s", "cpu_time_s");
  for (Setting st : settings) {
    for (const PrimitiveOp& op : primitive_bench_ops(args.has("--quick"))) {
      Point p = base;
      p.setting = st;
      p.primitive = op;
      for (const PrimitiveRow& r : primitive_rows(run_point(p))) {
        std::printf("%-11s %-7s %-12s %-7s %-8s %12llu %8.1f %7llu %11.6f %10.6f\n", r.setting.c_str(), r.op.c_str(),
                    r.shape.c_str(), r.party.c_str(), r.phase.c_str(), static_cast<unsigned long long>(r.bytes_sent),
                    r.bytes_per_element, static_cast<unsigned long long>(r.rounds), r.sim_time_s, r.cpu_time_s);
        csv.write(r);
      }
    }
  }
  std::printf("B/elem: bytes sent by that party per output element; rounds: longest chain of dependent messages of\n"
              "the op across all parties (offline: the dealer's one-way stream); sim_time_s: the party's virtual clock\n"
              "growth during the op (CPU time + network model); cpu_time_s: measured thread CPU time.\n");
  return 0;
}

}  // namespace marill
