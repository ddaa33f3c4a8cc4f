#include "app/layer_options.h"

#include <stdexcept>
#include <string>

#include "protocols/ot/ot_extension.h"

namespace marill {

const char* const kLayerPointUsage =
    "[--net lan] [--arch llama|gpt2] [--b 128] [--d 256] [--heads 8] [--ffn 4*d] [--stage prefill|decode]\n"
    "        [--softmax exact|2relu|2quad] [--act exact|relu|quad] [--frac-bits 16] [--policy silu=poly,exp=spline,...]\n"
    "        [--blocks 1] [--phantom] [--calibration FILE] [--keys DIR] [--dealer-seed N] [--ot-k 8] [--reveal]\n"
    "--calibration: phantom runs' compute model (`marill calibrate --out FILE`; default: the built-in calibration)\n"
    "--policy: function methods over each setting's default (names: silu gelu exp reciprocal rsqrt softmax act)\n"
    "--blocks: identical private blocks one after the other\n"
    "--keys: 2pc-dealer reads its correlated randomness from the key files `marill deal --keys DIR` wrote\n"
    "--dealer-seed: the dealer's randomness from this seed (the same seed deals the same material: compare runs)\n"
    "--ot-k: 2pc's OT extension chunk size (SoftSpokenOT, 1 = IKNP .. 10): ceil(128/k) bits per OT, ~2^k/k PRG work\n"
    "--reveal: open the block's output to the client after the measured pass and print its SHA-256\n";

std::vector<Opt> layer_point_options(std::vector<Opt> more) {
  std::vector<Opt> opts{{"--net", Opt::text},       {"--arch", Opt::text},    {"--b", Opt::integer},      {"--d", Opt::integer},
                        {"--heads", Opt::integer},  {"--ffn", Opt::integer},  {"--stage", Opt::text},     {"--softmax", Opt::text},
                        {"--act", Opt::text},       {"--frac-bits", Opt::integer}, {"--policy", Opt::text}, {"--blocks", Opt::integer},
                        {"--phantom", Opt::flag},   {"--calibration", Opt::text}, {"--keys", Opt::text},    {"--dealer-seed", Opt::integer}, {"--ot-k", Opt::integer}, {"--reveal", Opt::flag}};
  opts.insert(opts.end(), more.begin(), more.end());
  return opts;
}

Point layer_point(const Args& args) {
  Point p;
  p.stage = args.parsed("--stage", args.get("--stage", "prefill"), parse_stage);
  p.b = args.get_int("--b", 128, 1, 1 << 16);
  const std::string arch = args.get("--arch", "llama");
  if (arch != "llama" && arch != "gpt2") throw std::invalid_argument("option '--arch': expected llama or gpt2, got '" + arch + "'");
  p.model.arch = arch == "gpt2" ? Arch::gpt2 : Arch::llama;
  p.model.d_model = args.get_int("--d", 256, 1, 1 << 16);
  p.model.n_heads = args.get_int("--heads", 8, 1, 4096);
  p.model.ffn_dim = args.get_int("--ffn", 4 * p.model.d_model, 1, 1 << 20);
  p.marill.softmax = args.parsed("--softmax", args.get("--softmax", "exact"), parse_softmax_approx);
  p.marill.act = args.parsed("--act", args.get("--act", "exact"), parse_act_approx);
  p.network = args.parsed("--net", args.get("--net", "lan"), network_preset);
  p.frac_bits = static_cast<int>(args.get_int("--frac-bits", 16, 1, 30));
  p.mode = args.has("--phantom") ? Mode::phantom : Mode::real;
  p.compute_model = compute_model_from(args.get("--calibration", ""));
  p.policy = args.get("--policy", "");
  p.blocks = static_cast<int>(args.get_int("--blocks", 1, 1, 4096));
  p.reveal_output = args.has("--reveal");
  if (args.has("--keys")) {
    if (args.has("--phantom")) throw std::invalid_argument("option '--keys': key files hold real material; a phantom run needs none");
    p.correlations.source = CorrelationSourceKind::key_files;
    p.correlations.key_dir = args.get("--keys", "");
  }
  if (args.has("--dealer-seed")) p.correlations.dealer_seed = static_cast<std::uint64_t>(args.get_int("--dealer-seed", 0, 0, (1LL << 62)));
  p.correlations.ot_softspoken_k = static_cast<int>(args.get_int("--ot-k", p.correlations.ot_softspoken_k, 1, kMaxSoftSpokenK));
  return p;
}

const char* const kBlockPointUsage =
    "[--setting 3pc|2pc-dealer] [--merge 1] [--lora 0] [--fss on|off]\n"
    "--fss: 2pc-dealer functions as FSS spline gates (on, default) or polynomials (off: 3pc's methods)\n";

std::vector<Opt> block_point_options(std::vector<Opt> more) {
  more.insert(more.end(), {{"--setting", Opt::text}, {"--merge", Opt::integer}, {"--lora", Opt::integer}, {"--fss", Opt::text}});
  return layer_point_options(std::move(more));
}

Point block_point(const Args& args) {
  Point p = layer_point(args);
  p.setting = args.parsed("--setting", args.get("--setting", "3pc"), parse_setting);
  p.marill.merge = static_cast<int>(args.get_int("--merge", 1, 1, 4096));
  p.marill.lora = args.get_int("--lora", 0, 0, 1 << 16);
  const std::string fss = args.get("--fss", "on");
  if (fss != "on" && fss != "off") throw std::invalid_argument("option '--fss': expected on or off, got '" + fss + "'");
  p.fss_gates = fss == "on";  // as bench layer: only 2pc-dealer has FSS gates, the others ignore it
  if (p.correlations.source == CorrelationSourceKind::key_files && p.setting != Setting::two_pc_dealer)
    throw std::invalid_argument("option '--keys': key files serve 2pc-dealer only (add --setting 2pc-dealer)");
  return p;
}

}  // namespace marill
