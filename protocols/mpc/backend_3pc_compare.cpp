// 3pc comparison [x < 0] with the helper as the dealer of bit correlations; honest majority lets
// one party deal for the other two (as in SecureNN and Falcon), and no bit decomposition of x is
// needed (masked comparison against a public value, as in Rabbit, Makri et al. FC 2021):
//
//  1. Client and server view x as a 2-of-2 sharing (client x0 + x1, server x2) and open
//     c = x + 2^(k-1) + r mod 2^k: k bits each way. r = rA + rB is known to the helper only
//     (rA from its pair PRG with the client, rB from its pair PRG with the server).
//  2. x' = x + 2^(k-1) = c - r mod 2^k, so [x < 0] = NOT bit_{k-1}(x') = 1 ^ c_{k-1} ^ r_{k-1} ^ w
//     with w = [c mod 2^(k-1) < r mod 2^(k-1)], the borrow.
//  3. w with c public: the low k-1 bits in chunks of two. For each chunk the helper deals XOR
//     shares of r_l, r_h and r_h r_l, the chunk's monomials (a TinyTable-style dealt table,
//     Damgard et al. CRYPTO 2017): any function of (c chunk, r chunk), here the chunk's
//     (lt, eq) = ([c < r], [c = r]), is then linear in them, so local. A log-depth tree combines
//     chunks, lt = lt_hi ^ eq_hi lt_lo, eq = eq_hi eq_lo (the lowest group's eq is never needed),
//     with Beaver AND triples dealt by the helper; eq_hi's two products share one mask.
//  4. Bit to arithmetic: the helper deals a random bit beta as XOR shares and additive shares;
//     client and server open e = b ^ beta (1 bit each): b = e + (1 - 2e) beta.
//  5. The additive result is re-shared as replicated shares (replicate_pair).
//  negative_part ([x < 0] x) multiplies in step 4 instead: b x = e x + (1 - 2e) beta x, with
//     beta x = beta x1 + beta (x0 + x2); client and server hold x1 and their beta shares, the
//     helper holds x0 and x2 and deals beta (x0 + x2)'s server share (a word, in the first round,
//     where the server's beta share goes), so step 5 re-shares the product: no round of its own.
//     The helper's word is input-dependent but masked by the client's PRG share, uniform to the
//     server.
//
// With `low` > 0 (Backend::ltz: only x's bits [low, bits) asked for) everything above runs on the
// k = bits - low high bits: each party opens its u >> low (k bits), whose sum is (c >> low) minus
// the dropped bits' carry, and the helper's r is r >> low. The two lost carries move the judged
// value by less than one unit of 2^low, so the answer is exact for |x| >= 2^low.
//
// Everything else the helper deals is input-independent: the client's shares come from the
// (helper, client) PRG, the server's from the (server, helper) PRG except the corrections the
// helper sends it (monomials and triple products as bits, beta as a word), in the first round.
// Per element, L = k - 1: client and server send k + tree + 1 bits and a word; the helper sends
// 3 floor(L/2) + L mod 2 + 1 + (tree ANDs) bits and a word; rounds: 3 + ceil(log2 ceil(L/2)).
#include <algorithm>
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/mpc/backend_3pc.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// The tree over `chunks` leaves (low to high): pairs combined at each level.
std::vector<int> tree_pairs(int chunks) {
  std::vector<int> pairs;
  for (int g = chunks; g > 1; g = g / 2 + g % 2) pairs.push_back(g / 2);
  return pairs;
}

// One party's share of a level's Beaver triples: `pairs` masks a (one per eq_hi), b1 (lt_lo),
// b2 (eq_lo, pairs 1..: pair 0 holds the lowest group, whose eq is never needed) and the
// products c1 = a b1, c2 = a b2.
struct LevelTriples {
  Bits a, b1, b2, c1, c2;
};

// Selected planes of t: plane i of the result is plane idx[i] of t.
Bits pick(const Bits& t, const std::vector<int>& idx) {
  Bits out = Bits::zeros(t.n, static_cast<int>(idx.size()), t.phantom);
  count_work(WorkKind::bit_word, out.planes * out.words());
  if (!out.phantom)
    for (size_t i = 0; i < idx.size(); ++i) std::copy_n(t.plane(idx[i]), t.words(), out.plane(static_cast<int>(i)));
  return out;
}

std::vector<int> range_step(int first, int count, int step) {
  std::vector<int> v;
  for (int i = 0; i < count; ++i) v.push_back(first + i * step);
  return v;
}

}  // namespace

Shared ThreePcBackend::ltz(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "ltz");
  return compare(x, bits, low, false);
}

Shared ThreePcBackend::negative_part(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "negative_part");
  return compare(x, bits, low, true);
}

Shared ThreePcBackend::compare(const Shared& x, int bits, int low, bool times_x) {
  check_ltz_bits(bits, low);
  const int k = bits - low, L = k - 1, chunks = (L + 1) / 2;
  const Shape shape = x.shape();
  const i64 n = x.numel();
  const bool ph = phantom_;
  const std::vector<int> pairs = tree_pairs(chunks);
  // Monomial planes: chunk q (bits 2q, 2q+1) gives r_l, r_h, r_h r_l; a last one-bit chunk r_l;
  // then r_{k-1}.
  const int mono_planes = 3 * (L / 2) + L % 2 + 1;
  int and_planes = 0;
  for (int p : pairs) and_planes += 2 * p - 1;

  // The dealt material, drawn in the same order by the helper and the party it shares a PRG with.
  // Client (and the helper through prg_next_): rA, monomial shares, per level a b1 b2 c1 c2, beta
  // bit, beta word. Server (and the helper through prg_prev_): rB, per level a b1 b2, beta bit.
  auto draw_triples = [&](Prg& prg, bool with_products) {
    std::vector<LevelTriples> t;
    for (int p : pairs) {
      LevelTriples l;
      l.a = random_bits(prg, n, p, ph);
      l.b1 = random_bits(prg, n, p, ph);
      l.b2 = random_bits(prg, n, p - 1, ph);
      if (with_products) {
        l.c1 = random_bits(prg, n, p, ph);
        l.c2 = random_bits(prg, n, p - 1, ph);
      }
      t.push_back(std::move(l));
    }
    return t;
  };

  if (me_ == 2) {
    RingTensor rA = prg_next_.random(shape, ph);
    Bits mono0 = random_bits(prg_next_, n, mono_planes, ph);
    std::vector<LevelTriples> t0 = draw_triples(prg_next_, true);
    Bits beta0 = random_bits(prg_next_, n, 1, ph);
    RingTensor beta0_word = prg_next_.random(shape, ph);
    RingTensor omega = times_x ? prg_next_.random(shape, ph) : RingTensor{};
    RingTensor rB = prg_prev_.random(shape, ph);
    std::vector<LevelTriples> t1 = draw_triples(prg_prev_, false);
    Bits beta1 = random_bits(prg_prev_, n, 1, ph);

    Bits r = Bits::from_ring(marill::add(rA, rB), low, k);
    std::vector<Bits> mono;
    for (int q = 0; q < chunks; ++q) {
      Bits lo = bits_planes(r, 2 * q, 1);
      mono.push_back(lo);
      if (2 * q + 1 < L) {
        Bits hi = bits_planes(r, 2 * q + 1, 1);
        mono.push_back(hi);
        mono.push_back(bits_and(hi, lo));
      }
    }
    mono.push_back(bits_planes(r, k - 1, 1));
    std::vector<Bits> corr{bits_xor(bits_stack(mono), mono0)};  // the server's shares
    for (size_t l = 0; l < pairs.size(); ++l) {
      Bits a = bits_xor(t0[l].a, t1[l].a);
      corr.push_back(bits_xor(bits_and(a, bits_xor(t0[l].b1, t1[l].b1)), t0[l].c1));
      if (pairs[l] > 1)
        corr.push_back(bits_xor(bits_and(bits_planes(a, 1, pairs[l] - 1), bits_xor(t0[l].b2, t1[l].b2)), t0[l].c2));
    }
    send_bits(Role::server, bits_stack(corr));
    RingTensor beta = bits_xor(beta0, beta1).plane_to_ring(0, shape);
    comm_.send(Role::server, marill::sub(beta, beta0_word));
    // beta x = beta x1 + beta (x0 + x2): the helper holds x2 and x0, so it deals the second term's
    // server share (the client's is omega) and client and server multiply their beta shares by x1.
    if (times_x) comm_.send(Role::server, marill::sub(mul_elem(beta, marill::add(x.s0, x.s1)), omega));
    return replicate_pair(RingTensor::phantom(shape), shape);
  }

  const bool client = me_ == 0;
  Prg& dealt = client ? prg_prev_ : prg_next_;  // the PRG this party shares with the helper
  RingTensor r_share = dealt.random(shape, ph);
  Bits mono = client ? random_bits(dealt, n, mono_planes, ph) : Bits{};
  std::vector<LevelTriples> triples = draw_triples(dealt, client);
  Bits beta = random_bits(dealt, n, 1, ph);
  RingTensor beta_word = client ? dealt.random(shape, ph) : RingTensor{};
  RingTensor beta_x = client && times_x ? dealt.random(shape, ph) : RingTensor{};  // beta (x0 + x2)'s share

  // 1. Open c = x + 2^(bits-1) + r mod 2^bits, or its bits [low, bits) (the helper's corrections
  // arrive in the same round).
  RingTensor u = client ? marill::add_scalar(marill::add(marill::add(x.s0, x.s1), r_share), u64{1} << (bits - 1))
                        : marill::add(x.s1, r_share);
  if (low) u = shift_right_logical(u, low);
  const Role other = client ? Role::server : Role::client;
  send_bits(other, Bits::from_ring(u, 0, k));
  Bits c = Bits::from_ring(marill::add(u, recv_bits(other, n, k).to_ring(shape)), 0, k);
  if (!client) {
    Bits corr = recv_bits(Role::helper, n, mono_planes + and_planes);
    mono = bits_planes(corr, 0, mono_planes);
    int at = mono_planes;
    for (size_t l = 0; l < pairs.size(); ++l) {
      triples[l].c1 = bits_planes(corr, at, pairs[l]);
      at += pairs[l];
      triples[l].c2 = bits_planes(corr, at, pairs[l] - 1);
      at += pairs[l] - 1;
    }
    beta_word = comm_.recv(Role::helper, shape);
    if (times_x) beta_x = comm_.recv(Role::helper, shape);
  }

  // 2-3. Leaves: (lt, eq) of each chunk, local (constants are the client's).
  const Bits nc = bits_not(c);
  std::vector<Bits> lt, eq;
  int m = 0;
  for (int q = 0; q < chunks; ++q) {
    const Bits ncl = bits_planes(nc, 2 * q, 1);
    const Bits ml = bits_planes(mono, m++, 1);
    if (2 * q + 1 < L) {
      const Bits nch = bits_planes(nc, 2 * q + 1, 1);
      const Bits mh = bits_planes(mono, m++, 1), mhl = bits_planes(mono, m++, 1);
      // lt = !c_h r_h ^ !c_h !c_l r_l ^ !c_l r_h r_l;  eq = (!c_h ^ r_h)(!c_l ^ r_l)
      lt.push_back(bits_xor(bits_xor(bits_and(nch, mh), bits_and(bits_and(nch, ncl), ml)), bits_and(ncl, mhl)));
      Bits e = bits_xor(bits_xor(bits_and(nch, ml), bits_and(ncl, mh)), mhl);
      eq.push_back(client ? bits_xor(e, bits_and(nch, ncl)) : e);
    } else {
      lt.push_back(bits_and(ncl, ml));
      eq.push_back(client ? bits_xor(ml, ncl) : ml);
    }
  }
  Bits LT = bits_stack(lt), EQ = bits_stack(eq);
  for (size_t l = 0; l < pairs.size(); ++l) {
    const int p = pairs[l], groups = LT.planes;
    const LevelTriples& t = triples[l];
    const Bits lt_hi = pick(LT, range_step(1, p, 2)), eq_hi = pick(EQ, range_step(1, p, 2));
    const Bits lt_lo = pick(LT, range_step(0, p, 2));
    const Bits eq_lo = p > 1 ? pick(EQ, range_step(2, p - 1, 2)) : Bits::zeros(n, 0, ph);
    Bits mine = bits_stack({bits_xor(eq_hi, t.a), bits_xor(lt_lo, t.b1), bits_xor(eq_lo, t.b2)});
    send_bits(other, mine);
    Bits open = bits_xor(mine, recv_bits(other, n, mine.planes));
    const Bits d = bits_planes(open, 0, p), e1 = bits_planes(open, p, p), e2 = bits_planes(open, 2 * p, p - 1);
    // [u v] = c ^ d b ^ e a ^ d e (the last term the client's), d = u ^ a, e = v ^ b opened.
    auto beaver = [&](const Bits& dd, const Bits& ee, const Bits& a, const Bits& b, const Bits& cc) {
      Bits z = bits_xor(bits_xor(cc, bits_and(dd, b)), bits_and(ee, a));
      return client ? bits_xor(z, bits_and(dd, ee)) : z;
    };
    Bits new_lt = bits_xor(lt_hi, beaver(d, e1, t.a, t.b1, t.c1));
    std::vector<Bits> new_eq{bits_planes(eq_hi, 0, 1)};  // pair 0's eq: never read
    if (p > 1) new_eq.push_back(beaver(bits_planes(d, 1, p - 1), e2, bits_planes(t.a, 1, p - 1), t.b2, t.c2));
    std::vector<Bits> lts{new_lt}, eqs{bits_stack(new_eq)};
    if (groups % 2) {  // the top group passes through
      lts.push_back(bits_planes(LT, groups - 1, 1));
      eqs.push_back(bits_planes(EQ, groups - 1, 1));
    }
    LT = bits_stack(lts);
    EQ = bits_stack(eqs);
  }

  // [x < 0] = 1 ^ c_{k-1} ^ r_{k-1} ^ w.
  Bits b = bits_xor(bits_planes(LT, 0, 1), bits_planes(mono, mono_planes - 1, 1));
  if (client) b = bits_xor(b, bits_planes(nc, k - 1, 1));
  // 4. e = b ^ beta opened; b = e + (1 - 2e) beta.
  Bits mine = bits_xor(b, beta);
  send_bits(other, mine);
  RingTensor e = bits_xor(mine, recv_bits(other, n, 1)).plane_to_ring(0, shape);
  if (times_x) {
    // b x = e x + (1 - 2e) beta x: e x from the client's x0 + x1 and the server's x2; beta x from
    // the beta shares times x1 (both hold it) and the helper's beta (x0 + x2).
    RingTensor v = marill::add(mul_elem(beta_word, client ? x.s1 : x.s0), beta_x);  // x1: the client's s1, the server's s0
    RingTensor y = marill::sub(v, marill::scale(marill::mul_elem(e, v), 2));
    add_inplace(y, mul_elem(e, client ? marill::add(x.s0, x.s1) : x.s1));
    return replicate_pair(y, shape);
  }
  RingTensor y = marill::sub(beta_word, marill::scale(marill::mul_elem(e, beta_word), 2));
  if (client) add_inplace(y, e);
  return replicate_pair(y, shape);
}

}  // namespace marill
