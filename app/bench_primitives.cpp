// `marill bench primitives`: each secure primitive at a few shapes in each setting, one session per
// (setting, op, shape), printed as a table and optionally written as CSV (one row per party and
// phase). Costs are the op's own (inputs are shared first and excluded).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/session.h"
#include "protocols/functions/functions.h"
#include "app/commands.h"
#include "app/cli.h"
#include "protocols/ring/prg.h"

namespace marill {

namespace {

struct OpSpec {
  std::string op;
  Shape a, b;  // operand shapes (b unused for unary ops)
};

struct Row {
  std::string setting, op, shape, party, phase;
  u64 bytes_sent;
  u64 rounds;
  double sim_time_s, cpu_time_s;
  i64 elements;
};

std::string shape_label(const OpSpec& s) {
  if (s.op == "matmul") return std::to_string(s.a[0]) + "x" + std::to_string(s.a[1]) + "x" + std::to_string(s.b[1]);
  return shape_str(s.a);
}

i64 out_elements(const OpSpec& s) { return s.op == "matmul" ? s.a[0] * s.b[1] : shape_numel(s.a); }

// Small random fixed-point values: products stay far inside the 2^62 truncation bound.
RingTensor random_values(const Shape& shape, const FixedPoint& fxp) {
  Prg prg = Prg::from_os();
  RingTensor t(shape);
  for (i64 i = 0; i < t.numel(); ++i) {
    double x = static_cast<double>(static_cast<i64>(prg.next_u64() % 2000001) - 1000000) / 1e5;
    t[i] = fxp.encode(x);
  }
  return t;
}

std::vector<Row> run_one(const SessionConfig& cfg, const OpSpec& spec) {
  RingTensor xa = random_values(spec.a, cfg.fxp);
  RingTensor xb = random_values(spec.b.empty() ? spec.a : spec.b, cfg.fxp);
  if (spec.op == "trunc") xa = mul_elem(xa, xb);  // a real product to truncate
  // The spline op: the SiLU gate of the function library in 2pc-dealer (57 pieces, bound 32768).
  const SplineTable& spline = silu_spline_table(cfg.fxp.frac_bits);
  Program prog = [&](Backend& be) {
    Shared a = be.input(Role::client, be.role() == Role::client ? xa : RingTensor::phantom(xa.shape()));
    Shared b = be.input(Role::server, be.role() == Role::server ? xb : RingTensor::phantom(xb.shape()));
    if (spec.op == "mul") be.mul(a, b);
    else if (spec.op == "matmul") be.matmul(a, b);
    else if (spec.op == "trunc") be.trunc(a, be.frac_bits());
    else if (spec.op == "ltz") be.ltz(a);
    else if (spec.op == "spline") be.spline(a, spline);
    else throw std::invalid_argument("unknown op " + spec.op);
  };
  SessionResult res = run_session(cfg, prog);
  const u64 op_rounds = res.op_rounds(spec.op);
  std::vector<Row> rows;
  for (const auto& p : res.parties) {
    for (Phase ph : {Phase::offline, Phase::online}) {
      auto it = p.ledger.by_op(ph).find(spec.op);
      if (it == p.ledger.by_op(ph).end()) continue;
      const OpCost& c = it->second;
      u64 rounds = ph == Phase::online ? op_rounds : (c.bytes_sent ? 1 : 0);
      rows.push_back(Row{setting_name(cfg.setting), spec.op, shape_label(spec), role_name(p.role), phase_name(ph),
                         c.bytes_sent, rounds, c.sim_s, c.cpu_s, out_elements(spec)});
    }
  }
  return rows;
}

}  // namespace

int bench_primitives(int argc, char** argv) {
  Args args(argc, argv, {"--csv", "--net", "--settings", "--frac-bits", "--quick"},
            "usage: marill bench primitives [--net lan|wan|custom:bw=..,lat=..] [--settings 3pc,2pc-dealer]\n"
            "                               [--frac-bits 16] [--csv FILE] [--quick]");
  if (args.help()) return 0;
  SessionConfig cfg;
  cfg.network = network_preset(args.get("--net", "lan"));
  cfg.fxp.frac_bits = args.get_int("--frac-bits", 16, 1, 30);
  std::vector<Setting> settings;
  for (const auto& s : split(args.get("--settings", "3pc,2pc-dealer"), ',')) settings.push_back(parse_setting(s));
  const bool quick = args.has("--quick");
  std::vector<OpSpec> specs = {
      {"mul", {1024}, {1024}},           {"mul", {16384}, {16384}},
      {"matmul", {64, 64}, {64, 64}},    {"matmul", {128, 256}, {256, 256}},
      {"trunc", {1024}, {1024}},         {"trunc", {16384}, {16384}},
      {"ltz", {1024}, {1024}},           {"ltz", {16384}, {16384}},
      {"spline", {1024}, {1024}},        {"spline", {16384}, {16384}},
  };
  if (quick) specs = {{"mul", {1024}, {1024}}, {"matmul", {64, 64}, {64, 64}}, {"trunc", {1024}, {1024}}, {"ltz", {1024}, {1024}}, {"spline", {1024}, {1024}}};

  std::ofstream csv;
  if (args.has("--csv")) {
    csv.open(args.get("--csv", ""));
    if (!csv) throw std::runtime_error("cannot write CSV file '" + args.get("--csv", "") + "'");
    csv << "setting,op,shape,party,phase,bytes_sent,rounds,sim_time_s,cpu_time_s,bytes_per_element\n";
  }
  std::printf("marill bench primitives: network %s (%.3g Gbit/s, %.3g ms one way), %d fractional bits\n",
              cfg.network.name.c_str(), cfg.network.link.bandwidth_bps / 1e9, cfg.network.link.latency_s * 1e3,
              cfg.fxp.frac_bits);
  std::printf("%-11s %-7s %-12s %-7s %-8s %12s %8s %7s %11s %10s\n", "setting", "op", "shape", "party", "phase",
              "bytes_sent", "B/elem", "rounds", "sim_time_s", "cpu_time_s");
  for (Setting st : settings) {
    cfg.setting = st;
    for (const auto& spec : specs) {
      for (const Row& r : run_one(cfg, spec)) {
        double per = static_cast<double>(r.bytes_sent) / static_cast<double>(r.elements);
        std::printf("%-11s %-7s %-12s %-7s %-8s %12llu %8.1f %7llu %11.6f %10.6f\n", r.setting.c_str(), r.op.c_str(),
                    r.shape.c_str(), r.party.c_str(), r.phase.c_str(), static_cast<unsigned long long>(r.bytes_sent), per,
                    static_cast<unsigned long long>(r.rounds), r.sim_time_s, r.cpu_time_s);
        if (csv)
          csv << r.setting << ',' << r.op << ',' << r.shape << ',' << r.party << ',' << r.phase << ',' << r.bytes_sent << ','
              << r.rounds << ',' << r.sim_time_s << ',' << r.cpu_time_s << ',' << per << '\n';
      }
    }
  }
  std::printf("B/elem: bytes sent by that party per output element; rounds: longest chain of dependent messages of\n"
              "the op across all parties (offline: the dealer's one-way stream); sim_time_s: the party's virtual clock\n"
              "growth during the op (CPU time + network model); cpu_time_s: measured thread CPU time.\n");
  return 0;
}

}  // namespace marill
