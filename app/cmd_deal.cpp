// `marill deal`: the dealer of 2pc-dealer in a run of its own. It runs the point's program on the
// dealer's backend and writes each online party's key file (DIR/client.keys, DIR/server.keys);
// the online run then reads them: `marill bench layer --settings 2pc-dealer --keys DIR` with the
// same point options. Key files are secrets of their party: hand each party only its own.
#include <cstdio>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "app/layer_options.h"
#include "runner/runner.h"

namespace marill {

int cmd_deal(int argc, char** argv) {
  Args args(argc, argv,
            layer_point_options({{"--merge", Opt::integer}, {"--lora", Opt::integer}, {"--fss", Opt::text}}),
            "usage: marill deal --keys DIR [--merge 1] [--lora 0] [--fss on|off]\n"
            "                   " + std::string(kLayerPointUsage) +
            "Writes DIR/client.keys and DIR/server.keys for the 2pc-dealer run of this block point.\n");
  if (args.help()) return 0;
  if (!args.has("--keys")) throw std::invalid_argument("option '--keys': where to write the key files (a directory)");
  Point p = layer_point(args);
  p.setting = Setting::two_pc_dealer;
  p.marill.merge = static_cast<int>(args.get_int("--merge", 1, 1, 4096));
  p.marill.lora = args.get_int("--lora", 0, 0, 1 << 16);
  const std::string fss = args.get("--fss", "on");
  if (fss != "on" && fss != "off") throw std::invalid_argument("option '--fss': expected on or off, got '" + fss + "'");
  p.fss_gates = fss == "on";
  const std::string dir = p.correlations.key_dir;
  const DealReport r = deal_point(p, dir);
  const OpCost& off = r.ledger.total(Phase::offline);
  std::printf("marill deal: %s block, d=%lld, %lld heads, ffn=%lld, %s b=%lld, m=%d, LoRA %lld, %d block(s), fss %s\n",
              arch_name(p.model.arch), static_cast<long long>(p.model.d_model), static_cast<long long>(p.model.n_heads),
              static_cast<long long>(p.model.ffn_dim), stage_name(p.stage), static_cast<long long>(p.b), p.marill.merge,
              static_cast<long long>(p.marill.lora), p.blocks, fss.c_str());
  std::printf("  %-34s %14llu bytes (%.1f MB)\n", (dir + "/client.keys").c_str(), static_cast<unsigned long long>(r.file_bytes[0]),
              static_cast<double>(r.file_bytes[0]) / 1e6);
  std::printf("  %-34s %14llu bytes (%.1f MB)\n", (dir + "/server.keys").c_str(), static_cast<unsigned long long>(r.file_bytes[1]),
              static_cast<double>(r.file_bytes[1]) / 1e6);
  std::printf("  dealt material %.1f MB in %llu records, dealer CPU %.2f s%s\n", static_cast<double>(off.bytes_sent) / 1e6,
              static_cast<unsigned long long>(off.messages), r.cpu_s, p.correlations.dealer_seed ? " (seeded dealer)" : "");
  return 0;
}

}  // namespace marill
