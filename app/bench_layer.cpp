// `marill bench layer`: cost of one private transformer block by operation kind, so a user sees
// e.g. "softmax is X% of bytes" and how merging heads (m) or LoRA (r) changes it. Random weights
// of the requested shape; the costs of secure programs do not depend on the values. Each
// configuration is a runner point (runner/runner.h); its rows are the runner's layer schema.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "runner/rows.h"

namespace marill {

int bench_layer(int argc, char** argv) {
  Args args(argc, argv,
            {{"--settings", Opt::texts}, {"--net", Opt::text}, {"--arch", Opt::text}, {"--b", Opt::integer}, {"--d", Opt::integer},
             {"--heads", Opt::integer}, {"--ffn", Opt::integer}, {"--merge", Opt::ints}, {"--lora", Opt::ints}, {"--stage", Opt::text},
             {"--softmax", Opt::text}, {"--act", Opt::text}, {"--frac-bits", Opt::integer}, {"--fss", Opt::texts},
             {"--policy", Opt::text}, {"--phantom", Opt::flag}, {"--csv", Opt::text}},
            "usage: marill bench layer [--settings 3pc,2pc-dealer] [--net lan] [--arch llama|gpt2] [--b 128] [--d 256]\n"
            "                          [--heads 8] [--ffn 4*d] [--merge 1,2,4] [--lora 0,8,64] [--stage prefill|decode]\n"
            "                          [--softmax exact|2relu|2quad] [--act exact|relu|quad] [--frac-bits 16] [--fss on|off|on,off]\n"
            "                          [--policy silu=poly,exp=spline,...] [--phantom] [--csv FILE]\n"
            "--fss: 2pc-dealer functions as FSS spline gates (on, default) or polynomials (off: 3pc's methods)\n"
            "--policy: function methods over each setting's default (names: silu gelu exp reciprocal rsqrt softmax act)");
  if (args.help()) return 0;
  Point base;
  std::vector<Setting> settings;
  for (const auto& s : args.get_texts("--settings", {"3pc", "2pc-dealer"})) settings.push_back(args.parsed("--settings", s, parse_setting));
  base.stage = args.parsed("--stage", args.get("--stage", "prefill"), parse_stage);
  base.b = args.get_int("--b", 128, 1, 1 << 16);
  const std::string arch = args.get("--arch", "llama");
  if (arch != "llama" && arch != "gpt2") throw std::invalid_argument("option '--arch': expected llama or gpt2, got '" + arch + "'");
  base.model.arch = arch == "gpt2" ? Arch::gpt2 : Arch::llama;
  base.model.d_model = args.get_int("--d", 256, 1, 1 << 16);
  base.model.n_heads = args.get_int("--heads", 8, 1, 4096);
  base.model.ffn_dim = args.get_int("--ffn", 4 * base.model.d_model, 1, 1 << 20);
  base.marill.softmax = args.parsed("--softmax", args.get("--softmax", "exact"), parse_softmax_approx);
  base.marill.act = args.parsed("--act", args.get("--act", "exact"), parse_act_approx);
  base.network = args.parsed("--net", args.get("--net", "lan"), network_preset);
  base.frac_bits = static_cast<int>(args.get_int("--frac-bits", 16, 1, 30));
  base.mode = args.has("--phantom") ? Mode::phantom : Mode::real;
  base.policy = args.get("--policy", "");
  const auto merges = args.get_ints("--merge", {1, 2, 4}, 1, 4096);
  const auto loras = args.get_ints("--lora", {0}, 0, 1 << 16);
  std::vector<bool> fss_modes;
  for (const auto& f : args.get_texts("--fss", {"on"})) {
    if (f != "on" && f != "off") throw std::invalid_argument("option '--fss': expected on, off or on,off, got '" + f + "'");
    fss_modes.push_back(f == "on");
  }
  CsvWriter csv = args.has("--csv") ? CsvWriter(args.get("--csv", ""), layer_csv_header()) : CsvWriter();

  const BlockShape shown = base.block_shape();
  std::printf("marill bench layer: %s block, d=%lld, %lld heads, ffn=%lld, %s b=%lld, softmax %s, act %s\n", arch_name(shown.arch),
              static_cast<long long>(shown.d_model), static_cast<long long>(shown.n_heads), static_cast<long long>(shown.ffn_dim),
              stage_name(base.stage), static_cast<long long>(base.b), approx_name(base.marill.softmax), approx_name(base.marill.act));
  for (Setting st : settings)
    for (bool fss : fss_modes)
      for (long long m : merges)
        for (long long r : loras) {
          if (!fss && st != Setting::two_pc_dealer) continue;  // only 2pc-dealer has FSS gates
          Point p = base;
          p.setting = st;
          p.fss_gates = fss;
          p.marill.merge = static_cast<int>(m);
          p.marill.lora = r;
          const std::vector<LayerRow> rows = layer_rows(run_point(p));
          const LayerRow& total = rows[0];    // (total)
          const LayerRow& offline = rows[1];  // (offline)
          const double online_parties = st == Setting::two_pc_dealer ? 2.0 : static_cast<double>(roles_of(st).size());
          std::printf("\n[%s%s] m=%lld lora=%lld: online %.3f MB sent (all parties; %.3f MB per party), %llu rounds, %.4f s simulated; offline %.3f MB\n",
                      setting_name(st), st == Setting::two_pc_dealer ? (fss ? " fss" : " poly") : "", m, r,
                      static_cast<double>(total.bytes_sent) / 1e6, static_cast<double>(total.bytes_sent) / 1e6 / online_parties,
                      static_cast<unsigned long long>(total.rounds), total.sim_time_s, static_cast<double>(offline.bytes_sent) / 1e6);
          std::printf("  %-36s %14s %7s %8s %14s %9s\n", "kind", "bytes_sent", "share", "rounds", "secure_macs", "sim_s");
          for (const LayerRow& row : rows) {
            csv.write(row);
            if (&row == &total || &row == &offline) continue;
            std::printf("  %-36s %14llu %6.1f%% %8llu %14llu %9.4f\n", row.kind.c_str(), static_cast<unsigned long long>(row.bytes_sent),
                        100.0 * row.bytes_share, static_cast<unsigned long long>(row.rounds),
                        static_cast<unsigned long long>(row.secure_macs), row.sim_time_s);
          }
        }
  return 0;
}

}  // namespace marill
