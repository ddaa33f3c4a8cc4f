#include "protocols/fss/dpf.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "protocols/fss/mmo.h"
#include "protocols/ring/thread_pool.h"
#include "protocols/ring/work_meter.h"

namespace marill {
namespace {

using namespace fss_detail;  // the tree PRG and key-buffer helpers (mmo.h)

// Tweaks XOR-ed into a seed before hashing: children 0 / 1 (seeds keep their low bit clear, so that
// bit is free for the side), and the leaf blocks 8, 9 for W >= 2 (as in dcf.cpp).
constexpr u64 kTweakL = 0, kTweakR = 1, kTweakF = 8;

// Leaf blocks per leaf seed: W = 1 uses the seed's high half, wider payloads hash ceil(W/2) blocks.
template <int W> constexpr int kLeafBlocks = W == 1 ? 0 : (W + 1) / 2;
int leaf_blocks(int w) { return w == 1 ? 0 : (w + 1) / 2; }

// Gen: elements per chunk (4 blocks per element and level, so a level is one AES pass of 1024 blocks).
constexpr i64 kGenChunk = 256;
// Eval: leaves per chunk. A chunk's whole tree level (plus its leaf blocks) is one AES pass and
// stays in L2 (W = 3: 4096 x 2 blocks = 128 KiB of blocks, 96 KiB of output).
constexpr i64 kEvalLeaves = 4096;
i64 eval_chunk_elems(int n) { return std::max<i64>(1, kEvalLeaves >> n); }

// Per-element key layout offsets (see dpf.h).
inline std::size_t off_scw(int level) { return 16 + 16 * static_cast<std::size_t>(level); }
inline std::size_t off_tbits(int n) { return off_scw(n); }
inline std::size_t off_final(int n) { return off_tbits(n) + (2 * static_cast<std::size_t>(n) + 7) / 8; }

inline Blk clear_low(Blk b) { return {b.lo & ~u64{1}, b.hi}; }

void check_bits(int n_bits, const std::string& who) {
  if (n_bits < 1 || n_bits > kDpfMaxBits)
    throw std::invalid_argument(who + ": n_bits must be in [1, " + std::to_string(kDpfMaxBits) + "], got " + std::to_string(n_bits));
}
void check_width(int w, const std::string& who) {
  if (w < 1 || w > kDpfMaxWidth)
    throw std::invalid_argument(who + ": payload width must be in [1, " + std::to_string(kDpfMaxWidth) + "], got " + std::to_string(w));
}

// Word j of a leaf: the seed's high half (W = 1) or half of one of its hashed leaf blocks.
template <int W>
inline u64 leaf_word(Blk seed, const Blk* hashed, int j) {
  if constexpr (kLeafBlocks<W> == 0) return seed.hi;
  const Blk& b = hashed[j / 2];
  return j % 2 ? b.hi : b.lo;
}

// (-1)^t z for a mask m = -t, branch-free.
inline u64 neg_if(u64 z, u64 m) { return (z ^ m) - m; }

template <int W>
void dpf_gen_impl(int n, const u64* alpha, const u64* beta, i64 count, Prg& prg, std::pair<DpfKeys, DpfKeys>& keys) {
  constexpr int LB = kLeafBlocks<W>;
  const std::size_t K = dpf_key_bytes(n, W);
  // A chunk's keys are built in a cache-resident staging buffer (party 0's; party 1's differ only
  // in the root seeds), then appended to both outputs.
  std::vector<std::uint8_t> stage(static_cast<std::size_t>(kGenChunk) * K);
  // s[p * m + e], t[p * m + e]: party p's seed and control bit on alpha's path.
  std::vector<Blk> s(2 * kGenChunk), root1(kGenChunk);
  std::vector<std::uint8_t> t(2 * kGenChunk);
  // Level blocks: buf[4 e + 2 p + side]; leaf blocks: buf[LB (p m + e) + b].
  std::vector<Blk> buf(static_cast<std::size_t>(kGenChunk) * std::max(4, 2 * LB));

  for (i64 c0 = 0; c0 < count; c0 += kGenChunk) {
    const i64 m = std::min(kGenChunk, count - c0);
    prg.fill_bytes(reinterpret_cast<std::uint8_t*>(s.data()), static_cast<std::size_t>(2 * m) * sizeof(Blk));
    for (i64 e = 0; e < m; ++e) {
      std::uint8_t* k = stage.data() + e * K;
      s[e] = clear_low(s[e]);
      s[m + e] = clear_low(s[m + e]);
      t[e] = 0;  // t_b^(0) = b
      t[m + e] = 1;
      std::memcpy(k, &s[e], 16);
      root1[e] = s[m + e];
      std::memset(k + off_tbits(n), 0, off_final(n) - off_tbits(n));  // t bits are OR-ed in
    }

    for (int i = 0; i < n; ++i) {
      for (i64 e = 0; e < m; ++e)
        for (int p = 0; p < 2; ++p) {
          buf[4 * e + 2 * p] = bxor(s[p * m + e], {kTweakL, 0});
          buf[4 * e + 2 * p + 1] = bxor(s[p * m + e], {kTweakR, 0});
        }
      mmo_inplace(buf.data(), static_cast<std::size_t>(4 * m));

      // Branch-free: alpha and t bits are secret and random (branches would leak alpha through
      // timing and mispredict half the time). am / tm* are all-ones masks of a bit.
      for (i64 e = 0; e < m; ++e) {
        const Blk* g0 = &buf[4 * e];      // party 0: H(s ^ 0), H(s ^ 1)
        const Blk* g1 = &buf[4 * e + 2];  // party 1
        const u64 a = (alpha[c0 + e] >> (n - 1 - i)) & 1;
        const u64 am = u64{0} - a;  // alpha_i = 0: keep L, lose R; alpha_i = 1: keep R, lose L
        const Blk keep0 = pick(g0[0], g0[1], am), lose0 = pick(g0[1], g0[0], am);
        const Blk keep1 = pick(g1[0], g1[1], am), lose1 = pick(g1[1], g1[0], am);
        std::uint8_t* k = stage.data() + e * K;
        // The lost side's seeds become equal after correction (the tree off alpha's path cancels).
        const Blk scw = clear_low(bxor(lose0, lose1));
        std::memcpy(k + off_scw(i), &scw, 16);
        // On the kept side the control bits end up different, on the lost side equal.
        const u64 tcwl = (g0[0].lo ^ g1[0].lo ^ a ^ 1) & 1;
        const u64 tcwr = (g0[1].lo ^ g1[1].lo ^ a) & 1;
        const u64 tcwk = sel(tcwl, tcwr, am);
        const std::size_t bit = 2 * static_cast<std::size_t>(i);
        k[off_tbits(n) + bit / 8] |= static_cast<std::uint8_t>((tcwl | tcwr << 1) << (bit % 8));
        const u64 t0 = t[e], t1 = t[m + e];
        const u64 tm0 = u64{0} - t0, tm1 = u64{0} - t1;
        s[e] = {(keep0.lo & ~u64{1}) ^ (scw.lo & tm0), keep0.hi ^ (scw.hi & tm0)};
        s[m + e] = {(keep1.lo & ~u64{1}) ^ (scw.lo & tm1), keep1.hi ^ (scw.hi & tm1)};
        t[e] = static_cast<std::uint8_t>((keep0.lo ^ (t0 & tcwk)) & 1);
        t[m + e] = static_cast<std::uint8_t>((keep1.lo ^ (t1 & tcwk)) & 1);
      }
    }

    // CW^(n+1) = (-1)^{t_1^(n)} [beta - Convert(s_0^(n)) + Convert(s_1^(n))], word by word; both
    // parties' leaves (s[0, 2m)) hashed in one batch.
    if constexpr (LB > 0) {
      for (i64 q = 0; q < 2 * m; ++q)
        for (int b = 0; b < LB; ++b) buf[LB * q + b] = bxor(s[q], {kTweakF + static_cast<u64>(b), 0});
      mmo_inplace(buf.data(), static_cast<std::size_t>(LB * 2 * m));
    }
    for (i64 e = 0; e < m; ++e) {
      const u64 tm1 = u64{0} - t[m + e];
      for (int j = 0; j < W; ++j) {
        const u64 c0w = leaf_word<W>(s[e], &buf[LB * e], j), c1w = leaf_word<W>(s[m + e], &buf[LB * (m + e)], j);
        const u64 cw = neg_if(beta[(c0 + e) * W + j] - c0w + c1w, tm1);
        std::memcpy(stage.data() + e * K + off_final(n) + 8 * j, &cw, 8);
      }
    }
    const std::size_t used = static_cast<std::size_t>(m) * K;
    keys.first.bytes.insert(keys.first.bytes.end(), stage.data(), stage.data() + used);
    for (i64 e = 0; e < m; ++e) std::memcpy(stage.data() + e * K, &root1[e], 16);
    keys.second.bytes.insert(keys.second.bytes.end(), stage.data(), stage.data() + used);
  }
}

// A block as a 2-lane vector (GCC / Clang vector extension): the per-node work is 128-bit XOR / AND,
// one instruction each in a vector register, which also keeps the loops out of the 16 scalar registers.
typedef u64 V2 __attribute__((vector_size(16)));
inline V2 vload(const Blk* p) {
  V2 v;
  std::memcpy(&v, p, 16);
  return v;
}
inline void vstore(Blk* p, V2 v) { std::memcpy(p, &v, 16); }
inline V2 tweak(u64 x) { return V2{x, 0}; }

// A node's child from its hash h = H(s ^ side): seed (low bit cleared, corrected where the
// parent's t is set; tm = -t in both lanes) and control bit.
inline V2 child_seed(V2 h, V2 scw, V2 tm) { return (h & V2{~u64{1}, ~u64{0}}) ^ (scw & tm); }
inline u64 child_t(V2 h, u64 t, u64 tcw) { return (h[0] ^ (t & tcw)) & 1; }

// Level i of m consecutive keys (from `kb`), breadth-first: the level is m 2^i nodes, node g
// (element g >> i, position g mod 2^i) with children 2g, 2g + 1, so the element-major leaf order is
// the output order. buf holds node g's two child inputs at buf[2g], buf[2g + 1] (hashed here in one
// pass), t[g] its control bit; emit(k, c, s0, t0, s1, t1) gets children c = 2g, c + 1 with element
// key k and may write over buf[2c ..] and t[c ..] in place: nodes go from the last down, so what
// node g writes (at or after 2g) was read already.
template <class Emit>
inline void expand_level(const std::uint8_t* kb, std::size_t K, int n, int i, i64 m, Blk* buf, std::uint8_t* t, Emit&& emit) {
  mmo_inplace(buf, static_cast<std::size_t>(2 * (m << i)));
  const std::size_t bit = 2 * static_cast<std::size_t>(i);  // even: both of the level's bits in one byte
  for (i64 e = m - 1; e >= 0; --e) {
    const std::uint8_t* k = kb + e * K;
    V2 scw;
    std::memcpy(&scw, k + off_scw(i), 16);
    const u64 tb = static_cast<u64>(k[off_tbits(n) + bit / 8] >> (bit % 8));
    const u64 tcwl = tb & 1, tcwr = (tb >> 1) & 1;
    for (i64 g = ((e + 1) << i) - 1; g >= e << i; --g) {
      const u64 tg = t[g];
      const V2 tm = V2{} - V2{tg, tg};
      const V2 h0 = vload(buf + 2 * g), h1 = vload(buf + 2 * g + 1);
      emit(k, 2 * g, child_seed(h0, scw, tm), child_t(h0, tg, tcwl), child_seed(h1, scw, tm), child_t(h1, tg, tcwr));
    }
  }
}

// Full-domain evaluation of m consecutive keys (from `kb`) into out (m 2^n W words). buf: m 2^n
// max(1, ceil(W/2)) blocks, t: m 2^n bytes.
template <int W>
void eval_chunk(int party, int n, const std::uint8_t* kb, i64 m, Blk* buf, std::uint8_t* t, u64* out) {
  constexpr int LB = kLeafBlocks<W>;
  const std::size_t K = dpf_key_bytes(n, W);
  const std::size_t fin = off_final(n);
  const u64 pm = u64{0} - static_cast<u64>(party);  // party 1 negates its share
  for (i64 e = 0; e < m; ++e) {
    const Blk s = load_blk(kb + e * K);
    buf[2 * e] = bxor(s, {kTweakL, 0});
    buf[2 * e + 1] = bxor(s, {kTweakR, 0});
    t[e] = static_cast<std::uint8_t>(party);
  }
  for (int i = 0; i + 1 < n; ++i)
    expand_level(kb, K, n, i, m, buf, t, [&](const std::uint8_t*, i64 c, V2 s0, u64 t0, V2 s1, u64 t1) {
      vstore(buf + 2 * c, s0 ^ tweak(kTweakL));
      vstore(buf + 2 * c + 1, s0 ^ tweak(kTweakR));
      vstore(buf + 2 * c + 2, s1 ^ tweak(kTweakL));
      vstore(buf + 2 * c + 3, s1 ^ tweak(kTweakR));
      t[c] = static_cast<std::uint8_t>(t0);
      t[c + 1] = static_cast<std::uint8_t>(t1);
    });
  if constexpr (LB == 0) {
    // Leaf y = Convert(s) + t CW: the seed's high half, written straight out.
    expand_level(kb, K, n, n - 1, m, buf, t, [&](const std::uint8_t* k, i64 c, V2 s0, u64 t0, V2 s1, u64 t1) {
      const u64 cw = load_u64(k + fin);
      out[c] = neg_if(s0[1] + (cw & (u64{0} - t0)), pm);
      out[c + 1] = neg_if(s1[1] + (cw & (u64{0} - t1)), pm);
    });
  } else {
    // Leaf blocks of every leaf, hashed in one pass, then y = Convert(s) + t CW.
    expand_level(kb, K, n, n - 1, m, buf, t, [&](const std::uint8_t*, i64 c, V2 s0, u64 t0, V2 s1, u64 t1) {
      for (int b = 0; b < LB; ++b) vstore(buf + LB * c + b, s0 ^ tweak(kTweakF + static_cast<u64>(b)));
      for (int b = 0; b < LB; ++b) vstore(buf + LB * (c + 1) + b, s1 ^ tweak(kTweakF + static_cast<u64>(b)));
      t[c] = static_cast<std::uint8_t>(t0);
      t[c + 1] = static_cast<std::uint8_t>(t1);
    });
    mmo_inplace(buf, static_cast<std::size_t>(LB * (m << n)));
    const i64 leaves = i64{1} << n;
    for (i64 e = 0; e < m; ++e) {
      u64 cw[W];
      for (int j = 0; j < W; ++j) cw[j] = load_u64(kb + e * K + fin + 8 * j);
      for (i64 c = e * leaves; c < (e + 1) * leaves; ++c) {
        const u64 tm = u64{0} - static_cast<u64>(t[c]);
        for (int j = 0; j < W; ++j) out[c * W + j] = neg_if(leaf_word<W>(buf[LB * c], &buf[LB * c], j) + (cw[j] & tm), pm);
      }
    }
  }
}

// Slots for a call over `chunks` chunks: one per thread that may take a chunk (one inside another
// kernel's parallel section, which runs it on its own thread).
int eval_slots(i64 chunks) {
  if (in_pool_section()) return 1;
  return static_cast<int>(std::max<i64>(1, std::min<i64>(compute_threads(), chunks)));
}

template <int W>
void eval_all_impl(int party, int n, const std::uint8_t* kb, i64 count, u64* out) {
  const std::size_t K = dpf_key_bytes(n, W);
  const i64 C = eval_chunk_elems(n);
  const i64 chunks = (count + C - 1) / C;
  const int slots = eval_slots(chunks);
  const std::size_t blocks = static_cast<std::size_t>(C << n) * static_cast<std::size_t>(std::max(1, kLeafBlocks<W>));
  struct Slot {
    std::vector<Blk> buf;
    std::vector<std::uint8_t> t;
  };
  std::vector<Slot> st(static_cast<std::size_t>(slots));
  // Chunks are independent: they go to the pool's threads, each with its own buffers.
  parallel_chunks(chunks, slots, [&](int slot, i64 chunk) {
    Slot& sl = st[static_cast<std::size_t>(slot)];
    if (sl.buf.empty()) {
      sl.buf.resize(blocks);
      sl.t.resize(static_cast<std::size_t>(C << n));
    }
    const i64 c0 = chunk * C, m = std::min(C, count - c0);
    eval_chunk<W>(party, n, kb + static_cast<std::size_t>(c0) * K, m, sl.buf.data(), sl.t.data(), out + (c0 << n) * W);
  }, WorkKind::dcf_eval_level);
}

}  // namespace

std::size_t dpf_key_bytes(int n_bits, int width) {
  check_bits(n_bits, "dpf_key_bytes");
  check_width(width, "dpf_key_bytes");
  return off_final(n_bits) + 8 * static_cast<std::size_t>(width);
}

std::pair<DpfKeys, DpfKeys> dpf_gen(int n_bits, const u64* alpha, const u64* beta, i64 count, Prg& prg, int width) {
  check_bits(n_bits, "dpf_gen");
  check_width(width, "dpf_gen");
  if (count < 0) throw std::invalid_argument("dpf_gen: negative count " + std::to_string(count));
  const u64 mask = (u64{1} << n_bits) - 1;
  for (i64 e = 0; e < count; ++e)
    if (alpha[e] & ~mask)
      throw std::invalid_argument("dpf_gen: alpha[" + std::to_string(e) + "] does not fit in " +
                                  std::to_string(n_bits) + " bits");
  // In DCF gen levels (3 AES blocks per party and level): 2 per party and level here, plus the leaf blocks.
  const u64 blocks = static_cast<u64>(count) * static_cast<u64>(2 * n_bits + leaf_blocks(width));
  count_work(WorkKind::dcf_gen_level, (blocks + 2) / 3);
  const std::size_t K = dpf_key_bytes(n_bits, width);
  std::pair<DpfKeys, DpfKeys> keys;
  for (DpfKeys* k : {&keys.first, &keys.second}) {
    k->n_bits = n_bits;
    k->width = width;
    k->count = count;
    k->bytes.reserve(static_cast<std::size_t>(count) * K);  // filled by appending whole chunks
  }
  with_width(width, [&](auto w) { dpf_gen_impl<decltype(w)::value>(n_bits, alpha, beta, count, prg, keys); });
  return keys;
}

void dpf_eval_all_work(int n_bits, i64 count, int width) {
  check_bits(n_bits, "dpf_eval_all_work");
  check_width(width, "dpf_eval_all_work");
  if (count < 0) throw std::invalid_argument("dpf_eval_all_work: negative count " + std::to_string(count));
  // AES blocks: one per child of the 2^n - 1 inner nodes, plus the leaf blocks; a DCF eval level
  // (the unit) hashes 2.
  const u64 leaves = u64{1} << n_bits;
  const u64 per_element = 2 * leaves - 2 + leaves * static_cast<u64>(leaf_blocks(width));
  count_work(WorkKind::dcf_eval_level, (static_cast<u64>(count) * per_element + 1) / 2);
}

void dpf_eval_all_range(int party, const DpfKeys& keys, i64 first, i64 count, u64* out) {
  const std::string who = "dpf_eval_all_range";
  if (party != 0 && party != 1) throw std::invalid_argument(who + ": party must be 0 or 1, got " + std::to_string(party));
  check_bits(keys.n_bits, who);
  check_width(keys.width, who);
  const std::size_t K = dpf_key_bytes(keys.n_bits, keys.width);
  if (keys.count < 0 || keys.bytes.size() % K != 0 || keys.bytes.size() / K != static_cast<std::size_t>(keys.count))
    throw std::invalid_argument(who + ": key buffer has " + std::to_string(keys.bytes.size()) + " bytes, expected count (" +
                                std::to_string(keys.count) + ") x " + std::to_string(K) + " bytes for n_bits = " +
                                std::to_string(keys.n_bits) + ", width " + std::to_string(keys.width));
  if (first < 0 || count < 0 || first > keys.count || count > keys.count - first)
    throw std::invalid_argument(who + ": keys [" + std::to_string(first) + ", " + std::to_string(first) + " + " + std::to_string(count) +
                                ") outside the " + std::to_string(keys.count) + " keys");
  dpf_eval_all_work(keys.n_bits, count, keys.width);
  if (count == 0) return;
  const std::uint8_t* kb = keys.bytes.data() + static_cast<std::size_t>(first) * K;
  with_width(keys.width, [&](auto w) { eval_all_impl<decltype(w)::value>(party, keys.n_bits, kb, count, out); });
}

}  // namespace marill
