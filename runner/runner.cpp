#include "runner/runner.h"

#include <memory>
#include <stdexcept>

#include "models/package/package.h"
#include "models/secure/block_weights.h"
#include "protocols/functions/functions.h"
#include "protocols/ring/prg.h"

namespace marill {

namespace {

// Whether `role` holds the inputs of `owner` (in cleartext the one party holds everything).
bool holds(const Point& p, Role role, Role owner) { return p.setting == Setting::cleartext || role == owner; }

Program block_program(const Point& p, Role role, std::shared_ptr<std::string> output_digest) {
  auto weights = std::make_shared<const FloatBlock>(party_block(p, role));
  const bool client_values = holds(p, role, Role::client) && p.mode == Mode::real;
  const i64 b = p.b, step = p.step_tokens(), d = weights->shape.d_model;
  const bool decode = p.stage == Stage::decode, reveal = p.reveal_output;
  const int blocks = p.blocks;
  return [weights, client_values, b, step, d, decode, reveal, blocks, output_digest](Backend& be) {
    std::vector<SecureBlock> blk;
    for (int i = 0; i < blocks; ++i) blk.push_back(setup_block(be, *weights));
    std::vector<KvCache> cache(static_cast<size_t>(blocks));
    auto hidden_state = [&](i64 n) {  // the client's input: the public layers' output for n tokens
      if (!client_values) return be.input(Role::client, RingTensor::phantom({n, d}));
      std::vector<double> x(static_cast<size_t>(n * d), 0.5);
      return be.input(Role::client, be.fxp().encode(x, {n, d}));
    };
    auto forward = [&](Shared x) {
      for (int i = 0; i < blocks; ++i) x = block_forward(be, blk[static_cast<size_t>(i)], x, cache[static_cast<size_t>(i)]);
      return x;
    };
    if (decode) forward(hidden_state(b));  // fills the KV caches
    Shared x = hidden_state(step);
    Shared y;
    {
      OpScope op(be.ledger(), "forward");
      y = forward(x);
    }
    if (!reveal) return;
    OpScope op(be.ledger(), "output");
    RingTensor out = be.reveal(y, Role::client);
    if (output_digest && (be.role() == Role::client || be.setting() == Setting::cleartext) && !out.is_phantom())
      *output_digest = pkg::sha256_hex(out.data(), static_cast<size_t>(out.numel()) * 8);
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
  cfg.correlations = p.correlations;
  if (p.compute_model) cfg.compute_model = p.compute_model;
  return cfg;
}

Program party_program(const Point& p, Role role, std::shared_ptr<std::string> output_digest) {
  p.validate();
  return p.workload == Workload::block ? block_program(p, role, output_digest) : primitive_program(p, role);
}

PartyReport run_party(const Point& p, Role role, Transport& transport, std::shared_ptr<std::string> output_digest,
                      std::optional<std::chrono::milliseconds> recv_timeout) {
  SessionConfig cfg = session_config(p);
  if (recv_timeout) cfg.recv_timeout = *recv_timeout;
  return run_party(cfg, role, transport, [&p, output_digest](Role r) { return party_program(p, r, output_digest); });
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
  auto digest = std::make_shared<std::string>();  // written by the client's program, in this process
  res.session = run_parties(session_config(p), [p, digest](Role r) { return party_program(p, r, digest); });
  res.output_sha256 = *digest;
  return res;
}

DealReport deal_point(const Point& p, const std::string& dir) {
  p.validate();
  if (p.setting != Setting::two_pc_dealer) throw std::invalid_argument(std::string("deal: only 2pc-dealer has a dealer, not ") + setting_name(p.setting));
  if (p.mode != Mode::real) throw std::invalid_argument("deal: a phantom run needs no key files (use the size-only source)");
  const SessionConfig cfg = session_config(p);
  return deal_key_files(backend_options(cfg), dir, party_program(p, Role::dealer));
}

}  // namespace marill
