// `marill bench layer`: cost of one private transformer block by operation kind, so a user sees
// e.g. "softmax is X% of bytes" and how merging heads (m) or LoRA (r) changes it. Random weights
// of the requested shape; the costs of secure programs do not depend on the values.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/session.h"
#include "app/cli.h"
#include "app/commands.h"
#include "models/secure/block_weights.h"
#include "models/secure/secure_transformer.h"

namespace marill {

namespace {

struct KindRow {
  u64 bytes = 0;
  u64 rounds = 0;
  u64 macs = 0;  // secret x secret multiply-accumulates (one party's count)
  double sim_s = 0;
};

}  // namespace

int bench_layer(int argc, char** argv) {
  Args args(argc, argv,
            {"--settings", "--net", "--arch", "--b", "--d", "--heads", "--ffn", "--merge", "--lora", "--stage", "--softmax", "--act",
             "--frac-bits", "--fss", "--policy", "--phantom", "--csv"},
            "usage: marill bench layer [--settings 3pc,2pc-dealer] [--net lan] [--arch llama|gpt2] [--b 128] [--d 256]\n"
            "                          [--heads 8] [--ffn 4*d] [--merge 1,2,4] [--lora 0,8,64] [--stage prefill|decode]\n"
            "                          [--softmax exact|2relu|2quad] [--act exact|relu|quad] [--frac-bits 16] [--fss on|off|on,off]\n"
            "                          [--policy silu=poly,exp=spline,...] [--phantom] [--csv FILE]\n"
            "--fss: 2pc-dealer functions as FSS spline gates (on, default) or polynomials (off: 3pc's methods)\n"
            "--policy: function methods over each setting's default (names: silu gelu exp reciprocal rsqrt softmax act)");
  if (args.help()) return 0;
  std::vector<Setting> settings;
  for (const auto& s : split(args.get("--settings", "3pc,2pc-dealer"), ',')) settings.push_back(parse_setting(s));
  const std::string stage = args.get("--stage", "prefill");
  if (stage != "prefill" && stage != "decode") throw std::invalid_argument("--stage: expected prefill or decode, got '" + stage + "'");
  const i64 b = args.get_int("--b", 128, 1, 1 << 16);
  BlockShape base;
  base.arch = parse_arch(args.get("--arch", "llama"));
  base.d_model = args.get_int("--d", 256, 1, 1 << 16);
  base.n_heads = args.get_int("--heads", 8, 1, 4096);
  base.ffn_dim = args.get_int("--ffn", static_cast<int>(4 * base.d_model), 1, 1 << 20);
  // Approximations and method overrides, applied over each setting's default policy.
  const std::string overrides = "softmax=" + args.get("--softmax", "exact") + ",act=" + args.get("--act", "exact") +
                                (args.has("--policy") ? "," + args.get("--policy", "") : "");
  const FunctionPolicy shown = parse_policy(overrides, FunctionPolicy{});  // checks the names before any run
  std::vector<int> merges, loras;
  for (const auto& m : split(args.get("--merge", "1,2,4"), ',')) merges.push_back(std::stoi(m));
  for (const auto& r : split(args.get("--lora", "0"), ',')) loras.push_back(std::stoi(r));
  std::vector<bool> fss_modes;
  for (const auto& f : split(args.get("--fss", "on"), ',')) {
    if (f != "on" && f != "off") throw std::invalid_argument("--fss: expected on, off or on,off, got '" + f + "'");
    fss_modes.push_back(f == "on");
  }

  std::ofstream csv;
  if (args.has("--csv")) {
    csv.open(args.get("--csv", ""));
    if (!csv) throw std::runtime_error("cannot write CSV file '" + args.get("--csv", "") + "'");
    csv << "setting,arch,stage,b,d,heads,merge,lora,fss,kind,party,bytes_sent,bytes_share,rounds,secure_macs,sim_time_s\n";
  }
  std::printf("marill bench layer: %s block, d=%lld, %lld heads, ffn=%lld, %s b=%lld, softmax %s, act %s\n", arch_name(base.arch),
              static_cast<long long>(base.d_model), static_cast<long long>(base.n_heads), static_cast<long long>(base.ffn_dim),
              stage.c_str(), static_cast<long long>(b), approx_name(shown.softmax), approx_name(shown.act));
  for (Setting st : settings)
    for (bool fss : fss_modes)
    for (int m : merges)
      for (int r : loras) {
        if (!fss && st != Setting::two_pc_dealer) continue;  // only 2pc-dealer has FSS gates
        BlockShape s = base;
        s.merge = m;
        s.validate();
        FloatBlock w = args.has("--phantom") ? shape_only_block(s, r) : random_block(s, r);
        SessionConfig cfg;
        cfg.setting = st;
        cfg.network = network_preset(args.get("--net", "lan"));
        cfg.fxp.frac_bits = args.get_int("--frac-bits", 16, 1, 30);
        cfg.phantom = args.has("--phantom");
        cfg.policy = parse_policy(overrides, default_policy(fss ? st : Setting::three_pc));  // --fss off: 3pc's methods
        const i64 T = stage == "prefill" ? b : 1;
        SessionResult res = run_session(cfg, [&](Backend& be) {
          SecureBlock blk = setup_block(be, w);
          KvCache cache;
          auto tokens = [&](i64 n) {
            bool mine = be.role() == Role::client && !be.phantom();
            if (!mine) return be.input(Role::client, RingTensor::phantom({n, s.d_model}));
            return be.input(Role::client, be.fxp().encode(std::vector<double>(static_cast<size_t>(n * s.d_model), 0.5), {n, s.d_model}));
          };
          if (stage == "decode") block_forward(be, blk, tokens(b), cache);  // fills the KV cache
          Shared x = tokens(T);
          OpScope op(be.ledger(), "forward");
          block_forward(be, blk, x, cache);
        });
        // Kinds: the paths below "forward", summed over the online parties.
        std::map<std::string, KindRow> kinds;
        u64 total = 0;
        for (const auto& p : res.parties) {
          for (const auto& [path, c] : p.ledger.by_op(Phase::online)) {
            if (path == "forward") total += c.bytes_sent;
            if (path.rfind("forward/", 0) != 0) continue;
            std::string kind = path.substr(8);
            if (std::count(kind.begin(), kind.end(), '/') > 1) continue;  // two levels deep at most
            kinds[kind].bytes += c.bytes_sent;
            kinds[kind].rounds = std::max(kinds[kind].rounds, c.rounds);
            kinds[kind].sim_s = std::max(kinds[kind].sim_s, c.sim_s);
            kinds[kind].macs = std::max(kinds[kind].macs, c.secure_macs);
          }
        }
        u64 offline = 0;
        for (const auto& p : res.parties)
          for (const auto& [path, c] : p.ledger.by_op(Phase::offline))
            if (path == "forward") offline += c.bytes_sent;
        const double online_parties = st == Setting::two_pc_dealer ? 2.0 : static_cast<double>(std::max<size_t>(1, res.parties.size()));
        std::printf("\n[%s%s] m=%d lora=%d: online %.3f MB sent (all parties; %.3f MB per party), %llu rounds, %.4f s simulated; offline %.3f MB\n",
                    setting_name(st), st == Setting::two_pc_dealer ? (fss ? " fss" : " poly") : "", m, r, static_cast<double>(total) / 1e6,
                    static_cast<double>(total) / 1e6 / online_parties, static_cast<unsigned long long>(res.op_rounds("forward")),
                    res.online_time_s(), static_cast<double>(offline) / 1e6);
        if (csv) {  // the block's totals: online bytes (all parties) with its session-wide rounds, and the dealer's offline bytes
          const std::string key = std::string(setting_name(st)) + ',' + arch_name(s.arch) + ',' + stage + ',' + std::to_string(b) + ',' +
                                  std::to_string(s.d_model) + ',' + std::to_string(s.n_heads) + ',' + std::to_string(m) + ',' + std::to_string(r) + ',' + (fss ? "on" : "off");
          csv << key << ",(total),all," << total << ",1," << res.op_rounds("forward") << ",0," << res.online_time_s() << '\n';
          csv << key << ",(offline),all," << offline << ",0,0,0,0\n";
        }
        std::printf("  %-36s %14s %7s %8s %14s %9s\n", "kind", "bytes_sent", "share", "rounds", "secure_macs", "sim_s");
        for (const auto& [kind, k] : kinds) {
          double share = total ? 100.0 * static_cast<double>(k.bytes) / static_cast<double>(total) : 0.0;
          std::printf("  %-36s %14llu %6.1f%% %8llu %14llu %9.4f\n", kind.c_str(), static_cast<unsigned long long>(k.bytes), share,
                      static_cast<unsigned long long>(k.rounds), static_cast<unsigned long long>(k.macs), k.sim_s);
          if (csv)
            csv << setting_name(st) << ',' << arch_name(s.arch) << ',' << stage << ',' << b << ',' << s.d_model << ',' << s.n_heads << ','
                << m << ',' << r << ',' << (fss ? "on" : "off") << ',' << kind << ",all," << k.bytes << ',' << share / 100.0 << ',' << k.rounds << ',' << k.macs << ',' << k.sim_s << '\n';
        }
      }
  return 0;
}

}  // namespace marill
