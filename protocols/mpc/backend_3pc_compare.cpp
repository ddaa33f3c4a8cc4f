// 3pc comparison [x < 0] with the helper as the dealer of bit correlations; honest majority lets
// one party deal for the other two (as in SecureNN and Falcon), and no bit decomposition of x is
// needed (comparison against a value the evaluators hold in the clear, as in Rabbit, Makri et al.
// FC 2021). Nothing is opened: the replicated sharing already splits x between a dealer that knows
// one addend and two evaluators that both know the other.
//
//  1. Per part, with the helper H holding (x_h, x_a), the client A (x_a, x_b) and the server B
//     (x_b, x_h): H knows s = x_h + x_a + 2^(bits-1), A and B both know x_b, and
//     x' = x + 2^(bits-1) = s + x_b mod 2^k (k = bits; `low` below) lies in [0, 2^k) for
//     |x| < 2^(k-1). So [x < 0] = NOT bit_{k-1}(x') = 1 ^ s_{k-1} ^ h_{k-1} ^ w, h = x_b, with w the
//     carry into bit k - 1:
//     w = [c < r] for c = NOT x_b mod 2^(k-1), which A and B hold, and r = s mod 2^(k-1), which H
//     holds (the low k - 1 bits of s + x_b carry exactly when r > 2^(k-1) - 1 - x_b).
//  2. w, with c known to both evaluators: the low k-1 bits in chunks of two to four bits. For each
//     chunk H deals XOR shares of the products r^S of every non-empty set S of the chunk's r bits (a
//     TinyTable-style dealt table, Damgard et al. CRYPTO 2017): any function of (c chunk, r chunk),
//     here the chunk's (lt, eq) = ([c < r], [c = r]), is then linear in them, so local:
//     eq = XOR_S r^S prod_{i not in S} !c_i, lt = XOR_{S != 0} r^S !c_i0 prod_{j > i0, j not in S} !c_j
//     with i0 = min S (the first differing bit from the top, where c has 0 and r has 1). A log-depth
//     tree combines chunks, lt = lt_hi ^ eq_hi lt_lo, eq = eq_hi eq_lo (the lowest group's eq is
//     never needed), with Beaver AND triples dealt by H; eq_hi's two products share one mask. A
//     chunk of m bits costs 2^m - 1 dealt bits and a tree level of p pairs 8p - 3 bits in all;
//     compare_tree picks the number of chunks with the fewest bits (then the fewest levels): threes
//     and twos, 21 chunks of three at 64 bits. At the full 64 bits the lowest spine runs two levels
//     deeper (3 bits fewer each, a round more each; see kFullWidthExtraLevels).
//  3. Bit to arithmetic: H deals a random bit beta as XOR shares and additive shares; A and B open
//     e = b ^ beta (1 bit each): b = e + (1 - 2e) beta. The term s_{k-1}, H's, is folded into beta:
//     A and B mask their shares of b ^ s_{k-1} with XOR shares of beta ^ s_{k-1}.
//  4. The additive result is re-shared as replicated shares: A and B each send H one word masked
//     by their pair PRG.
//  negative_part ([x < 0] x) multiplies in step 3 instead: b x = e x + (1 - 2e) beta x, with
//     beta x = beta x_b + beta (x_h + x_a); A and B hold x_b and their beta shares, H holds x_h and
//     x_a and deals beta (x_h + x_a)'s share of B (a word, in the first round, with B's beta share),
//     so step 4 re-shares the product: no round of its own. H's word is input-dependent but masked
//     by A's PRG share, uniform to B.
//
// With `low` > 0 (Backend::ltz: only x's bits [low, bits) asked for) everything above runs on the
// k = bits - low high bits of s and x_b, whose sum is (x' >> low) minus the dropped bits' carry.
// The lost carry moves the judged value by less than one unit of 2^low, so the answer is exact for
// |x| >= 2^low.
//
// What H deals to A comes from the (helper, client) PRG; to B from the (server, helper) PRG, except
// the corrections H sends it in the first round (the monomials of its s and the triple products as
// bits, beta as a word); only the monomials depend on x, each masked by A's PRG share.
// Per element, L = k - 1 in J chunks of m_j bits: A and B send 1 + sum over levels (3p - 1) bits
// and a word; H sends sum_j (2^m_j - 1) + sum over levels (2p - 1) bits and a word;
// rounds: 3 + the tree's levels (H's deal, the tree, e, the re-sharing): ceil(log2 J) levels, two
// more at 64 bits. k = 64: 54 / 54 / 180 bits and three words, 20 B per party, 10 rounds.
//
// The roles rotate (backend_3pc_parts.h): the elements are cut into three parts and party D is the
// helper of part D, P_{D+1} its client and P_{D+2} its server, so each party sends the average of
// the three roles' bytes, every part's messages in the same rounds. Batches under 192 elements (a
// tournament's last levels) are one part instead, the helper role rotating over calls: three
// parts would triple their messages for a few bytes each.
#include <algorithm>
#include <iterator>
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/mpc/backend_3pc.h"
#include "protocols/mpc/backend_3pc_parts.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// The tree over `chunks` leaves (low to high): pairs combined at each level, the first
// `spine_levels` levels combining only the lowest pair (the rest pass through), then halving.
std::vector<int> tree_pairs(int chunks, int spine_levels) {
  std::vector<int> pairs;
  int g = chunks;
  for (int i = 0; i < spine_levels && g > 2; ++i, --g) pairs.push_back(1);
  for (; g > 1; g = g / 2 + g % 2) pairs.push_back(g / 2);
  return pairs;
}

int top_bit(int v) { return 31 - __builtin_clz(static_cast<unsigned>(v)); }

// prods[S] for S = 1 .. 2^m - 1: the AND of planes at + i of t over the bits i of S (prods[0] unused),
// each from a smaller one and one plane.
std::vector<Bits> subset_products(const Bits& t, int at, int m) {
  std::vector<Bits> prods(size_t{1} << m);
  for (int S = 1; S < (1 << m); ++S) {
    const int top = top_bit(S);
    Bits bit = bits_planes(t, at + top, 1);
    prods[static_cast<size_t>(S)] = S == (1 << top) ? std::move(bit) : bits_and(prods[static_cast<size_t>(S ^ (1 << top))], bit);
  }
  return prods;
}

// The comparison tree for L bits: chunk sizes (low to high) and pairs per level.
struct CompareTree {
  std::vector<int> sizes, pairs;
};

// Levels a full-width comparison may add to the shallowest tree. Each lowest-spine node (a pair
// whose eq is never needed) costs 5 bits instead of 8, and the spine is as long as the tree is
// deep, so a level more saves 3 bits per element for a round. A comparison on all 64 bits is one
// of a value with no bound (Backend::ltz's default width); the function library never asks for
// one (it passes the widths its bounds need, 22 to 54 bits), so these trade two rounds for bytes:
// 480 bits in all instead of 486, 20 B per party, in 10 rounds instead of 8. Bounded comparisons,
// on every block's path, keep the fewest rounds.
constexpr int kFullWidthExtraLevels = 2;

// The tree with the fewest bits sent in all (then the fewest levels) within the level budget: a
// chunk of m bits deals 2^m - 1 monomials, a level of p pairs costs 3p - 1 bits at client and
// server and 2p - 1 at the helper. Chunks as even as can be (2^m is convex), the larger ones low;
// at most four bits (15 monomials) each.
CompareTree compare_tree(int k) {
  const int L = k - 1;
  auto cost = [](const std::vector<int>& sizes, const std::vector<int>& pairs) {
    int bits = 0;
    for (int m : sizes) bits += (1 << m) - 1;
    for (int p : pairs) bits += 8 * p - 3;
    return bits;
  };
  auto search = [&](int max_spine, size_t max_levels) {
    CompareTree best;
    int best_bits = 0;
    for (int J = (L + 3) / 4; J <= L; ++J) {
      std::vector<int> sizes(J, L / J);
      for (int j = 0; j < L % J; ++j) ++sizes[j];
      for (int E = 0; E <= max_spine; ++E) {
        const std::vector<int> pairs = tree_pairs(J, E);
        if (pairs.size() > max_levels) continue;
        const int bits = cost(sizes, pairs);
        if (best.sizes.empty() || bits < best_bits || (bits == best_bits && pairs.size() < best.pairs.size())) {
          best = {sizes, pairs};
          best_bits = bits;
        }
      }
    }
    return best;
  };
  const CompareTree shallow = search(0, size_t(-1));
  if (k < 64) return shallow;
  return search(kFullWidthExtraLevels, shallow.pairs.size() + kFullWidthExtraLevels);
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
  const int k = bits - low;
  const Shape shape = x.shape();
  const bool ph = phantom_;
  const CompareTree tree = compare_tree(k);
  const std::vector<int>& sizes = tree.sizes;
  const std::vector<int>& pairs = tree.pairs;
  // Monomial planes, chunk by chunk (low to high): s^S for S = 1 .. 2^m - 1 (bit i of S: the
  // chunk's bit i).
  int mono_planes = 0;
  for (int m : sizes) mono_planes += (1 << m) - 1;
  int and_planes = 0;
  for (int p : pairs) and_planes += 2 * p - 1;

  // Per part: the dealer H (the helper of the description above), A (its client) and B (its
  // server). A draws from its PRG with H, B from its PRG with H.
  struct Part : three_pc::Third {
    RingTensor s0, s1;  // this party's components (x_i, x_{i+1}) on the part: A's (x_a, x_b), B's (x_b, x_h), H's (x_h, x_a)
    RingTensor beta_word, beta_x, y;
    Bits mono, beta, nc, LT, EQ, mine, eq_hi;  // eq_hi: the tree level's, kept from its opening to its products
    std::vector<LevelTriples> triples;
    Shared out;
  };
  std::vector<Part> parts;
  // Small batches (a tournament's last levels) in one part, the dealer rotating over calls.
  const i64 n_all = x.numel();
  const bool small = n_all < 192;
  const int dealer = small ? static_cast<int>(small_compares_++ % 3) : 0;
  for (const three_pc::Third& t : small ? three_pc::whole(n_all, me_, dealer) : three_pc::thirds(n_all, me_)) {
    Part p;
    static_cast<three_pc::Third&>(p) = t;
    p.s0 = three_pc::part_of(x.s0, t.lo, t.hi);
    p.s1 = three_pc::part_of(x.s1, t.lo, t.hi);
    parts.push_back(std::move(p));
  }

  // The dealt material, drawn in the same order by H and the party it shares a PRG with. A (and H
  // through prg_next_): monomial shares, per level a b1 b2 c1 c2, beta bit, beta word (and omega).
  // B (and H through prg_prev_): per level a b1 b2, beta bit.
  auto draw_triples = [&](Prg& prg, i64 n, bool with_products) {
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
  auto other_of = [](const Part& p) { return p.rel == 0 ? p.b : p.a; };

  // Round 1: H deals (the monomials of its s, triple corrections, beta's word, beta (x_h + x_a)'s
  // word) to B; A and B wait.
  for (Part& p : parts) {
    const i64 n = p.size();
    const Shape f = p.flat();
    if (p.rel == 2) {
      Bits mono0 = random_bits(prg_next_, n, mono_planes, ph);
      std::vector<LevelTriples> t0 = draw_triples(prg_next_, n, true);
      Bits beta0 = random_bits(prg_next_, n, 1, ph);
      RingTensor beta0_word = prg_next_.random(f, ph);
      RingTensor omega = times_x ? prg_next_.random(f, ph) : RingTensor{};
      std::vector<LevelTriples> t1 = draw_triples(prg_prev_, n, false);
      Bits beta1 = random_bits(prg_prev_, n, 1, ph);

      // s' = x_h + x_a + 2^(bits-1): its bits [low, bits), the comparison's dealt side.
      const RingTensor s = marill::add(p.s0, p.s1);
      const Bits r = Bits::from_ring(marill::add_scalar(s, u64{1} << (bits - 1)), low, k);
      std::vector<Bits> mono;
      int at = 0;
      for (int m : sizes) {
        std::vector<Bits> r_S = subset_products(r, at, m);
        mono.insert(mono.end(), std::make_move_iterator(r_S.begin() + 1), std::make_move_iterator(r_S.end()));
        at += m;
      }
      std::vector<Bits> corr{bits_xor(bits_stack(mono), mono0)};  // B's shares
      for (size_t l = 0; l < pairs.size(); ++l) {
        Bits a = bits_xor(t0[l].a, t1[l].a);
        corr.push_back(bits_xor(bits_and(a, bits_xor(t0[l].b1, t1[l].b1)), t0[l].c1));
        if (pairs[l] > 1)
          corr.push_back(bits_xor(bits_and(bits_planes(a, 1, pairs[l] - 1), bits_xor(t0[l].b2, t1[l].b2)), t0[l].c2));
      }
      send_bits(p.b, bits_stack(corr));
      // The opened e masks b by beta0 ^ beta1; b's term s'_{k-1} moves into beta.
      RingTensor beta = bits_xor(bits_xor(beta0, beta1), bits_planes(r, k - 1, 1)).plane_to_ring(0, f);
      comm_.send(p.b, marill::sub(beta, beta0_word));
      // beta x = beta x_b + beta (x_h + x_a): H holds x_h and x_a, so it deals the second term's
      // share of B (A's is omega) and A and B multiply their beta shares by x_b.
      if (times_x) comm_.send(p.b, marill::sub(mul_elem(beta, s), omega));
      continue;
    }
    const bool first = p.rel == 0;
    Prg& dealt = first ? prg_prev_ : prg_next_;  // the PRG this party shares with H
    if (first) p.mono = random_bits(dealt, n, mono_planes, ph);
    p.triples = draw_triples(dealt, n, first);
    p.beta = random_bits(dealt, n, 1, ph);
    if (first) p.beta_word = dealt.random(f, ph);
    if (first && times_x) p.beta_x = dealt.random(f, ph);  // beta (x_h + x_a)'s share
    // x_b's bits [low, bits), which A and B both hold, with bit k - 1 flipped: bit i < k - 1 of
    // NOT c, and NOT c_{k-1} for the result.
    const RingTensor& xb = first ? p.s1 : p.s0;
    p.nc = Bits::from_ring(marill::add_scalar(low ? shift_right_logical(xb, low) : xb, u64{1} << (k - 1)), 0, k);
  }

  // 2-3. H's corrections to B, and the leaves: (lt, eq) of each chunk, local (constants are A's).
  for (Part& p : parts) {
    if (p.rel == 2) continue;
    const i64 n = p.size();
    const bool first = p.rel == 0;
    if (!first) {
      Bits corr = recv_bits(p.h, n, mono_planes + and_planes);
      p.mono = bits_planes(corr, 0, mono_planes);
      int at = mono_planes;
      for (size_t l = 0; l < pairs.size(); ++l) {
        p.triples[l].c1 = bits_planes(corr, at, pairs[l]);
        at += pairs[l];
        p.triples[l].c2 = bits_planes(corr, at, pairs[l] - 1);
        at += pairs[l] - 1;
      }
      p.beta_word = comm_.recv(p.h, p.flat());
      if (times_x) p.beta_x = comm_.recv(p.h, p.flat());
    }
    std::vector<Bits> lt, eq;
    int at = 0, mono_at = 0;
    for (int m : sizes) {
      const int full = (1 << m) - 1;
      const std::vector<Bits> nc_prod = subset_products(p.nc, at, m);  // nc_prod[T]: the AND of !c_i over T, public
      Bits l = Bits::zeros(n, 1, ph), e = first ? nc_prod[full] : Bits::zeros(n, 1, ph);  // eq's S = 0 term is A's
      for (int S = 1; S <= full; ++S) {
        const Bits r_S = bits_planes(p.mono, mono_at + S - 1, 1);
        const int low_bit = S & -S, above = full & ~(2 * low_bit - 1);  // i0 = min S; the bits above it
        l = bits_xor(l, bits_and(nc_prod[low_bit | (above & ~S)], r_S));
        e = bits_xor(e, S == full ? r_S : bits_and(nc_prod[full & ~S], r_S));
      }
      lt.push_back(std::move(l));
      eq.push_back(std::move(e));
      at += m;
      mono_at += full;
    }
    p.LT = bits_stack(lt);
    p.EQ = bits_stack(eq);
  }

  // The tree, a round per level: every part's Beaver openings travel together.
  for (size_t l = 0; l < pairs.size(); ++l) {
    const int pl = pairs[l];
    for (Part& p : parts) {
      if (p.rel == 2) continue;
      const LevelTriples& t = p.triples[l];
      p.eq_hi = pick(p.EQ, range_step(1, pl, 2));
      const Bits lt_lo = pick(p.LT, range_step(0, pl, 2));
      const Bits eq_lo = pl > 1 ? pick(p.EQ, range_step(2, pl - 1, 2)) : Bits::zeros(p.size(), 0, ph);
      p.mine = bits_stack({bits_xor(p.eq_hi, t.a), bits_xor(lt_lo, t.b1), bits_xor(eq_lo, t.b2)});
      send_bits(other_of(p), p.mine);
    }
    for (Part& p : parts) {
      if (p.rel == 2) continue;
      const bool first = p.rel == 0;
      const int groups = p.LT.planes;
      const LevelTriples& t = p.triples[l];
      const Bits lt_hi = pick(p.LT, range_step(1, pl, 2));
      Bits open = bits_xor(p.mine, recv_bits(other_of(p), p.size(), p.mine.planes));
      const Bits d = bits_planes(open, 0, pl), e1 = bits_planes(open, pl, pl), e2 = bits_planes(open, 2 * pl, pl - 1);
      // [u v] = c ^ d b ^ e a ^ d e (the last term A's), d = u ^ a, e = v ^ b opened.
      auto beaver = [&](const Bits& dd, const Bits& ee, const Bits& a, const Bits& b, const Bits& cc) {
        Bits z = bits_xor(bits_xor(cc, bits_and(dd, b)), bits_and(ee, a));
        return first ? bits_xor(z, bits_and(dd, ee)) : z;
      };
      Bits new_lt = bits_xor(lt_hi, beaver(d, e1, t.a, t.b1, t.c1));
      std::vector<Bits> new_eq{bits_planes(p.eq_hi, 0, 1)};  // pair 0's eq: never read
      if (pl > 1) new_eq.push_back(beaver(bits_planes(d, 1, pl - 1), e2, bits_planes(t.a, 1, pl - 1), t.b2, t.c2));
      std::vector<Bits> lts{new_lt}, eqs{bits_stack(new_eq)};
      if (groups > 2 * pl) {  // the groups above the pairs pass through
        lts.push_back(bits_planes(p.LT, 2 * pl, groups - 2 * pl));
        eqs.push_back(bits_planes(p.EQ, 2 * pl, groups - 2 * pl));
      }
      p.LT = bits_stack(lts);
      p.EQ = bits_stack(eqs);
    }
  }

  // [x < 0] = 1 ^ h_{k-1} ^ s_{k-1} ^ w (s_{k-1} in beta). 4. e = b ^ beta opened; b = e + (1 - 2e) beta.
  for (Part& p : parts) {
    if (p.rel == 2) continue;
    Bits b = bits_planes(p.LT, 0, 1);
    if (p.rel == 0) b = bits_xor(b, bits_planes(p.nc, k - 1, 1));
    p.mine = bits_xor(b, p.beta);
    send_bits(other_of(p), p.mine);
  }
  for (Part& p : parts) {
    if (p.rel == 2) continue;
    const bool first = p.rel == 0;
    const Shape f = p.flat();
    RingTensor e = bits_xor(p.mine, recv_bits(other_of(p), p.size(), 1)).plane_to_ring(0, f);
    if (times_x) {
      // b x = e x + (1 - 2e) beta x: e x from A's x_a + x_b and B's x_h; beta x from the beta
      // shares times x_b (both hold it) and H's beta (x_h + x_a).
      RingTensor v = marill::add(mul_elem(p.beta_word, first ? p.s1 : p.s0), p.beta_x);  // x_b: A's s1, B's s0
      p.y = marill::sub(v, marill::scale(marill::mul_elem(e, v), 2));
      add_inplace(p.y, mul_elem(e, first ? marill::add(p.s0, p.s1) : p.s1));
    } else {
      p.y = marill::sub(p.beta_word, marill::scale(marill::mul_elem(e, p.beta_word), 2));
      if (first) add_inplace(p.y, e);
    }
  }

  // 5. A and B's additive y -> replicated, both send H one masked word: x_a = y_A - rho - rho2
  // (A, H), x_b = rho (A, B), x_h = y_B + rho2 (B, H); rho, rho2 from the (A, B) PRG, so H sees two
  // uniform words.
  for (Part& p : parts) {
    if (p.rel == 2) continue;
    const Shape f = p.flat();
    Prg& pair = p.rel == 0 ? prg_next_ : prg_prev_;
    RingTensor rho = pair.random(f, ph), rho2 = pair.random(f, ph);
    if (p.rel == 0) {
      RingTensor ya = marill::sub(marill::sub(p.y, rho), rho2);
      comm_.send(p.h, ya);
      p.out = Shared{std::move(ya), std::move(rho), {}};
    } else {
      RingTensor yh = marill::add(p.y, rho2);
      comm_.send(p.h, yh);
      p.out = Shared{std::move(rho), std::move(yh), {}};
    }
  }
  for (Part& p : parts) {
    if (p.rel != 2) continue;
    RingTensor yh = comm_.recv(p.b, p.flat());
    RingTensor ya = comm_.recv(p.a, p.flat());
    p.out = Shared{std::move(yh), std::move(ya), {}};
  }

  std::vector<RingTensor> s0, s1;
  for (Part& p : parts) {
    s0.push_back(std::move(p.out.s0));
    s1.push_back(std::move(p.out.s1));
  }
  return Shared{three_pc::join_parts(s0, shape, ph), three_pc::join_parts(s1, shape, ph), {}};
}

}  // namespace marill
