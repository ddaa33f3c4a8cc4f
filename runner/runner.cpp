#include "runner/runner.h"

#include <memory>
#include <stdexcept>

#include "models/secure/block_weights.h"
#include "protocols/functions/functions.h"
#include "protocols/ring/prg.h"

namespace marill {

namespace {

// Whether `role` holds the inputs of `owner` (in cleartext the one party holds everything).
bool holds(const Point& p, Role role, Role owner) { return p.setting == Setting::cleartext || role == owner; }

Program block_program(const Point& p, Role role) {
  auto weights = std::make_shared<const FloatBlock>(party_block(p, role));
  const BlockShape s = weights->shape;
  const bool client_values = holds(p, role, Role::client) && p.mode == Mode::real;
  const i64 b = p.b, step = p.step_tokens(), d = s.d_model;
  const bool decode = p.stage == Stage::decode;
  return [weights, client_values, b, step, d, decode](Backend& be) {
    SecureBlock blk = setup_block(be, *weights);
    KvCache cache;
    auto hidden_state = [&](i64 n) {  // the client's input: the public layers' output for n tokens
      if (!client_values) return be.input(Role::client, RingTensor::phantom({n, d}));
      std::vector<double> x(static_cast<size_t>(n * d), 0.5);
      return be.input(Role::client, be.fxp().encode(x, {n, d}));
    };
    if (decode) block_forward(be, blk, hidden_state(b), cache);  // fills the KV cache
    Shared x = hidden_state(step);
    OpScope op(be.ledger(), "forward");
    block_forward(be, blk, x, cache);
  };
}

// Small random fixed-point values from the party's own PRG: products stay far inside the 2^62
// truncation bound.
RingTensor random_operand(const Shape& shape, const FixedPoint& fxp) {
  Prg prg = Prg::from_os();
  RingTensor t(shape);
  for (i64 i = 0; i < t.numel(); ++i) {
    double x = static_cast<double>(static_cast<i64>(prg.next_u64() % 2000001) - 1000000) / 1e5;
    t[i] = fxp.encode(x);
  }
  return t;
}

Program primitive_program(const Point& p, Role role) {
  const PrimitiveOp op = p.primitive;
  const Shape b_shape = op.b.empty() ? op.a : op.b;
  FixedPoint fxp;
  fxp.frac_bits = p.frac_bits;
  const bool real = p.mode == Mode::real;
  // Client: operand a (for trunc, a product of two of its values, so there is something to
  // truncate); server: operand b. Other roles hold neither.
  auto a = std::make_shared<const RingTensor>(
      real && holds(p, role, Role::client)
          ? (op.op == "trunc" ? mul_elem(random_operand(op.a, fxp), random_operand(op.a, fxp)) : random_operand(op.a, fxp))
          : RingTensor::phantom(op.a));
  auto b = std::make_shared<const RingTensor>(real && holds(p, role, Role::server) ? random_operand(b_shape, fxp)
                                                                                   : RingTensor::phantom(b_shape));
  return [op, a, b](Backend& be) {
    Shared x = be.input(Role::client, *a);
    Shared y = be.input(Role::server, *b);
    if (op.op == "mul") be.mul(x, y);
    else if (op.op == "matmul") be.matmul(x, y);
    else if (op.op == "trunc") be.trunc(x, be.frac_bits());
    else if (op.op == "ltz") be.ltz(x);
    else if (op.op == "spline") be.spline(x, silu_spline_table(be.frac_bits()));  // the SiLU gate of 2pc-dealer
    else throw std::invalid_argument("unknown primitive " + op.op);
  };
}

}  // namespace

FloatBlock party_block(const Point& p, Role role) {
  const BlockShape s = p.block_shape();
  if (p.mode == Mode::phantom) return shape_only_block(s, p.marill.lora);
  if (holds(p, role, Role::server)) return random_block(s, p.marill.lora, p.weight_seed);
  if (p.marill.lora == 0) return shape_only_block(s, 0);  // every weight is private
  FloatBlock b = random_block(s, p.marill.lora, p.weight_seed);
  b.attn_norm.clear(), b.attn_norm_bias.clear(), b.mlp_norm.clear(), b.mlp_norm_bias.clear();
  for (FloatLinear* f : {&b.wq, &b.wk, &b.wv, &b.wo, &b.w_gate, &b.w_up, &b.w_down}) {
    f->lora_a.clear();
    f->lora_b.clear();
    f->bias.clear();
  }
  return b;
}

SessionConfig session_config(const Point& p) {
  SessionConfig cfg;
  cfg.setting = p.setting;
  cfg.network = p.network;
  cfg.fxp.frac_bits = p.frac_bits;
  cfg.phantom = p.mode == Mode::phantom;
  cfg.policy = p.function_policy();
  return cfg;
}

Program party_program(const Point& p, Role role) {
  p.validate();
  return p.workload == Workload::block ? block_program(p, role) : primitive_program(p, role);
}

PartyReport run_party(const Point& p, Role role, Transport& transport) {
  return run_party(session_config(p), role, transport, [&p](Role r) { return party_program(p, r); });
}

std::vector<PrimitiveOp> primitive_bench_ops(bool quick) {
  if (quick) return {{"mul", {1024}, {1024}}, {"matmul", {64, 64}, {64, 64}}, {"trunc", {1024}, {1024}}, {"ltz", {1024}, {1024}}, {"spline", {1024}, {1024}}};
  return {
      {"mul", {1024}, {1024}},           {"mul", {16384}, {16384}},
      {"matmul", {64, 64}, {64, 64}},    {"matmul", {128, 256}, {256, 256}},
      {"trunc", {1024}, {1024}},         {"trunc", {16384}, {16384}},
      {"ltz", {1024}, {1024}},           {"ltz", {16384}, {16384}},
      {"spline", {1024}, {1024}},        {"spline", {16384}, {16384}},
  };
}

PointResult run_point(const Point& p) {
  p.validate();  // here too: a bad point is the caller's error, not a party's abort
  PointResult res;
  res.point = p;
  res.session = run_parties(session_config(p), [p](Role r) { return party_program(p, r); });
  return res;
}

}  // namespace marill
