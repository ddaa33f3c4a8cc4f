#include "protocols/mpc/backend_3pc.h"

#include <cstring>
#include <stdexcept>

#include "protocols/comm/comm.h"
#include "protocols/comm/pair_keys.h"
#include "protocols/fss/trunc_mask.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {
Role role_at(int i) { return static_cast<Role>(((i % 3) + 3) % 3); }  // P0 client, P1 server, P2 helper
}  // namespace

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
  // 2-of-2 view of x between P0 and P1: P0 holds x0 + x1, P1 holds x2; the helper adds nothing.
  RingTensor z = me_ == 0 ? marill::add(x.s0, x.s1) : me_ == 1 ? x.s1 : RingTensor::phantom(x.shape());
  return trunc_additive(z, d, false);
}

Shared ThreePcBackend::mul_trunc(const Shared& a, const Shared& b) {
  OpScope op(ledger(), "mul_trunc");
  ledger().record_macs(static_cast<u64>(a.numel()));
  require_same(a, b, "mul");
  // The local cross terms z_i form a 3-of-3 sharing of a*b; truncating it directly saves the
  // mul's reshare round: 2 rounds instead of 3.
  RingTensor z = mul_elem(a.s0, marill::add(b.s0, b.s1));
  add_inplace(z, mul_elem(a.s1, b.s0));
  return trunc_additive(std::move(z), frac_bits(), true);
}

Shared ThreePcBackend::matmul_trunc(const Shared& a, const Shared& b) {
  OpScope op(ledger(), "matmul_trunc");
  ledger().record_macs(matmul_macs(a.shape(), b.shape()));
  RingTensor z = marill::matmul(a.s0, marill::add(b.s0, b.s1));
  add_inplace(z, marill::matmul(a.s1, b.s0));
  return trunc_additive(std::move(z), frac_bits(), true);
}

Shared ThreePcBackend::trunc_additive(RingTensor z, int d, bool helper_holds_part) {
  check_trunc_bits(d);
  const Shape shape = z.shape();
  const i64 n = shape_numel(shape);
  const Role P0 = Role::client, P1 = Role::server, P2 = Role::helper;
  // The helper acts as the dealer of protocols/fss/trunc_mask.h. Mask r = r_A + r_B (+ r_H): r_A from the (2,0)
  // pair PRG (P0 knows it), r_B from (1,2) (P1), r_H the helper's own (it masks the helper's part
  // of z, sent to both). The helper deals t = r >> d and h = MSB(r) as 2-of-2 shares: P0's from
  // the (2,0) PRG, P1's as a correction. P0 and P1 open c = z + 2^62 + r in one round, then
  // re-share their 2-of-2 result as replicated shares, masked for the helper (second round).
  if (me_ == 2) {
    RingTensor rA = prg_next_.random(shape, phantom_);  // (2,0)
    RingTensor rB = prg_prev_.random(shape, phantom_);  // (1,2)
    RingTensor tA = prg_next_.random(shape, phantom_);
    RingTensor hA = prg_next_.random(shape, phantom_);
    RingTensor r = marill::add(rA, rB);
    if (helper_holds_part) {
      RingTensor rH = prg_own_.random(shape, phantom_);
      RingTensor e = marill::add(z, rH);
      comm_.send(P0, e);
      comm_.send(P1, e);
      r = marill::add(r, rH);
    }
    RingTensor corr = marill::concat({marill::sub(shift_right_logical(r, d), tA).reshaped({n}),
                                      marill::sub(shift_right_logical(r, 63), hA).reshaped({n})}, 0);
    comm_.send(P1, corr);
    RingTensor y2 = comm_.recv(P1, shape);
    RingTensor y0 = comm_.recv(P0, shape);
    return Shared{std::move(y2), std::move(y0), {}};
  }
  RingTensor mine = me_ == 0 ? marill::add_scalar(marill::add(z, prg_prev_.random(shape, phantom_)), kTruncOffset)
                             : marill::add(z, prg_next_.random(shape, phantom_));
  RingTensor t_share, h_share;
  if (me_ == 0) {
    t_share = prg_prev_.random(shape, phantom_);
    h_share = prg_prev_.random(shape, phantom_);
  }
  const Role other = me_ == 0 ? P1 : P0;
  comm_.send(other, mine);
  RingTensor c = marill::add(mine, comm_.recv(other, shape));
  if (helper_holds_part) add_inplace(c, comm_.recv(P2, shape));
  if (me_ == 1) {
    RingTensor corr = comm_.recv(P2, Shape{2 * n});
    t_share = slice(corr, 0, 0, n).reshaped(shape);
    h_share = slice(corr, 0, n, 2 * n).reshaped(shape);
  }
  RingTensor y = trunc_share(c, t_share, h_share, d, me_ == 0);
  RingTensor rho = me_ == 0 ? prg_next_.random(shape, phantom_) : prg_prev_.random(shape, phantom_);   // (0,1)
  RingTensor rho2 = me_ == 0 ? prg_next_.random(shape, phantom_) : prg_prev_.random(shape, phantom_);  // (0,1)
  if (me_ == 0) {
    RingTensor y0 = marill::sub(marill::sub(y, rho), rho2);
    comm_.send(P2, y0);
    return Shared{std::move(y0), std::move(rho), {}};
  }
  RingTensor y2 = marill::add(y, rho2);
  comm_.send(P2, y2);
  return Shared{std::move(rho), std::move(y2), {}};
}

void ThreePcBackend::send_bits(Role to, const Bits& b) {
  comm_.send_bytes(to, b.phantom ? nullptr : reinterpret_cast<const std::uint8_t*>(b.w.data()), b.bytes());
}

Bits ThreePcBackend::recv_bits(Role from, i64 n, int planes) {
  Bits b = Bits::zeros(n, planes, phantom_);
  auto bytes = comm_.recv_bytes(from, b.bytes());
  if (!phantom_ && b.bytes()) std::memcpy(b.w.data(), bytes.data(), b.bytes());
  return b;
}

std::vector<ThreePcBackend::BShare> ThreePcBackend::and_many(const std::vector<BShare>& x, const std::vector<BShare>& y) {
  // One round for all pairs: z_i = x_i y_i ^ x_i y_{i+1} ^ x_{i+1} y_i ^ zero_i, sent to P_{i-1}.
  std::vector<Bits> xa, xb, ya, yb;
  for (size_t k = 0; k < x.size(); ++k) {
    xa.push_back(x[k].a); xb.push_back(x[k].b);
    ya.push_back(y[k].a); yb.push_back(y[k].b);
  }
  Bits A = bits_stack(xa), B = bits_stack(xb), C = bits_stack(ya), D = bits_stack(yb);
  Bits z = bits_xor(bits_and(A, bits_xor(C, D)), bits_and(B, C));
  const i64 words = z.planes * z.words();
  count_work(WorkKind::bit_word, words);  // the masking below
  if (!phantom_) {
    std::vector<u64> r1(z.w.size()), r2(z.w.size());
    prg_next_.fill(r1.data(), r1.size());
    prg_prev_.fill(r2.data(), r2.size());
    for (size_t i = 0; i < z.w.size(); ++i) z.w[i] ^= r1[i] ^ r2[i];
  } else {
    count_work(WorkKind::prg_byte, 2 * 8 * words);  // what the two fills count in a real run
  }
  send_bits(prev_, z);
  Bits zn = recv_bits(next_, z.n, z.planes);
  std::vector<BShare> out;
  int at = 0;
  for (const auto& xk : x) {
    out.push_back(BShare{bits_planes(z, at, xk.a.planes), bits_planes(zn, at, xk.a.planes)});
    at += xk.a.planes;
  }
  return out;
}

ThreePcBackend::BShare ThreePcBackend::msb_binary(const Shared& x, int K) {
  OpScope op(ledger(), "msb");
  const i64 n = x.numel();
  const bool ph = phantom_;
  // Binary replicated sharings of the three arithmetic components: [x_j] has component j = x_j.
  // P_i holds components (i, i+1): x_i = s0, x_{i+1} = s1.
  Bits own = Bits::from_ring(x.s0, 0, K), nxt = Bits::from_ring(x.s1, 0, K), zero = Bits::zeros(n, K, ph);
  BShare comp[3];
  comp[me_] = BShare{own, zero};
  comp[(me_ + 1) % 3] = BShare{zero, nxt};
  comp[(me_ + 2) % 3] = BShare{zero, zero};
  auto bxor = [](const BShare& p, const BShare& q) { return BShare{bits_xor(p.a, q.a), bits_xor(p.b, q.b)}; };
  auto planes = [](const BShare& p, int first, int count) {
    return BShare{bits_planes(p.a, first, count), bits_planes(p.b, first, count)};
  };
  // Carry-save adder: x0 + x1 + x2 = s + 2*carry, carry = maj(a,b,c) = ((a^c)&(b^c))^c.
  const BShare& A = comp[0];
  const BShare& B = comp[1];
  const BShare& C = comp[2];
  BShare s = bxor(bxor(A, B), C);
  BShare ac = planes(bxor(A, C), 0, K - 1), bc = planes(bxor(B, C), 0, K - 1);
  BShare carry = bxor(and_many({ac}, {bc})[0], planes(C, 0, K - 1));  // carry bits 0..K-2 -> v bits 1..K-1
  // u = s, v = carry << 1. MSB(u + v) = u_{K-1} ^ v_{K-1} ^ c_{K-1}, the carry into bit K-1 from
  // bits 1..K-2 (bit 0 generates no carry since v0 = 0). Generate/propagate, then a log-depth tree.
  BShare u_mid = planes(s, 1, K - 2), v_mid = planes(carry, 0, K - 2);
  BShare g = and_many({u_mid}, {v_mid})[0];
  BShare p = bxor(u_mid, v_mid);
  std::vector<BShare> G, P;  // one plane each, low to high
  for (int j = 0; j < K - 2; ++j) {
    G.push_back(planes(g, j, 1));
    P.push_back(planes(p, j, 1));
  }
  while (G.size() > 1) {
    // Combine (lo, hi) pairs: G = G_hi ^ P_hi & G_lo, P = P_hi & P_lo. The lowest group's P is
    // never needed, which saves one AND per level.
    const size_t pairs = G.size() / 2;
    std::vector<BShare> lhs, rhs;
    for (size_t k = 0; k < pairs; ++k) {
      lhs.push_back(P[2 * k + 1]);
      rhs.push_back(G[2 * k]);
      if (k > 0) {
        lhs.push_back(P[2 * k + 1]);
        rhs.push_back(P[2 * k]);
      }
    }
    std::vector<BShare> prod = and_many(lhs, rhs);
    std::vector<BShare> G2, P2;
    size_t at = 0;
    for (size_t k = 0; k < pairs; ++k) {
      G2.push_back(bxor(G[2 * k + 1], prod[at++]));
      P2.push_back(k > 0 ? prod[at++] : BShare{});  // placeholder: lowest group's P is unused
    }
    if (G.size() % 2) {
      G2.push_back(G.back());
      P2.push_back(P.back());
    }
    G = std::move(G2);
    P = std::move(P2);
  }
  return bxor(bxor(planes(s, K - 1, 1), planes(carry, K - 2, 1)), G[0]);
}

Shared ThreePcBackend::ltz(const Shared& x, int bits) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits);
  const Shape& shape = x.shape();
  BShare m = msb_binary(x, bits);
  // Bit to arithmetic: m = m0 ^ m1 ^ m2 with [m_j] free (component j = m_j), then a ^ b = a + b - 2ab.
  RingTensor zero = phantom_ ? RingTensor::phantom(shape) : RingTensor(shape);
  Shared M[3];
  M[me_] = Shared{m.a.plane_to_ring(0, shape), zero, {}};
  M[(me_ + 1) % 3] = Shared{zero, m.b.plane_to_ring(0, shape), {}};
  M[(me_ + 2) % 3] = Shared{zero, zero, {}};
  Shared t = sub(add(M[0], M[1]), scale(mul(M[0], M[1]), 2));
  return sub(add(t, M[2]), scale(mul(t, M[2]), 2));
}

}  // namespace marill
