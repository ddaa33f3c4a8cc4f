#include "protocols/mpc/backend_3pc.h"

#include <stdexcept>

#include "protocols/comm/comm.h"
#include "protocols/comm/pair_keys.h"
#include "protocols/mpc/backend_3pc_parts.h"
#include "protocols/mpc/packed_words.h"
#include "protocols/ot/block.h"
#include "protocols/ring/work_meter.h"

namespace marill {

using three_pc::role_at;

ThreePcBackend::ThreePcBackend(Comm& comm, const BackendOptions& opt)
    : Backend(opt.fxp, opt.policy_for(Setting::three_pc)),
      comm_(comm),
      me_(role_index(comm.role())),
      next_(role_at(me_ + 1)),
      prev_(role_at(me_ + 2)),
      phantom_(opt.phantom),
      prg_next_(send_fresh_key(comm, role_at(me_ + 1))),
      prg_prev_(recv_key(comm, role_at(me_ + 2))),
      prg_own_(Prg::from_os()) {
  if (me_ > 2) throw std::invalid_argument("3pc: role must be client, server or helper");
}

Role ThreePcBackend::role() const { return comm_.role(); }
Ledger& ThreePcBackend::ledger() { return comm_.ledger(); }

RingTensor ThreePcBackend::zero_share(const Shape& shape) {
  return marill::sub(prg_next_.random(shape, phantom_), prg_prev_.random(shape, phantom_));
}

Shared ThreePcBackend::reshare(RingTensor z) {
  comm_.send(prev_, z);
  RingTensor zn = comm_.recv(next_, z.shape());
  return Shared{std::move(z), std::move(zn), {}};
}

void ThreePcBackend::add_public_inplace(Shared& a, const RingTensor& c) {
  // Component x_0 is held by P0 (as s0) and P2 (as s1).
  if (me_ == 0) add_inplace(a.s0, c);
  if (me_ == 2) add_inplace(a.s1, c);
}

Shared ThreePcBackend::input(Role owner, const RingTensor& value) {
  OpScope op(ledger(), "input");
  const int o = role_index(owner);
  if (o > 2) throw std::invalid_argument(std::string("3pc: input from ") + role_name(owner) + " (not a 3pc party)");
  const Shape& shape = value.shape();
  // x = c_o + c_{o+1} with c_o from the (o-1,o) pair PRG, c_{o+1} = x - c_o sent to P_{o+1}, c_{o-1} = 0.
  if (me_ == o) {
    if (value.is_phantom() && !phantom_) throw std::invalid_argument("3pc: the input owner must pass real data");
    RingTensor co = prg_prev_.random(shape, phantom_);
    RingTensor cn = marill::sub(value.is_phantom() ? RingTensor::phantom(shape) : value, co);
    comm_.send(next_, cn);
    return Shared{std::move(co), std::move(cn), {}};
  }
  RingTensor zero = phantom_ ? RingTensor::phantom(shape) : RingTensor(shape);
  if (me_ == (o + 1) % 3) return Shared{comm_.recv(prev_, shape), zero, {}};
  return Shared{zero, prg_next_.random(shape, phantom_), {}};  // P_{o-1}: (c_{o-1}=0, c_o)
}

RingTensor ThreePcBackend::reveal(const Shared& x, Role to) {
  OpScope op(ledger(), "reveal");
  const int j = role_index(to);
  if (j > 2) throw std::invalid_argument(std::string("3pc: reveal to ") + role_name(to) + " (not a 3pc party)");
  // P_j lacks x_{j+2}; P_{j+1} holds it as s1.
  if (me_ == (j + 1) % 3) comm_.send(to, x.s1);
  if (me_ != j) return RingTensor::phantom(x.shape());
  RingTensor missing = comm_.recv(role_at(j + 1), x.shape());
  return marill::add(marill::add(x.s0, x.s1), missing);
}

RingTensor ThreePcBackend::reveal_all(const Shared& x) {
  OpScope op(ledger(), "reveal");
  comm_.send(next_, x.s0);  // P_{i+1} lacks x_i
  RingTensor missing = comm_.recv(prev_, x.shape());
  return marill::add(marill::add(x.s0, x.s1), missing);
}

Shared ThreePcBackend::mul(const Shared& a, const Shared& b) {
  OpScope op(ledger(), "mul");
  ledger().record_macs(static_cast<u64>(a.numel()));
  require_same(a, b, "mul");
  // z_i = x_i y_i + x_i y_{i+1} + x_{i+1} y_i + alpha_i
  RingTensor z = mul_elem(a.s0, marill::add(b.s0, b.s1));
  add_inplace(z, mul_elem(a.s1, b.s0));
  add_inplace(z, zero_share(a.shape()));
  return reshare(std::move(z));
}

Shared ThreePcBackend::matmul(const Shared& a, const Shared& b) {
  OpScope op(ledger(), "matmul");
  ledger().record_macs(matmul_macs(a.shape(), b.shape()));
  RingTensor z = marill::matmul(a.s0, marill::add(b.s0, b.s1));
  add_inplace(z, marill::matmul(a.s1, b.s0));
  add_inplace(z, zero_share(z.shape()));
  return reshare(std::move(z));
}

std::vector<Shared> ThreePcBackend::matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) {
  OpScope op(ledger(), "matmul");
  // Every product's 3-of-3 share, flattened side by side: one reshare for all.
  std::vector<RingTensor> zs;
  std::vector<Shape> shapes;
  for (const auto& [a, b] : pairs) {
    ledger().record_macs(matmul_macs(a.shape(), b.shape()));
    RingTensor z = marill::matmul(a.s0, marill::add(b.s0, b.s1));
    add_inplace(z, marill::matmul(a.s1, b.s0));
    add_inplace(z, zero_share(z.shape()));
    shapes.push_back(z.shape());
    zs.push_back(z.reshaped({z.numel()}));
  }
  if (zs.empty()) return {};
  Shared all = reshare(marill::concat(zs, 0));
  std::vector<Shared> out;
  i64 at = 0;
  for (const Shape& sh : shapes) {
    const i64 n = shape_numel(sh);
    out.push_back(map(all, [&](const RingTensor& t) { return slice(t, 0, at, at + n).reshaped(sh); }));
    at += n;
  }
  return out;
}

Shared ThreePcBackend::trunc(const Shared& x, int d) {
  OpScope op(ledger(), "trunc");
  // The 2-of-2 view of x between the two non-dealers: the first holds x_a + x_{a+1} (its own two
  // components), the second x_{a+2}.
  return trunc_parts(marill::add(x.s0, x.s1), x.s1, nullptr, d);
}

Shared ThreePcBackend::mul_trunc_bits(const Shared& a, const Shared& b, int bits) {
  OpScope op(ledger(), "mul_trunc");
  ledger().record_macs(static_cast<u64>(a.numel()));
  require_same(a, b, "mul");
  // The local cross terms z_i form a 3-of-3 sharing of a*b; truncating it directly saves the
  // mul's re-sharing.
  RingTensor z = mul_elem(a.s0, marill::add(b.s0, b.s1));
  add_inplace(z, mul_elem(a.s1, b.s0));
  return trunc_parts(z, z, &z, bits);
}

namespace {
// This party's term of a 3-of-3 sharing of a b: the local cross terms of the replicated shares.
RingTensor matmul_3of3(const Shared& a, const Shared& b) {
  RingTensor z = marill::matmul(a.s0, marill::add(b.s0, b.s1));
  add_inplace(z, marill::matmul(a.s1, b.s0));
  return z;
}
}  // namespace

Shared ThreePcBackend::matmul_trunc_bits(const Shared& a, const Shared& b, int bits) {
  OpScope op(ledger(), "matmul_trunc");
  ledger().record_macs(matmul_macs(a.shape(), b.shape()));
  RingTensor z = matmul_3of3(a, b);
  return trunc_parts(z, z, &z, bits);
}

Shared ThreePcBackend::matmul_cache_trunc_kept(const Shared& x, Shared& cache, bool transposed, const OutputSubset& kept) {
  OpScope op(ledger(), "matmul_trunc");
  const Shared y = transposed ? map(cache, [](const RingTensor& t) { return transpose_last2(t); }) : cache;
  ledger().record_macs(matmul_macs(x.shape(), y.shape()));
  // Only the kept outputs' 3-of-3 terms are truncated (and so re-shared); the rest are dropped.
  const RingTensor z = matmul_3of3(x, y);
  RingTensor zk = gather_flat(z, kept.pos, {kept.count});
  const Shared t = trunc_parts(zk, zk, &zk, frac_bits());
  return Shared{scatter_flat(t.s0, kept.pos, z.shape()), scatter_flat(t.s1, kept.pos, z.shape()), {}};
}

Shared ThreePcBackend::mmul_sv_trunc(const Shared& x, const PrivateWeight& w, int bits) {
  require_weight_set_up(w);
  return matmul_trunc_bits(x, w.shares, bits);
}

Shared ThreePcBackend::mul_rows_trunc(const Shared& x, const Shared& y, const RowLengths& lengths, int bits) {
  require_rows(x, y, lengths);
  const Shape& s = x.shape();
  return mul_trunc_bits(x, map(y, [&](const RingTensor& t) { return repeat_rows(t, lengths).reshaped(s); }), bits);
}

void ThreePcBackend::send_bits(Role to, const Bits& b) {
  count_work(WorkKind::bit_word, b.planes * b.words());  // packing, real or phantom
  if (b.phantom) return comm_.send_bytes(to, nullptr, b.packed_bytes());
  const std::vector<std::uint8_t> bytes = b.packed();
  comm_.send_bytes(to, bytes.data(), bytes.size());
}

void ThreePcBackend::send_low_bits(Role to, const RingTensor& t, int d) { marill::send_low_bits(comm_, to, t, d); }

RingTensor ThreePcBackend::recv_low_bits(Role from, const Shape& shape, int d) {
  return marill::recv_low_bits(comm_, from, shape, d, phantom_);
}

Bits ThreePcBackend::recv_bits(Role from, i64 n, int planes) {
  Bits b = Bits::zeros(n, planes, phantom_);
  count_work(WorkKind::bit_word, b.planes * b.words());  // unpacking, real or phantom
  const std::vector<std::uint8_t> bytes = comm_.recv_bytes(from, b.packed_bytes());
  return phantom_ ? b : Bits::from_packed(bytes, n, planes);
}

}  // namespace marill
