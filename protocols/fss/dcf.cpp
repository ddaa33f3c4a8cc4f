#include "protocols/fss/dcf.h"

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

// ---------------------------------------------------------------------------------------------
// PRG  G(s) = (s^L, t^L, s^R, t^R, v^L, v^R)  from fixed-key AES in Matyas-Meyer-Oseas mode:
//   H_j(s) = AES_K(s ^ j) ^ (s ^ j),  j = 0 (left), 1 (right), 2 (values)
// with one public fixed key K (AES modelled as a random permutation, the usual fixed-key
// assumption). H_0 gives s^L with t^L in its low bit, H_1 likewise s^R / t^R, H_2 gives
// v^L (low 64 bits) || v^R (high 64 bits). Seeds keep their low bit cleared (127-bit seeds)
// so a tweak never maps one seed onto another's tweaked input. One key for all three outputs
// means a whole level of a batch is one ECB pass, and Eval needs only 2 of the 3 blocks
// (its own side and the value block).
// ---------------------------------------------------------------------------------------------

using namespace fss_detail;  // the tree PRG and key-buffer helpers (mmo.h)

// Width 1: one value block (v^L || v^R). Width W >= 2: each side's W words in ceil(W/2) blocks of
// their own (side-major), so Eval hashes 1 + ceil(W/2) blocks per level; the leaf's W words come
// from blocks with tweaks kTweakF, kTweakF + 1.
constexpr u64 kTweakL = 0, kTweakR = 1, kTweakV = 2, kTweakF = 8;

// Elements processed together: enough blocks per level to keep the AES pipeline full, few
// enough that the chunk's keys (256 x 1.6 KB at n = 64) and level buffers stay in L2.
constexpr i64 kChunk = 256;

// Value blocks per side (W >= 2) and AES blocks per seed and level for Gen and Eval.
template <int W> constexpr int kSideBlocks = (W + 1) / 2;
template <int W> constexpr int kGenBlocks = W == 1 ? 3 : 2 + 2 * kSideBlocks<W>;
template <int W> constexpr int kEvalBlocks = W == 1 ? 2 : 1 + kSideBlocks<W>;

// A level's AES inputs for one seed: Gen needs every output of G, Eval only the side its input bit
// x_i selects and that side's values.
template <int W>
inline void put_gen_inputs(Blk* dst, Blk sd) {
  dst[0] = bxor(sd, {kTweakL, 0});
  dst[1] = bxor(sd, {kTweakR, 0});
  for (int i = 0; i < kGenBlocks<W> - 2; ++i) dst[2 + i] = bxor(sd, {kTweakV + static_cast<u64>(i), 0});
}
template <int W>
inline void put_eval_inputs(Blk* dst, Blk sd, u64 xbit) {
  dst[0] = bxor(sd, {xbit ? kTweakR : kTweakL, 0});
  if constexpr (W == 1) {
    dst[1] = bxor(sd, {kTweakV, 0});
  } else {
    for (int i = 0; i < kSideBlocks<W>; ++i) dst[1 + i] = bxor(sd, {kTweakV + xbit * kSideBlocks<W> + static_cast<u64>(i), 0});
  }
}
// Word j of side `side`'s values from a seed's hashed value blocks (Gen: blocks 2.., Eval: 1..).
template <int W>
inline u64 gen_value(const Blk* v, u64 side_mask, int j) {
  if constexpr (W == 1) return sel(v[0].lo, v[0].hi, side_mask);
  const Blk& l = v[j / 2];
  const Blk& r = v[kSideBlocks<W> + j / 2];
  return j % 2 ? sel(l.hi, r.hi, side_mask) : sel(l.lo, r.lo, side_mask);
}
template <int W>
inline u64 eval_value(const Blk* v, u64 side_mask, int j) {
  if constexpr (W == 1) return sel(v[0].lo, v[0].hi, side_mask);
  return j % 2 ? v[j / 2].hi : v[j / 2].lo;
}
// Convert: a final seed's W leaf words. Width 1: its high half; wider: hashed, `leaf_blocks<W>`
// blocks per seed, a batch of seeds at a time (one AES pass).
template <int W> constexpr int kLeafBlocks = W == 1 ? 0 : (W + 1) / 2;
template <int W>
void hash_leaves(const Blk* seeds, i64 m, Blk* out) {
  if constexpr (kLeafBlocks<W> > 0) {
    for (i64 e = 0; e < m; ++e)
      for (int b = 0; b < kLeafBlocks<W>; ++b) out[kLeafBlocks<W> * e + b] = bxor(seeds[e], {kTweakF + static_cast<u64>(b), 0});
    mmo_inplace(out, static_cast<std::size_t>(kLeafBlocks<W> * m));
  }
}
// Word j of seed e's leaf, from hash_leaves' output.
template <int W>
inline u64 leaf_word(const Blk* seeds, const Blk* hashed, i64 e, int j) {
  if constexpr (kLeafBlocks<W> == 0) return seeds[e].hi;
  const Blk& b = hashed[kLeafBlocks<W> * e + j / 2];
  return j % 2 ? b.hi : b.lo;
}

// Bytes ahead of the current level's correction word to prefetch (about 10 levels).
constexpr std::size_t kPrefetchAhead = 256;

// Per-element key layout offsets (see dcf.h): a level's correction word is 16 + 8W bytes.
// Value words are stored in their low vb bytes (8, or 1 for outputs wanted mod 2^8).
inline std::size_t level_bytes(int w, int vb) { return 16 + static_cast<std::size_t>(vb) * static_cast<std::size_t>(w); }
inline std::size_t off_cw(int level, int w, int vb) { return 16 + level_bytes(w, vb) * static_cast<std::size_t>(level); }
// Early termination (Boyle, Gilboa, Ishai CCS 2016 stop a DPF's tree where one leaf block holds
// several outputs; the same works for the comparison tree): with one-byte words of width 1 the last
// et_levels(n) levels are replaced by a leaf of 2^et one-byte outputs, one AES block (16 B of final
// correction where 4 levels cost 68 B).
constexpr int kEtLevels = 4;
inline int et_levels(int n, int w, int vb) { return vb == 1 && w == 1 ? std::min(kEtLevels, n) : 0; }
inline int tree_levels(int n, int w, int vb) { return n - et_levels(n, w, vb); }
inline std::size_t off_final(int n, int w, int vb) { return off_cw(tree_levels(n, w, vb), w, vb); }
inline std::size_t final_bytes(int n, int w, int vb) {
  return static_cast<std::size_t>(vb) * static_cast<std::size_t>(w) << et_levels(n, w, vb);
}
inline std::size_t off_tbits(int n, int w, int vb) { return off_final(n, w, vb) + final_bytes(n, w, vb); }
// The early-terminated leaf of a seed: 16 one-byte outputs from H(s ^ kTweakF), a batch at a time.
void hash_et_leaves(const Blk* seeds, i64 m, Blk* out) {
  for (i64 e = 0; e < m; ++e) out[e] = bxor(seeds[e], {kTweakF, 0});
  mmo_inplace(out, static_cast<std::size_t>(m));
}
inline u64 et_byte(const Blk& leaf, u64 j) { return ((j < 8 ? leaf.lo : leaf.hi) >> (8 * (j % 8))) & 0xff; }
// Work units of `levels` tree levels at width w, in width-1 levels (AES blocks are the cost).
inline u64 level_units(u64 levels, int w, bool gen) {
  static constexpr int gen_blocks[] = {0, kGenBlocks<1>, kGenBlocks<2>, kGenBlocks<3>};
  static constexpr int eval_blocks[] = {0, kEvalBlocks<1>, kEvalBlocks<2>, kEvalBlocks<3>};
  return gen ? levels * static_cast<u64>(gen_blocks[w]) / kGenBlocks<1> : levels * static_cast<u64>(eval_blocks[w]) / kEvalBlocks<1>;
}
inline void check_width(int w, const char* who) {
  if (w < 1 || w > kDcfMaxWidth)
    throw std::invalid_argument(std::string(who) + ": payload width must be in [1, " + std::to_string(kDcfMaxWidth) + "], got " + std::to_string(w));
}

inline void check_bits(int n_bits, const char* who) {
  if (n_bits < 1 || n_bits > 64)
    throw std::invalid_argument(std::string(who) + ": n_bits must be in [1, 64], got " +
                                std::to_string(n_bits));
}

// A value word stored in vb bytes (little-endian, as the dealer wrote its low bytes).
inline u64 load_word(const std::uint8_t* p, int vb) { return vb == 8 ? load_u64(p) : p[0]; }
inline void check_value_bytes(int vb, const char* who) {
  if (vb != 1 && vb != 8) throw std::invalid_argument(std::string(who) + ": value words of 1 or 8 bytes, got " + std::to_string(vb));
}

}  // namespace

std::size_t dcf_key_bytes(int n_bits, int width, int value_bytes) {
  check_bits(n_bits, "dcf_key_bytes");
  check_width(width, "dcf_key_bytes");
  check_value_bytes(value_bytes, "dcf_key_bytes");
  const auto levels = static_cast<std::size_t>(tree_levels(n_bits, width, value_bytes));
  return off_tbits(n_bits, width, value_bytes) + (2 * levels + 7) / 8;
}

namespace {

template <int W>
void dcf_gen_impl(int n, int vb, const u64* alpha, const u64* beta, i64 count, Prg& prg, std::pair<DcfKeys, DcfKeys>& keys) {
  const std::size_t K = dcf_key_bytes(n, W, vb);
  constexpr int G = kGenBlocks<W>;
  // A chunk's keys are built in a cache-resident staging buffer (party 0's; party 1's differ
  // only in the root seeds), then appended to both outputs.
  std::vector<std::uint8_t> stage(static_cast<std::size_t>(kChunk) * K);
  // s[p*m + e]: seeds; buf: AES inputs / outputs of the current level, G blocks per (p, e).
  std::vector<Blk> s(2 * kChunk), buf(2 * G * kChunk);
  std::vector<Blk> root1(kChunk);
  std::vector<std::uint8_t> t(2 * kChunk);
  std::vector<u64> valpha(static_cast<std::size_t>(kChunk) * W);

  for (i64 c0 = 0; c0 < count; c0 += kChunk) {
    const i64 m = std::min(kChunk, count - c0);
    prg.fill_bytes(reinterpret_cast<std::uint8_t*>(s.data()), 2 * m * sizeof(Blk));
    for (i64 e = 0; e < m; ++e) {
      std::uint8_t* k = stage.data() + e * K;
      s[e].lo &= ~u64{1};
      s[m + e].lo &= ~u64{1};
      t[e] = 0;  // t_b^(0) = b
      t[m + e] = 1;
      std::memcpy(k, &s[e], 16);
      root1[e] = s[m + e];
      put_gen_inputs<W>(&buf[G * e], s[e]);
      put_gen_inputs<W>(&buf[G * (m + e)], s[m + e]);
      std::memset(k + off_tbits(n, W, vb), 0, K - off_tbits(n, W, vb));  // t bits are OR-ed in
      for (int j = 0; j < W; ++j) valpha[e * W + j] = 0;
    }

    const int nt = tree_levels(n, W, vb), et = n - nt;
    for (int i = 0; i < nt; ++i) {
      mmo_inplace(buf.data(), static_cast<std::size_t>(2 * G * m));

      // Branch-free: alpha and t bits are random, so branches would mispredict half the time
      // (and would leak alpha through timing). am / tm* are all-ones masks of a bit.
      for (i64 e = 0; e < m; ++e) {
        const Blk* g0 = &buf[G * e];        // party 0: H_L, H_R, value blocks
        const Blk* g1 = &buf[G * (m + e)];  // party 1
        const u64 a = (alpha[c0 + e] >> (n - 1 - i)) & 1;
        const u64 am = u64{0} - a;  // alpha_i = 0: keep L, lose R; alpha_i = 1: keep R, lose L
        const Blk keep0 = pick(g0[0], g0[1], am), lose0 = pick(g0[1], g0[0], am);
        const Blk keep1 = pick(g1[0], g1[1], am), lose1 = pick(g1[1], g1[0], am);
        const u64 t0 = t[e], t1 = t[m + e];
        const u64 m1 = u64{0} - t1;
        auto sgn = [m1](u64 z) { return (z ^ m1) - m1; };  // (-1)^{t_1^(i-1)} z

        std::uint8_t* k = stage.data() + e * K;
        const Blk scw = {(lose0.lo ^ lose1.lo) & ~u64{1}, lose0.hi ^ lose1.hi};
        std::memcpy(k + off_cw(i, W, vb), &scw, 16);
        for (int j = 0; j < W; ++j) {
          const u64 vkeep0 = gen_value<W>(g0 + 2, am, j), vlose0 = gen_value<W>(g0 + 2, ~am, j);
          const u64 vkeep1 = gen_value<W>(g1 + 2, am, j), vlose1 = gen_value<W>(g1 + 2, ~am, j);
          u64& va = valpha[e * W + j];
          // Lose = L (alpha_i = 1) means x_i = 0 < alpha_i: the lost side carries beta.
          const u64 vcw = sgn(vlose1 - vlose0 - va) + (sgn(beta[(c0 + e) * W + j]) & am);
          va = va - vkeep1 + vkeep0 + sgn(vcw);
          std::memcpy(k + off_cw(i, W, vb) + 16 + static_cast<std::size_t>(vb * j), &vcw, static_cast<std::size_t>(vb));
        }
        const u64 tcwl = (g0[0].lo ^ g1[0].lo ^ a ^ 1) & 1;
        const u64 tcwr = (g0[1].lo ^ g1[1].lo ^ a) & 1;
        const u64 tcwk = sel(tcwl, tcwr, am);
        const std::size_t bit = 2 * static_cast<std::size_t>(i);
        k[off_tbits(n, W, vb) + bit / 8] |= static_cast<std::uint8_t>((tcwl | tcwr << 1) << (bit % 8));
        const u64 tm0 = u64{0} - t0, tm1 = u64{0} - t1;
        s[e] = {(keep0.lo & ~u64{1}) ^ (scw.lo & tm0), keep0.hi ^ (scw.hi & tm0)};
        s[m + e] = {(keep1.lo & ~u64{1}) ^ (scw.lo & tm1), keep1.hi ^ (scw.hi & tm1)};
        t[e] = static_cast<std::uint8_t>((keep0.lo ^ (t0 & tcwk)) & 1);
        t[m + e] = static_cast<std::uint8_t>((keep1.lo ^ (t1 & tcwk)) & 1);
        if (i + 1 < nt) {  // next level's inputs, written while the seeds are in registers
          put_gen_inputs<W>(&buf[G * e], s[e]);
          put_gen_inputs<W>(&buf[G * (m + e)], s[m + e]);
        }
      }
    }

    if (et > 0) {
      // Leaf byte j stands for x = (alpha's top bits, j): CW_j = (-1)^{t_1} [Convert(s_1)_j -
      // Convert(s_0)_j - V_alpha + beta [j < alpha's low bits]].
      hash_et_leaves(s.data(), 2 * m, buf.data());
      const u64 low = low_bits_mask(et);
      for (i64 e = 0; e < m; ++e) {
        const u64 a_lo = alpha[c0 + e] & low;
        for (u64 j = 0; j <= low; ++j) {
          u64 cw = et_byte(buf[m + e], j) - et_byte(buf[e], j) - valpha[e] + (j < a_lo ? beta[c0 + e] : 0);
          if (t[m + e]) cw = u64{0} - cw;
          stage[e * K + off_final(n, W, vb) + j] = static_cast<std::uint8_t>(cw);
        }
      }
    } else {
      // CW^(n+1) = (-1)^{t_1^(n)} [Convert(s_1^(n)) - Convert(s_0^(n)) - V_alpha], word by word; both
      // parties' leaves (s[0, 2m)) hashed in one batch.
      hash_leaves<W>(s.data(), 2 * m, buf.data());
      for (i64 e = 0; e < m; ++e)
        for (int j = 0; j < W; ++j) {
          u64 cw = leaf_word<W>(s.data(), buf.data(), m + e, j) - leaf_word<W>(s.data(), buf.data(), e, j) - valpha[e * W + j];
          if (t[m + e]) cw = u64{0} - cw;
          std::memcpy(stage.data() + e * K + off_final(n, W, vb) + static_cast<std::size_t>(vb * j), &cw, static_cast<std::size_t>(vb));
        }
    }
    const std::size_t used = static_cast<std::size_t>(m) * K;
    keys.first.bytes.insert(keys.first.bytes.end(), stage.data(), stage.data() + used);
    for (i64 e = 0; e < m; ++e) std::memcpy(stage.data() + e * K, &root1[e], 16);
    keys.second.bytes.insert(keys.second.bytes.end(), stage.data(), stage.data() + used);
  }
}

}  // namespace

std::pair<DcfKeys, DcfKeys> dcf_gen(int n_bits, const u64* alpha, const u64* beta, i64 count, Prg& prg, int width,
                                    int value_bytes) {
  check_bits(n_bits, "dcf_gen");
  check_width(width, "dcf_gen");
  check_value_bytes(value_bytes, "dcf_gen");
  if (count < 0) throw std::invalid_argument("dcf_gen: negative count");
  const u64 mask = low_bits_mask(n_bits);
  for (i64 e = 0; e < count; ++e)
    if (alpha[e] & ~mask)
      throw std::invalid_argument("dcf_gen: alpha[" + std::to_string(e) + "] does not fit in " +
                                  std::to_string(n_bits) + " bits");
  // Tree levels, and an early-terminated leaf's hash as one more level.
  const int gen_levels = tree_levels(n_bits, width, value_bytes) + (et_levels(n_bits, width, value_bytes) > 0);
  count_work(WorkKind::dcf_gen_level, level_units(static_cast<u64>(count) * static_cast<u64>(gen_levels), width, true));
  const std::size_t K = dcf_key_bytes(n_bits, width, value_bytes);
  std::pair<DcfKeys, DcfKeys> keys;
  for (DcfKeys* k : {&keys.first, &keys.second}) {
    k->n_bits = n_bits;
    k->width = width;
    k->value_bytes = value_bytes;
    k->count = count;
    // Filled by appending whole chunks: no zero-fill pass, and the big buffers are written
    // once, sequentially.
    k->bytes.reserve(static_cast<std::size_t>(count) * K);
  }
  with_width(width, [&](auto w) { dcf_gen_impl<decltype(w)::value>(n_bits, value_bytes, alpha, beta, count, prg, keys); });
  return keys;
}

namespace {

void check_eval_args(int party, const DcfKeys& keys, const char* who) {
  if (party != 0 && party != 1)
    throw std::invalid_argument(std::string(who) + ": party must be 0 or 1, got " + std::to_string(party));
  check_bits(keys.n_bits, who);
  check_width(keys.width, who);
  check_value_bytes(keys.value_bytes, who);
  const std::size_t K = dcf_key_bytes(keys.n_bits, keys.width, keys.value_bytes);
  if (keys.count < 0 || keys.bytes.size() % K != 0 ||
      keys.bytes.size() / K != static_cast<std::size_t>(keys.count))
    throw std::invalid_argument(std::string(who) + ": key buffer has " + std::to_string(keys.bytes.size()) +
                                " bytes, expected count (" + std::to_string(keys.count) + ") x " +
                                std::to_string(K) + " bytes for n_bits = " + std::to_string(keys.n_bits) +
                                ", width " + std::to_string(keys.width));
}

void check_points(const DcfKeys& keys, const u64* x, i64 count, const char* who) {
  const u64 mask = low_bits_mask(keys.n_bits);
  for (i64 e = 0; e < count; ++e)
    if (x[e] & ~mask)
      throw std::invalid_argument(std::string(who) + ": x[" + std::to_string(e) + "] does not fit in " +
                                  std::to_string(keys.n_bits) + " bits");
}

// `count` consecutive keys of a key set, from `bytes` (a range of DcfKeys, evaluated in place).
struct KeyView {
  int n_bits, width, value_bytes;
  i64 count;
  const std::uint8_t* bytes;
};
KeyView view_of(const DcfKeys& k, i64 first, i64 count) {
  return {k.n_bits, k.width, k.value_bytes, count,
          k.bytes.data() + static_cast<std::size_t>(first) * dcf_key_bytes(k.n_bits, k.width, k.value_bytes)};
}

// A chunk's tree walk state after some levels: seed, control bit and W value accumulators per element.
struct WalkState {
  std::vector<Blk> seed = std::vector<Blk>(kChunk);
  std::vector<std::uint8_t> t = std::vector<std::uint8_t>(kChunk);
  std::vector<u64> acc = std::vector<u64>(kChunk * kDcfMaxWidth);
  void copy_from(const WalkState& o, i64 e, int w) {
    seed[e] = o.seed[e];
    t[e] = o.t[e];
    for (int j = 0; j < w; ++j) acc[e * w + j] = o.acc[e * w + j];
  }
};

// Elements [c0, c0 + m) at their roots: seed from the key, t = party, acc = 0.
void walk_start(int party, const KeyView& keys, i64 c0, i64 m, WalkState& st) {
  const std::size_t K = dcf_key_bytes(keys.n_bits, keys.width, keys.value_bytes);
  const std::uint8_t* kbase = keys.bytes;
  for (i64 e = 0; e < m; ++e) {
    st.seed[e] = load_blk(kbase + (c0 + e) * K);
    st.t[e] = static_cast<std::uint8_t>(party);
    for (int j = 0; j < keys.width; ++j) st.acc[e * keys.width + j] = 0;
  }
}

// Walks levels [i0, i1) of elements [c0, c0 + m) along the bits of x[c0 + e] (level i reads bit
// n-1-i), updating st in place. `buf` holds kEvalBlocks<W> AES blocks per element.
template <int W>
void walk(const KeyView& keys, i64 c0, i64 m, const u64* x, int i0, int i1, WalkState& st, std::vector<Blk>& buf) {
  constexpr int E = kEvalBlocks<W>;
  const int n = keys.n_bits, vb = keys.value_bytes;
  const std::size_t K = dcf_key_bytes(n, W, vb);
  const std::uint8_t* kbase = keys.bytes;
  if (i0 >= i1) return;
  for (i64 e = 0; e < m; ++e) {
    put_eval_inputs<W>(&buf[E * e], st.seed[e], (x[c0 + e] >> (n - 1 - i0)) & 1);
    __builtin_prefetch(kbase + (c0 + e) * K + off_tbits(n, W, vb));
    __builtin_prefetch(kbase + (c0 + e) * K + off_tbits(n, W, vb) + 15);
  }
  for (int i = i0; i < i1; ++i) {
    const int sh = n - 1 - i;
    mmo_inplace(buf.data(), static_cast<std::size_t>(E * m));
    // Branch-free (t and x bits are random); the party's sign (-1)^b is applied at the end.
    for (i64 e = 0; e < m; ++e) {
      const std::uint8_t* k = kbase + (c0 + e) * K;
      // Each level reads 16 + 8W B from every key of the chunk, a stride the hardware prefetcher
      // misses; without this the loop waits on memory.
      __builtin_prefetch(k + off_cw(i, W, vb) + kPrefetchAhead);
      const u64 xb = (x[c0 + e] >> sh) & 1;
      const u64 te = st.t[e], tm = u64{0} - te, xm = u64{0} - xb;
      const Blk g = buf[E * e];
      const Blk scw = load_blk(k + off_cw(i, W, vb));
      const std::size_t bit = 2 * static_cast<std::size_t>(i) + xb;
      const u64 tcw = (k[off_tbits(n, W, vb) + bit / 8] >> (bit % 8)) & 1;
      const Blk sn = {(g.lo & ~u64{1}) ^ (scw.lo & tm), g.hi ^ (scw.hi & tm)};
      st.t[e] = static_cast<std::uint8_t>((g.lo ^ (te & tcw)) & 1);
      for (int j = 0; j < W; ++j)
        st.acc[e * W + j] += eval_value<W>(&buf[E * e + 1], xm, j) + (load_word(k + off_cw(i, W, vb) + 16 + static_cast<std::size_t>(vb * j), vb) & tm);
      if (i + 1 < i1)  // next level's inputs, written while the seed is in registers
        put_eval_inputs<W>(&buf[E * e], sn, (x[c0 + e] >> (sh - 1)) & 1);
      else
        st.seed[e] = sn;
    }
  }
}

// After the tree's levels: word j of element c0 + e goes to out[j * count + c0 + e] (this party's
// share; an early-terminated key's leaf byte at x's low bits). `buf` holds at least
// max(1, kLeafBlocks<W>) blocks per element (the leaves are hashed in one batch).
template <int W>
void walk_finish(int party, const KeyView& keys, i64 c0, i64 m, const WalkState& st, const u64* x, u64* out, std::vector<Blk>& buf) {
  const int n = keys.n_bits, vb = keys.value_bytes;
  const std::size_t K = dcf_key_bytes(n, W, vb);
  const std::uint8_t* kbase = keys.bytes;
  const int et = et_levels(n, W, vb);
  if (et > 0) {  // the leaf byte at x's low et bits, and its correction byte
    hash_et_leaves(st.seed.data(), m, buf.data());
    const u64 low = low_bits_mask(et);
    for (i64 e = 0; e < m; ++e) {
      const u64 j = x[c0 + e] & low;
      const u64 cw = kbase[static_cast<std::size_t>(c0 + e) * K + off_final(n, W, vb) + j];
      const u64 y = st.acc[e] + et_byte(buf[e], j) + (cw & (u64{0} - st.t[e]));
      out[c0 + e] = party ? u64{0} - y : y;
    }
    return;
  }
  hash_leaves<W>(st.seed.data(), m, buf.data());
  for (i64 e = 0; e < m; ++e) {
    const std::uint8_t* k = kbase + (c0 + e) * K;
    const u64 tm = u64{0} - st.t[e];
    for (int j = 0; j < W; ++j) {
      const u64 y = st.acc[e * W + j] + leaf_word<W>(st.seed.data(), buf.data(), e, j) + (load_word(k + off_final(n, W, vb) + static_cast<std::size_t>(vb * j), vb) & tm);
      out[j * keys.count + c0 + e] = party ? u64{0} - y : y;
    }
  }
}

}  // namespace

namespace {
// Work units of `walked` tree levels at width w, plus `leaves` early-terminated leaf hashes (one AES
// block each: half a width-1 level).
u64 eval_units(u64 walked, u64 leaves, int w) { return level_units(walked, w, false) + (leaves + 1) / 2; }
}  // namespace

void dcf_eval_work(int n_bits, i64 count, int points, int width, int value_bytes) {
  const u64 evals = static_cast<u64>(count) * static_cast<u64>(points);
  const bool et = et_levels(n_bits, width, value_bytes) > 0;
  count_work(WorkKind::dcf_eval_level, eval_units(evals * static_cast<u64>(tree_levels(n_bits, width, value_bytes)), et ? evals : 0, width));
}

namespace {
// dcf_eval_shifts' split: the points share their top n - L levels (L = bit length of the largest
// shift), walked on two paths, then each point walks its own L levels. Returns T = n - L (>= 0).
bool any_shift(const u64* deltas, int points) {
  for (int p = 0; p < points; ++p)
    if (deltas[p]) return true;
  return false;
}

int shared_top_levels(int n_bits, const u64* deltas, int points) {
  u64 dmax = 0;
  for (int p = 0; p < points; ++p) dmax = std::max(dmax, deltas[p]);
  const int L = dmax ? 64 - __builtin_clzll(dmax) : 0;
  return std::max(0, n_bits - L);
}

// Slots for a call over `count` elements: one per thread that may take a chunk (one inside another
// kernel's parallel section, which runs it on its own thread).
int eval_slots(i64 count) {
  if (in_pool_section()) return 1;
  return static_cast<int>(std::max<i64>(1, std::min<i64>(compute_threads(), (count + kChunk - 1) / kChunk)));
}

template <int W>
void eval_points_impl(int party, const KeyView& keys, const u64* x, int points, u64* out) {
  const i64 count = keys.count;
  const int slots = eval_slots(count);
  std::vector<WalkState> st(static_cast<size_t>(slots));
  std::vector<std::vector<Blk>> bufs(static_cast<size_t>(slots), std::vector<Blk>(kEvalBlocks<W> * kChunk));
  // Chunk-major: a chunk's keys stay in cache while every point is evaluated with them. Chunks are
  // independent: they go to the pool's threads.
  parallel_chunks((count + kChunk - 1) / kChunk, slots, [&](int slot, i64 chunk) {
    const i64 c0 = chunk * kChunk, m = std::min(kChunk, count - c0);
    WalkState& s = st[static_cast<size_t>(slot)];
    std::vector<Blk>& buf = bufs[static_cast<size_t>(slot)];
    for (int p = 0; p < points; ++p) {
      const u64* xp = x + static_cast<i64>(p) * count;
      walk_start(party, keys, c0, m, s);
      walk<W>(keys, c0, m, xp, 0, tree_levels(keys.n_bits, W, keys.value_bytes), s, buf);
      walk_finish<W>(party, keys, c0, m, s, xp, out + static_cast<i64>(p) * W * count, buf);
    }
  }, WorkKind::dcf_eval_level);
}

template <int W>
void eval_shifts_impl(int party, const KeyView& keys, const u64* base, const u64* deltas, int points, u64* out) {
  const i64 count = keys.count;
  const int n = keys.n_bits;
  const u64 mask = low_bits_mask(n);
  // Points base - d (d < 2^L, L = n - T: the caller checked that shifts fit in n bits) share their
  // top T bits with base or with base - 2^L.
  // An early-terminated key's leaf holds the low bits' outputs: the walk stops at nt.
  const int nt = tree_levels(n, W, keys.value_bytes);
  const int T = std::min(shared_top_levels(n, deltas, points), nt);
  const int L = n - T;
  const bool shifted = any_shift(deltas, points);  // else every point is base
  struct Slot {
    WalkState top_a, top_b, st;
    std::vector<Blk> buf = std::vector<Blk>(kEvalBlocks<W> * kChunk);
  };
  const int slots = eval_slots(count);
  std::vector<Slot> state(static_cast<size_t>(slots));
  std::vector<u64> xa(static_cast<std::size_t>(count)), xb(static_cast<std::size_t>(count)), xp(static_cast<std::size_t>(count));
  for (i64 e = 0; e < count; ++e) {
    xa[e] = base[e];
    xb[e] = L < 64 ? (base[e] - (u64{1} << L)) & mask : 0;
  }
  parallel_chunks((count + kChunk - 1) / kChunk, slots, [&](int slot, i64 chunk) {
    const i64 c0 = chunk * kChunk, m = std::min(kChunk, count - c0);
    Slot& sl = state[static_cast<size_t>(slot)];
    walk_start(party, keys, c0, m, sl.top_a);
    walk<W>(keys, c0, m, xa.data(), 0, T, sl.top_a, sl.buf);
    walk_start(party, keys, c0, m, sl.top_b);
    if (T > 0 && shifted) walk<W>(keys, c0, m, xb.data(), 0, T, sl.top_b, sl.buf);
    for (int p = 0; p < points; ++p) {
      const u64 d = deltas[p];
      for (i64 e = 0; e < m; ++e) {
        const u64 v = (base[c0 + e] - d) & mask;
        xp[c0 + e] = v;
        const bool same = T == 0 || (v >> L) == (base[c0 + e] >> L);
        sl.st.copy_from(same ? sl.top_a : sl.top_b, e, W);
      }
      walk<W>(keys, c0, m, xp.data(), T, nt, sl.st, sl.buf);
      walk_finish<W>(party, keys, c0, m, sl.st, xp.data(), out + static_cast<i64>(p) * W * count, sl.buf);
    }
  }, WorkKind::dcf_eval_level);
}
}  // namespace

void dcf_eval_shifts_work(int n_bits, i64 count, const u64* deltas, int points, int width, int value_bytes) {
  const int nt = tree_levels(n_bits, width, value_bytes);
  const int T = std::min(shared_top_levels(n_bits, deltas, points), nt);
  const int paths = any_shift(deltas, points) ? 2 : 1;  // every shift 0: one path (dcf_eval_shifts)
  const u64 per_element = static_cast<u64>(paths * T) + static_cast<u64>(points) * static_cast<u64>(nt - T);
  const u64 leaves = nt < n_bits ? static_cast<u64>(count) * static_cast<u64>(points) : 0;
  count_work(WorkKind::dcf_eval_level, eval_units(static_cast<u64>(count) * per_element, leaves, width));
}

void dcf_eval(int party, const DcfKeys& keys, const u64* x, u64* out) {
  dcf_eval_points(party, keys, x, 1, out);
}

void dcf_eval_points(int party, const DcfKeys& keys, const u64* x, int points, u64* out) {
  check_eval_args(party, keys, "dcf_eval");
  if (points < 1) throw std::invalid_argument("dcf_eval: points must be >= 1");
  const i64 count = keys.count;
  dcf_eval_work(keys.n_bits, count, points, keys.width, keys.value_bytes);
  for (int p = 0; p < points; ++p) check_points(keys, x + static_cast<i64>(p) * count, count, "dcf_eval");
  const KeyView v = view_of(keys, 0, count);
  with_width(keys.width, [&](auto w) { eval_points_impl<decltype(w)::value>(party, v, x, points, out); });
}

void dcf_eval_shifts(int party, const DcfKeys& keys, const u64* base, const u64* deltas, int points, u64* out) {
  dcf_eval_shifts_range(party, keys, 0, keys.count, base, deltas, points, out);
}

void dcf_eval_shifts_range(int party, const DcfKeys& keys, i64 first, i64 count, const u64* base, const u64* deltas, int points, u64* out) {
  check_eval_args(party, keys, "dcf_eval");
  if (points < 1) throw std::invalid_argument("dcf_eval: points must be >= 1");
  if (first < 0 || count < 0 || first + count > keys.count)
    throw std::invalid_argument("dcf_eval: keys [" + std::to_string(first) + ", " + std::to_string(first + count) + ") of " + std::to_string(keys.count));
  const int n = keys.n_bits;
  const u64 mask = low_bits_mask(n);
  check_points(keys, base, count, "dcf_eval");
  u64 dmax = 0;
  for (int p = 0; p < points; ++p) dmax = std::max(dmax, deltas[p]);
  if (dmax & ~mask) throw std::invalid_argument("dcf_eval: a shift does not fit in " + std::to_string(n) + " bits");
  dcf_eval_shifts_work(n, count, deltas, points, keys.width, keys.value_bytes);
  const KeyView v = view_of(keys, first, count);
  with_width(keys.width, [&](auto w) { eval_shifts_impl<decltype(w)::value>(party, v, base, deltas, points, out); });
}

// ---- LTZ ----
//
// Write values mod 2^n as (hi, lo) with hi = bit n-1 and lo the low n-1 bits. With
// xhat = x + r mod 2^n we have x = xhat - r, and subtracting the low parts borrows from the top
// bit exactly when xhat_lo < r_lo:
//   x_lo = xhat_lo - r_lo mod 2^(n-1),   x_hi = xhat_hi ^ r_hi ^ [xhat_lo < r_lo].
// (Equivalently, x_lo + r_lo carries into bit n-1 iff the sum wrapped, i.e. iff xhat_lo < r_lo.)
// The dealer gives a DCF for [xhat_lo < r_lo] on n-1 bits with beta = 1 - 2 r_hi, and shares of
// r_hi, so the parties hold shares of
//   w = r_hi + (1 - 2 r_hi) [xhat_lo < r_lo] = r_hi ^ [xhat_lo < r_lo]
// and, xhat_hi being public,
//   MSB = xhat_hi ^ w = xhat_hi + (1 - 2 xhat_hi) w   (only party 0 adds the constant xhat_hi).

// With payloads p_j (p_0 = 1) the DCF's beta is the vector (1 - 2 r_hi) p_j and the dealer shares
// r_hi p_j, so the parties hold shares of w p_j and, with their shares of p_j,
//   MSB p_j = xhat_hi p_j + (1 - 2 xhat_hi) w p_j.

std::size_t ltz_key_bytes(int n_bits, int width, int value_bytes) {
  if (n_bits < 2 || n_bits > 64)
    throw std::invalid_argument("ltz_key_bytes: n_bits must be in [2, 64], got " +
                                std::to_string(n_bits));
  return dcf_key_bytes(n_bits - 1, width, value_bytes) + static_cast<std::size_t>(value_bytes) * static_cast<std::size_t>(width);
}

std::pair<LtzKeys, LtzKeys> ltz_gen(int n_bits, const u64* r_in, i64 count, Prg& prg, int width, const u64* payload,
                                    int value_bytes) {
  ltz_key_bytes(n_bits, width, value_bytes);  // validates n_bits, width and value_bytes
  if (count < 0) throw std::invalid_argument("ltz_gen: negative count");
  if (width > 1 && !payload) throw std::invalid_argument("ltz_gen: no payload for width " + std::to_string(width));
  const int nl = n_bits - 1;
  const u64 lo_mask = low_bits_mask(nl);
  const auto W = static_cast<std::size_t>(width), n = static_cast<std::size_t>(count);
  std::vector<u64> alpha(n), beta(n * W);
  std::vector<u64> rhi0(n * W), rhi1(n * W);
  prg.fill(rhi0.data(), rhi0.size());
  for (std::size_t e = 0; e < n; ++e) {
    const u64 rhi = (r_in[e] >> nl) & 1;
    alpha[e] = r_in[e] & lo_mask;
    for (std::size_t j = 0; j < W; ++j) {
      const u64 pj = j == 0 ? 1 : payload[(j - 1) * n + e];
      beta[e * W + j] = (1 - 2 * rhi) * pj;
      rhi1[j * n + e] = rhi * pj - rhi0[j * n + e];
    }
  }
  auto dk = dcf_gen(nl, alpha.data(), beta.data(), count, prg, width, value_bytes);
  if (value_bytes < 8)
    for (std::vector<u64>* rh : {&rhi0, &rhi1})
      for (u64& v : *rh) v &= low_bits_mask(8 * value_bytes);  // what travels
  std::pair<LtzKeys, LtzKeys> keys;
  keys.first = {n_bits, count, std::move(dk.first), std::move(rhi0), width, value_bytes};
  keys.second = {n_bits, count, std::move(dk.second), std::move(rhi1), width, value_bytes};
  return keys;
}

namespace {

// Validates keys and the point count; returns n - 1, the DCF's width.
int check_ltz(const LtzKeys& keys, int points, int want_width) {
  ltz_key_bytes(keys.n_bits, keys.width, keys.value_bytes);  // validates n_bits, width and value_bytes
  const int nl = keys.n_bits - 1;
  if (keys.count < 0 || keys.dcf.n_bits != nl || keys.dcf.count != keys.count || keys.dcf.width != keys.width ||
      keys.dcf.value_bytes != keys.value_bytes ||
      keys.r_hi.size() != static_cast<std::size_t>(keys.count) * static_cast<std::size_t>(keys.width))
    throw std::invalid_argument("ltz_eval: malformed keys (n_bits " + std::to_string(keys.n_bits) +
                                ", count " + std::to_string(keys.count) + ", dcf n_bits " +
                                std::to_string(keys.dcf.n_bits) + ", " +
                                std::to_string(keys.r_hi.size()) + " r_hi shares)");
  if (want_width && keys.width != want_width)
    throw std::invalid_argument("ltz_eval: keys of payload width " + std::to_string(keys.width) + ", expected " + std::to_string(want_width));
  if (points < 1) throw std::invalid_argument("ltz_eval: points must be >= 1");
  return nl;
}

// out = this party's share of MSB p = xhat_hi p + (1 - 2 xhat_hi) w p (see above); `dcf_out` holds
// the DCF share of (1 - 2 r_hi) [xhat_lo < r_lo] p, p_share this party's share of p.
inline u64 ltz_combine(u64 dcf_out, u64 r_hi_share, u64 p_share, u64 xhat, int nl) {
  const u64 xhi = (xhat >> nl) & 1;
  return (1 - 2 * xhi) * (dcf_out + r_hi_share) + xhi * p_share;
}

// This party's share of p_0 = 1.
inline u64 one_share(int party) { return party == 0 ? 1 : 0; }

}  // namespace

void ltz_eval_work(int n_bits, i64 count, int points, int width, int value_bytes) {
  dcf_eval_work(n_bits - 1, count, points, width, value_bytes);
}

void ltz_eval_shifts_work(int n_bits, i64 count, const u64* deltas, int points, int width, int value_bytes) {
  const u64 lo_mask = low_bits_mask(n_bits - 1);
  std::vector<u64> dlo(static_cast<std::size_t>(points));
  for (int p = 0; p < points; ++p) dlo[static_cast<std::size_t>(p)] = deltas[p] & lo_mask;
  dcf_eval_shifts_work(n_bits - 1, count, dlo.data(), points, width, value_bytes);
}

void ltz_eval(int party, const LtzKeys& keys, const u64* xhat, u64* out) {
  ltz_eval_points(party, keys, xhat, 1, out);
}

void ltz_eval_points(int party, const LtzKeys& keys, const u64* xhat, int points, u64* out) {
  const int nl = check_ltz(keys, points, 1);
  const auto count = static_cast<std::size_t>(keys.count);
  const std::size_t total = count * static_cast<std::size_t>(points);
  const u64 lo_mask = low_bits_mask(nl);
  std::vector<u64> xlo(total);
  for (std::size_t e = 0; e < total; ++e) xlo[e] = xhat[e] & lo_mask;
  dcf_eval_points(party, keys.dcf, xlo.data(), points, out);
  for (std::size_t i = 0; i < total; ++i) out[i] = ltz_combine(out[i], keys.r_hi[i % count], one_share(party), xhat[i], nl);
}

void ltz_eval_shifts(int party, const LtzKeys& keys, const u64* base, const u64* deltas, int points, u64* out) {
  ltz_eval_payload_shifts(party, keys, base, deltas, points, nullptr, out);
}

void ltz_eval_payload_shifts(int party, const LtzKeys& keys, const u64* base, const u64* deltas, int points,
                             const u64* payload_shares, u64* out) {
  ltz_eval_payload_shifts_range(party, keys, 0, keys.count, base, deltas, points, payload_shares, out);
}

void ltz_eval_payload_shifts_range(int party, const LtzKeys& keys, i64 first, i64 n, const u64* base, const u64* deltas,
                                   int points, const u64* payload_shares, u64* out) {
  const int nl = check_ltz(keys, points, 0);
  if (keys.width > 1 && !payload_shares) throw std::invalid_argument("ltz_eval: no payload shares for width " + std::to_string(keys.width));
  if (first < 0 || n < 0 || first + n > keys.count)
    throw std::invalid_argument("ltz_eval: keys [" + std::to_string(first) + ", " + std::to_string(first + n) + ") of " + std::to_string(keys.count));
  const auto count = static_cast<std::size_t>(n), W = static_cast<std::size_t>(keys.width);
  const u64 lo_mask = low_bits_mask(nl);
  std::vector<u64> blo(count), dlo(static_cast<std::size_t>(points));
  for (std::size_t e = 0; e < count; ++e) blo[e] = base[e] & lo_mask;
  for (int p = 0; p < points; ++p) dlo[static_cast<std::size_t>(p)] = deltas[p] & lo_mask;
  dcf_eval_shifts_range(party, keys.dcf, first, n, blo.data(), dlo.data(), points, out);  // on (base - d) mod 2^nl
  for (int p = 0; p < points; ++p)
    for (std::size_t j = 0; j < W; ++j) {
      u64* o = out + (static_cast<std::size_t>(p) * W + j) * count;
      const u64* rh = keys.r_hi.data() + j * static_cast<std::size_t>(keys.count) + static_cast<std::size_t>(first);
      const u64* ps = j ? payload_shares + (j - 1) * count : nullptr;
      for (std::size_t e = 0; e < count; ++e)
        o[e] = ltz_combine(o[e], rh[e], ps ? ps[e] : one_share(party), base[e] - deltas[p], nl);
    }
}

}  // namespace marill
