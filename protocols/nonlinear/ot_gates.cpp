#include "protocols/nonlinear/ot_gates.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "protocols/ot/block.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

std::vector<std::uint8_t> pack_bits(const BitShares& b) {
  std::vector<std::uint8_t> out(packed_bytes(b.size()), 0);
  for (std::size_t i = 0; i < b.size(); ++i) out[i / 8] |= static_cast<std::uint8_t>((b[i] & 1) << (i % 8));
  return out;
}

BitShares unpack_bits(const std::vector<std::uint8_t>& bytes, std::size_t n) {
  BitShares out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = (bytes[i / 8] >> (i % 8)) & 1;
  return out;
}

int digits_of(int bits) { return (bits + kMillionaireDigitBits - 1) / kMillionaireDigitBits; }

// The AND-tree levels of the millionaires' protocol: nodes per element at each level; the last
// level (the root) needs gt only.
std::vector<int> tree_levels(int q) {
  std::vector<int> v;
  for (int c = q; c > 1; c = c / 2 + c % 2) v.push_back(c / 2);
  return v;
}

// How T comparisons against one server value share the leaf OTs: `groups` 1-of-16 OTs per element
// and digit, each carrying up to kThresholdsPerOt comparisons' (gt, eq) pairs in `bits` bits.
struct LeafPacking {
  std::int64_t groups;
  int bits;
};
LeafPacking leaf_packing(std::int64_t T) {
  const auto per_ot = static_cast<std::int64_t>(kThresholdsPerOt);
  return {(T + per_ot - 1) / per_ot, 2 * static_cast<int>(std::min(T, per_ot))};
}

void check_width(int bits, int lo, int hi, const char* what) {
  if (bits < lo || bits > hi)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(bits) + " bits is outside " + std::to_string(lo) + ".." + std::to_string(hi));
}

}  // namespace

OtGates::OtGates(Comm& comm, Role peer, int softspoken_k)
    : comm_(comm), peer_(peer), client_(comm.role() == Role::client), phantom_(comm.phantom()), ext_(softspoken_k), prg_(Prg::from_os()) {
  if (comm.role() != Role::client && comm.role() != Role::server) throw std::invalid_argument("OT gates run between client and server");
  if (peer == comm.role()) throw std::invalid_argument("OT gates: the peer is this party");
}

void OtGates::set_up() {
  if (ext_.ready()) return;
  OpScope op(comm_.ledger(), "ot_setup");
  ext_.setup(comm_, peer_);
}

BitShares OtGates::random_bits(std::size_t n) {
  BitShares b(n);
  std::vector<std::uint8_t> raw((n + 7) / 8);
  prg_.fill_bytes(raw.data(), raw.size());
  for (std::size_t i = 0; i < n; ++i) b[i] = (raw[i / 8] >> (i % 8)) & 1;
  return b;
}

BitShares OtGates::exchange_bits(const BitShares& mine) {
  const u64 bytes = packed_bytes(mine.size());
  if (phantom_) {
    phantom_exchange(mine.size());
    return BitShares(mine.size(), 0);
  }
  const auto packed = pack_bits(mine);
  comm_.send_bytes(peer_, packed.data(), bytes);
  return unpack_bits(comm_.recv_bytes(peer_, bytes), mine.size());
}

OtGates::TriplePairs OtGates::triple_pairs(std::size_t n, const std::vector<u64>* leaf_messages, const std::vector<std::uint8_t>* leaf_choices,
                                           std::vector<u64>* leaf_out, int leaf_bits) {
  TriplePairs t;
  t.a = random_bits(n);
  std::vector<Block> mine;  // m_{a_i}: this party as receiver
  RandomOtPairs pairs;      // (m0_i, m1_i): this party as sender
  // The server sends its columns (triples, then leaves) first; the client answers with the leaves'
  // messages and its own columns: one round trip for both.
  if (!client_) {
    if (n > 0) mine = ext_.receiver().random_ot(comm_, t.a);
    if (leaf_choices) *leaf_out = ext_.receiver().one_of_n_ot(comm_, *leaf_choices, kMillionaireDigitBits, leaf_bits);
    if (n > 0) pairs = ext_.sender().random_ot(comm_, static_cast<std::int64_t>(n));
  } else {
    if (n > 0) pairs = ext_.sender().random_ot(comm_, static_cast<std::int64_t>(n));
    if (leaf_messages) ext_.sender().one_of_n_ot(comm_, *leaf_messages, kMillionaireDigitBits, leaf_bits);
    if (n > 0) mine = ext_.receiver().random_ot(comm_, t.a);
  }
  t.b.assign(n, 0);
  t.c.assign(n, 0);
  t.b2.assign(n, 0);
  t.c2.assign(n, 0);
  if (phantom_) return t;
  for (std::size_t i = 0; i < n; ++i) {
    // As sender, b_me is m0 ⊕ m1 (bits 0 and 1): the peer's choice a_peer picks m0 ⊕ a_peer·b_me, so
    // lsb(m0) and the peer's lsb(m_{a_peer}) share a_peer·b_me; as receiver the same for a_me·b_peer.
    const Block d = pairs.m0[i] ^ pairs.m1[i];
    const u64 r = mine[i].lo, s = pairs.m0[i].lo;
    t.b[i] = d.lo & 1;
    t.b2[i] = (d.lo >> 1) & 1;
    t.c[i] = static_cast<std::uint8_t>((t.a[i] & t.b[i]) ^ (r & 1) ^ (s & 1));
    t.c2[i] = static_cast<std::uint8_t>((t.a[i] & t.b2[i]) ^ ((r >> 1) & 1) ^ ((s >> 1) & 1));
  }
  return t;
}

std::pair<BitShares, BitShares> OtGates::and_with(const BitShares& x, const BitShares& y, const BitShares& y2, const TriplePairs& t, std::size_t off) {
  const std::size_t n = x.size();
  const bool two = !y2.empty();
  BitShares open(n * (two ? 3 : 2));
  for (std::size_t i = 0; i < n; ++i) {
    open[i] = x[i] ^ t.a[off + i];
    open[n + i] = y[i] ^ t.b[off + i];
    if (two) open[2 * n + i] = y2[i] ^ t.b2[off + i];
  }
  const BitShares peer = exchange_bits(open);
  BitShares z(n), z2(two ? n : 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t D = open[i] ^ peer[i], E = open[n + i] ^ peer[n + i];
    z[i] = t.c[off + i] ^ (D & t.b[off + i]) ^ (E & t.a[off + i]) ^ (client_ ? D & E : 0);
    if (two) {
      const std::uint8_t E2 = open[2 * n + i] ^ peer[2 * n + i];
      z2[i] = t.c2[off + i] ^ (D & t.b2[off + i]) ^ (E2 & t.a[off + i]) ^ (client_ ? D & E2 : 0);
    }
  }
  return {std::move(z), std::move(z2)};
}

std::pair<BitShares, BitShares> OtGates::and_pairs(const BitShares& x, const BitShares& y, const BitShares& y2) {
  if (y.size() != x.size() || (!y2.empty() && y2.size() != x.size())) throw std::invalid_argument("AND: operands of different lengths");
  set_up();
  OpScope op(comm_.ledger(), "and");
  if (x.empty()) return {};
  if (phantom_) {
    phantom_triples(static_cast<std::int64_t>(x.size()), 0, 2);
    phantom_exchange(x.size() * (y2.empty() ? 2 : 3));
    return {};
  }
  const TriplePairs t = triple_pairs(x.size(), nullptr, nullptr, nullptr, 2);
  return and_with(x, y, y2, t, 0);
}

// The comparisons' local work (work_meter.h: cmp_leaf), real or phantom: the client builds each
// leaf's table of 16 entries, the server picks one; both walk the AND tree, which costs more.
void OtGates::count_comparison(std::size_t comparisons, int digits) const {
  count_work(WorkKind::cmp_leaf, static_cast<u64>(comparisons) * static_cast<u64>(digits) * (client_ ? 3 : 2));
}

BitShares OtGates::greater_than(const std::vector<u64>& mine, int bits) {
  check_width(bits, 1, 64, "millionaires' comparison");
  set_up();
  if (phantom_) {
    phantom_greater_than(static_cast<std::int64_t>(mine.size()), 1, bits);
    return BitShares(mine.size(), 0);
  }
  OpScope op(comm_.ledger(), "millionaire");
  if (mine.empty()) return {};
  return compare_against(mine, mine.size(), 1, bits);
}

// The millionaires' protocol for T thresholds per element: the client holds a[t·n + e] (T·n values),
// the server b[e] (n values, the same for every t). Per element and digit one 1-of-16 OT serves all
// T comparisons (messages of 2·T bits, in groups of kThresholdsPerOt), then one AND tree per
// comparison. Returns XOR shares of [a[t·n + e] > b[e]], (T·n).
BitShares OtGates::compare_against(const std::vector<u64>& mine, std::size_t n, std::size_t T, int bits) {
  const int q = digits_of(bits);
  const std::size_t nt = n * T, nq = n * static_cast<std::size_t>(q);
  const LeafPacking pack = leaf_packing(static_cast<std::int64_t>(T));
  const std::size_t groups = static_cast<std::size_t>(pack.groups), G = std::min(T, kThresholdsPerOt);
  const u64 limit = low_bits_mask(bits);
  if (mine.size() != (client_ ? nt : n)) throw std::logic_error("millionaires' comparison: operand count");
  count_comparison(nt, q);
  for (u64 v : mine)
    if (v > limit) throw std::invalid_argument("millionaires' comparison: a value exceeds " + std::to_string(bits) + " bits");
  auto digit = [&](u64 v, int j) { return static_cast<std::uint8_t>((v >> (kMillionaireDigitBits * j)) & 0xF); };
  // Leaves of comparison c = t·n + e at c·q + j (digit j, 0 least significant).
  BitShares gt(nt * static_cast<std::size_t>(q)), eq(nt * static_cast<std::size_t>(q));
  std::vector<u64> messages;
  std::vector<std::uint8_t> choices;
  std::vector<u64> received;
  if (client_) {
    gt = random_bits(gt.size());
    eq = random_bits(eq.size());
    messages.assign(nq * groups * 16, 0);
    for (std::size_t e = 0; e < n; ++e)
      for (int j = 0; j < q; ++j)
        for (std::size_t g = 0; g < groups; ++g) {
          u64* msg = &messages[((e * static_cast<std::size_t>(q) + static_cast<std::size_t>(j)) * groups + g) * 16];
          for (std::size_t t = g * G; t < std::min(T, (g + 1) * G); ++t) {
            const std::size_t leaf = (t * n + e) * static_cast<std::size_t>(q) + static_cast<std::size_t>(j);
            const std::uint8_t a = digit(mine[t * n + e], j);
            const int at = 2 * static_cast<int>(t - g * G);
            for (std::uint8_t x = 0; x < 16; ++x)
              msg[x] |= (static_cast<u64>((a > x) ^ gt[leaf]) | static_cast<u64>(((a == x) ^ eq[leaf]) << 1)) << at;
          }
        }
  } else {
    choices.resize(nq * groups);
    for (std::size_t e = 0; e < n; ++e)
      for (int j = 0; j < q; ++j)
        for (std::size_t g = 0; g < groups; ++g) choices[(e * static_cast<std::size_t>(q) + static_cast<std::size_t>(j)) * groups + g] = digit(mine[e], j);
  }
  const TriplePairs tp = triple_pairs(nt * static_cast<std::size_t>(q - 1), client_ ? &messages : nullptr, client_ ? nullptr : &choices, &received, pack.bits);
  if (!client_)
    for (std::size_t e = 0; e < n; ++e)
      for (int j = 0; j < q; ++j)
        for (std::size_t g = 0; g < groups; ++g) {
          const u64 got = received[(e * static_cast<std::size_t>(q) + static_cast<std::size_t>(j)) * groups + g];
          for (std::size_t t = g * G; t < std::min(T, (g + 1) * G); ++t) {
            const std::size_t leaf = (t * n + e) * static_cast<std::size_t>(q) + static_cast<std::size_t>(j);
            const int at = 2 * static_cast<int>(t - g * G);
            gt[leaf] = (got >> at) & 1;
            eq[leaf] = (got >> (at + 1)) & 1;
          }
        }
  // The tree: level by level, node (hi, lo) = (2i+1, 2i) of the current nodes; an odd top node moves up.
  std::size_t off = 0;
  int c = q;
  while (c > 1) {
    const int pairs = c / 2, next = pairs + c % 2;
    const bool root = next == 1;
    const std::size_t m = nt * static_cast<std::size_t>(pairs);
    BitShares x(m), y(m), y2(root ? 0 : m);
    for (std::size_t e = 0; e < nt; ++e)
      for (int i = 0; i < pairs; ++i) {
        const std::size_t at = e * static_cast<std::size_t>(pairs) + static_cast<std::size_t>(i);
        const std::size_t hi = e * static_cast<std::size_t>(c) + static_cast<std::size_t>(2 * i + 1), lo = hi - 1;
        x[at] = eq[hi];
        y[at] = gt[lo];
        if (!root) y2[at] = eq[lo];
      }
    const auto [z, z2] = and_with(x, y, y2, tp, off);
    off += m;
    BitShares ngt(nt * static_cast<std::size_t>(next)), neq(nt * static_cast<std::size_t>(next));
    for (std::size_t e = 0; e < nt; ++e) {
      for (int i = 0; i < pairs; ++i) {
        const std::size_t at = e * static_cast<std::size_t>(pairs) + static_cast<std::size_t>(i);
        const std::size_t hi = e * static_cast<std::size_t>(c) + static_cast<std::size_t>(2 * i + 1);
        ngt[e * static_cast<std::size_t>(next) + static_cast<std::size_t>(i)] = gt[hi] ^ z[at];
        if (!root) neq[e * static_cast<std::size_t>(next) + static_cast<std::size_t>(i)] = z2[at];
      }
      if (c % 2) {
        const std::size_t top = e * static_cast<std::size_t>(c) + static_cast<std::size_t>(c - 1);
        ngt[e * static_cast<std::size_t>(next) + static_cast<std::size_t>(pairs)] = gt[top];
        neq[e * static_cast<std::size_t>(next) + static_cast<std::size_t>(pairs)] = eq[top];
      }
    }
    gt = std::move(ngt);
    eq = std::move(neq);
    c = next;
  }
  return gt;
}

RingTensor OtGates::ltz_many(const RingTensor& x, const std::vector<u64>& offsets, int bits) {
  check_width(bits, 3, 64, "ltz");
  if (offsets.empty()) throw std::invalid_argument("ltz against offsets: no offsets");
  OpScope op(comm_.ledger(), "ltz");
  set_up();
  const std::size_t n = static_cast<std::size_t>(x.numel()), T = offsets.size();
  const Shape out_shape{static_cast<i64>(T), static_cast<i64>(n)};
  const int low = bits - 1;
  if (phantom_) {
    phantom_greater_than(static_cast<std::int64_t>(n), static_cast<std::int64_t>(T), low);
    return b2a({}, out_shape);
  }
  const u64 mask = low_bits_mask(low);
  // [x − K_t < 0]: the client's share of x − K_t is x0 − K_t, the server's x1 for every t, so the
  // server's side of all T comparisons is one value (carry = [v0 > 2^low − 1 − v1], as in ltz).
  std::vector<u64> mine(client_ ? n * T : n);
  BitShares msb(n * T);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t e = 0; e < n; ++e) {
      const u64 v = client_ ? x[static_cast<i64>(e)] - offsets[t] : x[static_cast<i64>(e)];
      if (client_) mine[t * n + e] = v & mask;
      else if (t == 0) mine[e] = mask - (v & mask);
      msb[t * n + e] = (v >> low) & 1;
    }
  BitShares c;
  {
    OpScope m(comm_.ledger(), "millionaire");
    c = compare_against(mine, n, T, low);
  }
  for (std::size_t i = 0; i < n * T; ++i) c[i] ^= msb[i];
  return b2a(c, out_shape);
}

RingTensor OtGates::b2a(const BitShares& c, const Shape& shape) {
  if (!phantom_ && static_cast<i64>(c.size()) != shape_numel(shape)) throw std::invalid_argument("b2a: bit count differs from the shape");
  set_up();
  OpScope op(comm_.ledger(), "b2a");
  const std::vector<std::uint8_t> width{63};  // 2·x needs x mod 2^63 only
  if (phantom_) {
    phantom_cot(shape_numel(shape), width, client_);
    return RingTensor::phantom(shape);
  }
  if (client_) {
    std::vector<u64> deltas(c.begin(), c.end());
    const auto x = ext_.sender().correlated_ot(comm_, deltas, width);
    RingTensor out(shape);
    for (i64 i = 0; i < out.numel(); ++i) out[i] = static_cast<u64>(c[static_cast<std::size_t>(i)]) + 2 * x[static_cast<std::size_t>(i)];
    return out;
  }
  const auto y = ext_.receiver().correlated_ot(comm_, c, width);
  RingTensor out(shape);
  for (i64 i = 0; i < out.numel(); ++i) out[i] = static_cast<u64>(c[static_cast<std::size_t>(i)]) - 2 * y[static_cast<std::size_t>(i)];
  return out;
}

RingTensor OtGates::mux(const BitShares& c, const RingTensor& v) {
  if (!(phantom_ && c.empty()) && static_cast<i64>(c.size()) != v.numel()) throw std::invalid_argument("mux: bit count differs from the values'");
  set_up();
  OpScope op(comm_.ledger(), "mux");
  const std::vector<std::uint8_t> width{64};
  if (phantom_) {
    PendingCot pending = ext_.receiver().phantom_correlated_ot_start(comm_, v.numel(), width);
    ext_.sender().phantom_correlated_ot(comm_, v.numel(), width);
    (void)ext_.receiver().correlated_ot_finish(comm_, std::move(pending));
    return RingTensor::phantom(v.shape());
  }
  const std::size_t n = c.size();
  std::vector<u64> deltas(n);
  for (std::size_t i = 0; i < n; ++i) deltas[i] = (c[i] ? u64{0} - v[static_cast<i64>(i)] : v[static_cast<i64>(i)]);  // (1 − 2c)·v
  PendingCot pending = ext_.receiver().correlated_ot_start(comm_, c, width);
  const auto x = ext_.sender().correlated_ot(comm_, deltas, width);
  const auto y = ext_.receiver().correlated_ot_finish(comm_, std::move(pending));
  RingTensor out(v.shape());
  for (std::size_t i = 0; i < n; ++i) out[static_cast<i64>(i)] = (c[i] ? v[static_cast<i64>(i)] : 0) - x[i] + y[i];
  return out;
}

RingTensor OtGates::ltz(const RingTensor& x, int bits, int drop) {
  check_width(bits, 3, 64, "ltz");
  check_width(drop, 0, bits - 3, "ltz's dropped bits");
  OpScope op(comm_.ledger(), "ltz");
  const int low = bits - 1, w = low - drop;  // the carry into bit `low`, judged on bits [drop, low)
  if (phantom_) {
    set_up();
    phantom_greater_than(x.numel(), 1, w);
    return b2a({}, x.shape());
  }
  const std::size_t n = static_cast<std::size_t>(x.numel());
  const u64 mask = low_bits_mask(w), below_msb = low_bits_mask(low);
  std::vector<u64> mine(n);
  BitShares msb(n);
  for (std::size_t i = 0; i < n; ++i) {
    const u64 v = (x[static_cast<i64>(i)] & below_msb) >> drop;
    // carry = [v0 + v1 >= 2^w] = [v0 > 2^w − 1 − v1]: the client compares v0, the server 2^w − 1 − v1.
    // With drop > 0 the dropped bits' own carry is lost: the sign of some x' with |x' - x| < 2^drop.
    mine[i] = client_ ? v : mask - v;
    msb[i] = (x[static_cast<i64>(i)] >> low) & 1;
  }
  const BitShares carry = greater_than(mine, w);
  BitShares c(n);
  for (std::size_t i = 0; i < n; ++i) c[i] = msb[i] ^ carry[i];
  return b2a(c, x.shape());
}

RingTensor OtGates::trunc(const RingTensor& x, int d) {
  check_width(d, 1, 62, "trunc");
  set_up();
  OpScope op(comm_.ledger(), "trunc");
  const std::size_t n = static_cast<std::size_t>(x.numel());
  const u64 offset = u64{1} << 62;  // |x| < 2^62: x + 2^62 is in [0, 2^63), its MSB 0
  const std::vector<std::uint8_t> width{static_cast<std::uint8_t>(d)};
  if (phantom_) {
    phantom_cot(x.numel(), width, client_);
    return RingTensor::phantom(x.shape());
  }
  BitShares top(n);
  for (std::size_t i = 0; i < n; ++i) top[i] = ((x[static_cast<i64>(i)] + (client_ ? offset : 0)) >> 63) & 1;
  // wrap = top0 ∨ top1 = top0 + top1·(1 − top0): the client's share top0 − x, the server's x + top1·(1 − top0), mod 2^d
  std::vector<u64> wrap(n);
  if (client_) {
    std::vector<u64> deltas(n);
    for (std::size_t i = 0; i < n; ++i) deltas[i] = 1 - top[i];
    const auto r = ext_.sender().correlated_ot(comm_, deltas, width);
    for (std::size_t i = 0; i < n; ++i) wrap[i] = top[i] - r[i];
  } else {
    wrap = ext_.receiver().correlated_ot(comm_, top, width);
  }
  RingTensor out(x.shape());
  const u64 dmask = low_bits_mask(d);
  for (std::size_t i = 0; i < n; ++i) {
    const u64 xi = x[static_cast<i64>(i)] + (client_ ? offset : 0);
    // (x0 >> d) + (x1 >> d) − wrap·2^(64−d) is floor(x'/2^d) less the low bits' carry (0 or 1)
    u64 s = (xi >> d) - ((wrap[i] & dmask) << (64 - d));
    if (client_) s += 1 - (offset >> d);
    out[static_cast<i64>(i)] = s;
  }
  return out;
}

// ---------------------------------------------------------------- phantom runs
// The same messages in the same order and op scopes as the real paths above, from counts alone.

void OtGates::phantom_exchange(u64 bits) {
  const u64 bytes = packed_bytes(bits);
  comm_.send_bytes(peer_, nullptr, bytes);
  (void)comm_.recv_bytes(peer_, bytes);
}

void OtGates::phantom_triples(std::int64_t n, std::int64_t leaves, int leaf_bits) {
  if (!client_) {
    if (n > 0) ext_.receiver().phantom_random_ot(comm_, n);
    if (leaves > 0) ext_.receiver().phantom_one_of_n_ot(comm_, leaves, kMillionaireDigitBits, leaf_bits);
    if (n > 0) (void)ext_.sender().random_ot(comm_, n);
  } else {
    if (n > 0) (void)ext_.sender().random_ot(comm_, n);
    if (leaves > 0) ext_.sender().phantom_one_of_n_ot(comm_, leaves, kMillionaireDigitBits, leaf_bits);
    if (n > 0) ext_.receiver().phantom_random_ot(comm_, n);
  }
}

void OtGates::phantom_greater_than(std::int64_t n, std::int64_t T, int bits) {
  check_width(bits, 1, 64, "millionaires' comparison");
  OpScope op(comm_.ledger(), "millionaire");
  if (n == 0) return;
  const int q = digits_of(bits);
  const LeafPacking pack = leaf_packing(T);
  count_comparison(static_cast<std::size_t>(n * T), q);
  phantom_triples(n * T * (q - 1), n * q * pack.groups, pack.bits);
  const std::vector<int> levels = tree_levels(q);
  for (std::size_t l = 0; l < levels.size(); ++l)
    phantom_exchange(static_cast<u64>(n * T) * static_cast<u64>(levels[l]) * (l + 1 == levels.size() ? 2 : 3));
}

void OtGates::phantom_cot(std::int64_t n, const std::vector<std::uint8_t>& widths, bool as_sender) {
  if (as_sender) ext_.sender().phantom_correlated_ot(comm_, n, widths);
  else (void)ext_.receiver().correlated_ot_finish(comm_, ext_.receiver().phantom_correlated_ot_start(comm_, n, widths));
}

// ---------------------------------------------------------------- exact bytes

namespace {
std::uint64_t cols(std::int64_t n, int k) { return n > 0 ? iknp_receiver_bytes(n, k) : 0; }
}  // namespace

namespace {
// The millionaires' protocol for n elements against T thresholds each (T = 1: plain comparison).
OtGateBytes compare_bytes(std::int64_t n, std::int64_t T, int bits, int k) {
  OtGateBytes b;
  if (n == 0) return b;
  const int q = digits_of(bits);
  const LeafPacking pack = leaf_packing(T);
  const std::int64_t leaves = n * q * pack.groups, triples = n * T * (q - 1);
  b.server = cols(triples, k) + cols(leaves * kMillionaireDigitBits, k);
  b.client = packed_bytes(static_cast<std::uint64_t>(leaves) * 16 * static_cast<std::uint64_t>(pack.bits)) + cols(triples, k);
  const std::vector<int> levels = tree_levels(q);
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const std::uint64_t open = packed_bytes(static_cast<std::uint64_t>(n * T) * static_cast<std::uint64_t>(levels[l]) * (l + 1 == levels.size() ? 2 : 3));
    b.client += open;
    b.server += open;
  }
  return b;
}
}  // namespace

OtGateBytes greater_than_bytes(std::int64_t n, int bits, int k) { return compare_bytes(n, 1, bits, k); }

OtGateBytes ltz_many_bytes(std::int64_t n, std::int64_t offsets, int bits, int k) {
  OtGateBytes g = compare_bytes(n, offsets, bits - 1, k), c = b2a_bytes(n * offsets, k);
  return {g.client + c.client, g.server + c.server};
}

OtGateBytes b2a_bytes(std::int64_t n, int k) { return {packed_bytes(static_cast<std::uint64_t>(n) * 63), cols(n, k)}; }

OtGateBytes ltz_bytes(std::int64_t n, int bits, int k) {
  OtGateBytes g = greater_than_bytes(n, bits - 1, k), c = b2a_bytes(n, k);
  return {g.client + c.client, g.server + c.server};
}

OtGateBytes trunc_bytes(std::int64_t n, int d, int k) { return {packed_bytes(static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(d)), cols(n, k)}; }

OtGateBytes mux_bytes(std::int64_t n, int k) {
  const std::uint64_t each = cols(n, k) + packed_bytes(static_cast<std::uint64_t>(n) * 64);
  return {each, each};
}

}  // namespace marill
