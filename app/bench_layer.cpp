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
#include "app/layer_options.h"
#include "runner/rows.h"

namespace marill {

int bench_layer(int argc, char** argv) {
  Args args(argc, argv, layer_point_options({{"--settings", Opt::texts}, {"--merge", Opt::ints}, {"--lora", Opt::ints}, {"--fss", Opt::texts}, {"--csv", Opt::text}}),
            "usage: marill bench layer [--settings 3pc,2pc-dealer] [--merge 1,2,4] [--lora 0,8,64] [--fss on|off|on,off] [--csv FILE]\n"
            "                          " + std::string(kLayerPointUsage) +
            "--fss: 2pc-dealer functions as FSS spline gates (on, default) or polynomials (off: 3pc's methods)\n");
  if (args.help()) return 0;
  Point base = layer_point(args);
  std::vector<Setting> settings;
  for (const auto& s : args.get_texts("--settings", {"3pc", "2pc-dealer"})) settings.push_back(args.parsed("--settings", s, parse_setting));
  if (base.correlations.source == CorrelationSourceKind::key_files)
    for (Setting st : settings)
      if (st != Setting::two_pc_dealer) throw std::invalid_argument("option '--keys': key files serve 2pc-dealer only (add --settings 2pc-dealer)");
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
          const PointResult res = run_point(p);
          const std::vector<LayerRow> rows = layer_rows(res);
          const LayerRow& total = rows[0];    // (total)
          const LayerRow& offline = rows[1];  // (offline)
          const double online_parties = st == Setting::two_pc_dealer ? 2.0 : static_cast<double>(roles_of(st).size());
          std::printf("\n[%s%s] m=%lld lora=%lld: online %.3f MB sent (all parties; %.3f MB per party), %llu rounds, %.4f s simulated; offline %.3f MB\n",
                      setting_name(st), st == Setting::two_pc_dealer ? (fss ? " fss" : " poly") : "", m, r,
                      static_cast<double>(total.bytes_sent) / 1e6, static_cast<double>(total.bytes_sent) / 1e6 / online_parties,
                      static_cast<unsigned long long>(total.rounds), total.sim_time_s, static_cast<double>(offline.bytes_sent) / 1e6);
          if (p.correlations.source == CorrelationSourceKind::key_files)
            std::printf("  correlated randomness from the key files in %s (written by `marill deal`; offline bytes are theirs)\n", p.correlations.key_dir.c_str());
          if (!res.output_sha256.empty()) std::printf("  output (opened to the client) SHA-256 %s\n", res.output_sha256.c_str());
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
