// `marill bench he`: the 2PC setting's secure matrix product by homomorphic encryption
// (protocols/he/he_matmul.h). X shared between client and server, W the server's private weight:
// bytes each way, round trips, wall and CPU time per party, the HE parameters and the noise margin;
// the one-time key set-up reported apart. Both parties run in this process over the simulated network
// (actors/memory_transport.h), and every product is checked against ring_matmul.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/memory_transport.h"
#include "app/cli.h"
#include "app/commands.h"
#include "protocols/he/he_matmul.h"
#include "protocols/ring/cpu_meter.h"

namespace marill {

namespace {

struct ShapeArg {
  i64 m, k, n;
};

ShapeArg parse_shape(const std::string& s) {
  ShapeArg r{};
  int used = 0;
  if (std::sscanf(s.c_str(), "%ldx%ldx%ld%n", &r.m, &r.k, &r.n, &used) != 3 || used != static_cast<int>(s.size()) || r.m < 1 || r.k < 1 || r.n < 1)
    throw std::invalid_argument("'" + s + "' is not a shape MxKxN (e.g. 128x768x768)");
  return r;
}

}  // namespace

int bench_he(int argc, char** argv) {
  Args args(argc, argv, {{"--shapes", Opt::texts}, {"--weight-bits", Opt::integer}, {"--network", Opt::text}},
            "usage: marill bench he [--shapes 128x768x768,64x256x256,128x768x3072] [--weight-bits 32] [--network lan]\n"
            "The 2PC matrix product X*W (X shared, W the server's) by RLWE homomorphic encryption: one round trip,\n"
            "bytes each way, time, HE parameters and noise margin; the one-time key set-up apart.\n");
  if (args.help()) return 0;
  std::vector<ShapeArg> shapes;
  for (const std::string& s : args.get_texts("--shapes", {"128x768x768", "64x256x256", "128x768x3072"}))
    shapes.push_back(args.parsed("--shapes", s, parse_shape));
  HeMatmulOptions opt;
  opt.weight_bits = static_cast<int>(args.get_int("--weight-bits", 32, 1, 48));
  const NetworkModel network = args.parsed("--network", args.get("--network", "lan"), [](const std::string& v) { return network_preset(v); });

  const std::shared_ptr<const HeContext> ctx = he_context(opt.params);
  std::printf("marill bench he: secure X*W, X (m x k) shared in Z_2^64, W (k x n) the server's, |w| < 2^%d\n", opt.weight_bits);
  std::printf("  HE: RLWE, coefficient encoding (Cheetah), %s\n", ctx->describe().c_str());
  std::printf("      secret uniform ternary, errors centred binomial eta=%d (sigma %.2f), flooding 2^-%d statistical, 128-bit security\n",
              opt.params.noise_eta, std::sqrt(opt.params.noise_eta / 2.0), opt.params.flood_bits);

  Prg prg = Prg::from_os();
  struct Inputs {
    RingTensor xc, xs, w;
  };
  std::vector<Inputs> inputs;
  for (const ShapeArg& s : shapes) {
    Inputs in{prg.random({s.m, s.k}), prg.random({s.m, s.k}), RingTensor({s.k, s.n})};
    // Fixed-point-like weights: centred, 20 bits (|w| < 16 with 16 fractional bits).
    for (i64 i = 0; i < in.w.numel(); ++i) in.w[i] = static_cast<u64>(static_cast<std::int64_t>(prg.next_u64() % (u64{1} << 21)) - (std::int64_t{1} << 20));
    inputs.push_back(std::move(in));
  }
  std::vector<RingTensor> client_out(shapes.size()), server_out(shapes.size());
  std::vector<HeMatmulPlan> plans(shapes.size());
  std::vector<double> wall(shapes.size());
  double setup_wall = 0;
  auto label = [&](std::size_t i) { return "he_matmul " + std::to_string(shapes[i].m) + "x" + std::to_string(shapes[i].k) + "x" + std::to_string(shapes[i].n); };

  const CommPairResult res = run_comm_pair(
      Role::client,
      [&](Comm& c) {
        HeMatmul he(c, Role::server, opt);
        const auto t0 = std::chrono::steady_clock::now();
        {
          OpScope op(c.ledger(), "he_setup");
          he.set_up();
        }
        setup_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (std::size_t i = 0; i < shapes.size(); ++i) {
          OpScope op(c.ledger(), label(i));
          const auto t1 = std::chrono::steady_clock::now();
          client_out[i] = he.client_product(inputs[i].xc, shapes[i].n);
          wall[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
          plans[i] = he.last_plan();
        }
      },
      Role::server,
      [&](Comm& c) {
        HeMatmul he(c, Role::client, opt);
        {
          OpScope op(c.ledger(), "he_setup");
          he.set_up();
        }
        for (std::size_t i = 0; i < shapes.size(); ++i) {
          OpScope op(c.ledger(), label(i));
          server_out[i] = he.server_product(inputs[i].xs, inputs[i].w);
        }
      },
      network, false, std::chrono::milliseconds(600000));

  // The set-up's bytes are offline; its CPU lands in the phase the party is in when the scope closes.
  auto both_phases = [](const Ledger& l, const std::string& op) {
    OpCost sum;
    for (Phase ph : {Phase::offline, Phase::online}) {
      const auto it = l.by_op(ph).find(op);
      if (it != l.by_op(ph).end()) sum += it->second;
    }
    return sum;
  };
  const OpCost cs = both_phases(res.a, "he_setup"), ss = both_phases(res.b, "he_setup");
  std::printf("  key set-up (offline, once): client->server %.3f MB (public key + %d Galois keys, seeded), %.2f s wall, CPU client %.2f s server %.2f s\n",
              cs.bytes_sent / 1e6, std::min(opt.max_pack_log, opt.params.log_n), setup_wall, cs.cpu_s, ss.cpu_s);
  std::printf("  %-16s %-12s %5s %10s %10s %10s %6s %8s %8s %8s %7s %6s\n", "shape", "block", "cts", "up MB", "down MB", "total MB", "round", "wall s",
              "cpu_c s", "cpu_s s", "margin", "exact");
  bool all_exact = true;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const OpCost& c = res.a.by_op(Phase::online).at(label(i));
    const OpCost& s = res.b.by_op(Phase::online).at(label(i));
    const RingTensor want = matmul(add(inputs[i].xc, inputs[i].xs), inputs[i].w);
    const bool exact = add(client_out[i], server_out[i]).values() == want.values();
    all_exact &= exact;
    const HeMatmulPlan& p = plans[i];
    char block[32], shape[32], cts[32];
    std::snprintf(block, sizeof block, "%ldx%ldx%ld", p.mw, p.kw, p.nw);
    std::snprintf(shape, sizeof shape, "%ldx%ldx%ld", p.m, p.k, p.n);
    std::snprintf(cts, sizeof cts, "%ld/%ld", p.in_cts, p.packed_cts);
    std::printf("  %-16s %-12s %5s %10.3f %10.3f %10.3f %6d %8.2f %8.2f %8.2f %6.1fb %6s\n", shape, block, cts, c.bytes_sent / 1e6, s.bytes_sent / 1e6,
                (c.bytes_sent + s.bytes_sent) / 1e6, static_cast<int>((c.messages + s.messages) / 2), wall[i], c.cpu_s, s.cpu_s,
                p.format.noise.margin_bits(), exact ? "yes" : "NO");
    std::printf("  %-16s response at 2^%d, b's low %d bits dropped; noise bound %.3g of budget %.3g (flood 2^%.0f before switching)\n", "",
                p.format.k_bits, p.format.drop_bits, p.format.noise.switched, p.format.noise.budget, std::log2(p.format.noise.flood));
  }
  std::printf("  block = mw x kw x nw (Cheetah packing, kw products packed per response ciphertext); cts = uploaded/returned ciphertexts;\n"
              "  round = round trips; margin = log2(noise budget / worst-case noise bound)\n");
  if (!all_exact) {
    std::fprintf(stderr, "marill bench he: a product differs from ring_matmul\n");
    return 1;
  }
  return 0;
}

}  // namespace marill
