#include "protocols/ot/ot_extension.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>
#include <stdexcept>
#include <string>

#include "protocols/ot/bit_transpose.h"
#include "protocols/ot/tccr_hash.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

constexpr std::size_t kColumns = kKappa;

Key128 key_of(const Block& b) {
  Key128 k;
  std::memcpy(k.data(), &b, 16);
  return k;
}

void require_count(std::int64_t n, const char* what) {
  if (n < 0) throw std::invalid_argument(std::string(what) + ": negative number of OTs " + std::to_string(n));
}

void require_width(int bits, const char* what) {
  if (bits < 1 || bits > 64) throw std::invalid_argument(std::string(what) + ": message width " + std::to_string(bits) + " bits is outside 1..64");
}

void require_one_of_n(int k, int bits) {
  if (k < 1 || k > 8) throw std::invalid_argument("1-of-N OT: k = " + std::to_string(k) + " is outside 1..8 (N = 2^k)");
  require_width(bits, "1-of-N OT");
}

// The sender's padded messages of n 1-of-2^k OTs of `bits` bits.
std::uint64_t one_of_n_bytes(std::int64_t n, int k, int bits) {
  return packed_bytes(static_cast<std::uint64_t>(n) * (std::uint64_t{1} << k) * static_cast<std::uint64_t>(bits));
}

void require_widths(std::int64_t n, const std::vector<std::uint8_t>& widths, const char* what) {
  if (widths.empty()) throw std::invalid_argument(std::string(what) + ": no widths");
  for (auto w : widths) require_width(w, what);
  if (n % static_cast<std::int64_t>(widths.size()) != 0)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(widths.size()) + " widths do not divide " + std::to_string(n) + " OTs");
}

// Packs 0/1 choices into n̄ bits, LSB-first (the layout of a column).
std::vector<std::uint8_t> pack_choices(const std::vector<std::uint8_t>& choices) {
  std::vector<std::uint8_t> packed(iknp_padded(static_cast<std::int64_t>(choices.size())) / 8, 0);
  for (std::size_t i = 0; i < choices.size(); ++i) packed[i / 8] |= static_cast<std::uint8_t>(choices[i] << (i % 8));
  return packed;
}

// Rows of a 128 × n̄ column matrix: out[i] = row i (128 bits, bit j from column j).
std::vector<Block> columns_to_rows(const std::vector<std::uint8_t>& columns, std::uint64_t n_padded) {
  std::vector<Block> rows(n_padded);
  transpose_bits(columns.data(), reinterpret_cast<std::uint8_t*>(rows.data()), kColumns, n_padded);
  return rows;
}

// (H(q_i), H(q_i ⊕ s)) for i < n.
RandomOtPairs hash_pairs(const std::vector<Block>& q, const Block& s, std::int64_t n, u64 first_index) {
  RandomOtPairs out;
  const auto m = static_cast<std::size_t>(n);
  out.m0.assign(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(m));
  out.m1.resize(m);
  for (std::size_t i = 0; i < m; ++i) out.m1[i] = q[i] ^ s;
  tccr_hash(out.m0.data(), out.m0.data(), m, first_index, kTweakRandomOt);
  tccr_hash(out.m1.data(), out.m1.data(), m, first_index, kTweakRandomOt);
  return out;
}

u64 one_of_n_domain(std::size_t j, std::size_t x) { return kTweakOneOfNBase + (static_cast<u64>(j) << 8 | static_cast<u64>(x)); }

std::vector<std::uint8_t> random_bits(std::size_t n) {
  std::vector<std::uint8_t> bits(n);
  Prg prg = Prg::from_os();
  prg.fill_bytes(bits.data(), n);
  for (auto& b : bits) b &= 1;
  return bits;
}

// GGM tree node → its two children (the PRG keyed by the node).
std::pair<Block, Block> ggm_children(const Block& node) {
  Block c[2];
  Prg(key_of(node)).fill_bytes(reinterpret_cast<std::uint8_t*>(c), sizeof c);
  return {c[0], c[1]};
}

// Small-field VOLE fold (SoftSpoken): given r_x for x < 2^k (buf[x], `bytes` each), leaves in
// out[i] = ⊕_{x_i = 1} r_x for i < k and returns with buf[0] = ⊕_x r_x. 2^k XORs of a segment:
// the top bit's half is summed into v_top, then folded onto the bottom half, and so on down.
void vole_fold(std::vector<std::vector<std::uint8_t>>& buf, int k, std::size_t bytes, std::vector<std::uint8_t*>& out) {
  for (int i = k - 1; i >= 0; --i) {
    const std::size_t half = std::size_t{1} << i;
    std::uint8_t* v = out[static_cast<std::size_t>(i)];
    std::memset(v, 0, bytes);
    for (std::size_t y = 0; y < half; ++y) {
      const std::uint8_t* hi = buf[half + y].data();
      std::uint8_t* lo = buf[y].data();
      for (std::size_t b = 0; b < bytes; ++b) {
        v[b] ^= hi[b];
        lo[b] ^= hi[b];
      }
    }
  }
}

constexpr std::size_t kSegmentBytes = 4096;  // SoftSpoken works on 32768 OTs at a time per leaf

// SoftSpoken's chunks of the 128 columns: ⌈128/k⌉ of k columns, the last smaller when k does not
// divide 128 (k = 10: twelve of 10 and one of 8). Chunk c's leaves start at leaf_base.
struct Chunk {
  std::size_t first = 0, size = 0, leaf_base = 0;
  std::size_t leaves() const { return std::size_t{1} << size; }
};

std::vector<Chunk> chunks_of(int k) {
  std::vector<Chunk> out;
  std::size_t leaf_base = 0;
  for (std::size_t first = 0; first < kColumns; first += static_cast<std::size_t>(k)) {
    Chunk c;
    c.first = first;
    c.size = std::min(static_cast<std::size_t>(k), kColumns - first);
    c.leaf_base = leaf_base;
    leaf_base += c.leaves();
    out.push_back(c);
  }
  return out;
}

// What one extension of n OTs costs either side (work_meter.h): the leaf PRG output expanded and
// folded, and the 128 columns transposed; the same whether the run is real or phantom.
void count_extension(std::int64_t n, int k, bool sender) {
  const std::uint64_t column_bytes = iknp_padded(n) / 8;
  std::uint64_t leaves = 0;
  if (k == 1) leaves = sender ? kColumns : 2 * kColumns;
  else
    for (const Chunk& ch : chunks_of(k)) leaves += sender ? ch.leaves() - 1 : ch.leaves();
  count_work(WorkKind::ot_column_byte, (leaves + kColumns) * column_bytes);
}

}  // namespace

int require_softspoken_k(int k) {
  if (k < 1 || k > kMaxSoftSpokenK)
    throw std::invalid_argument("OT extension: SoftSpokenOT chunk size k = " + std::to_string(k) + " is outside 1 (IKNP) .. " +
                                std::to_string(kMaxSoftSpokenK));
  return k;
}

std::uint64_t cot_correction_bytes(std::int64_t n, const std::vector<std::uint8_t>& widths) {
  std::uint64_t period_bits = 0;
  for (auto w : widths) period_bits += w;
  return packed_bytes(period_bits * static_cast<std::uint64_t>(n / static_cast<std::int64_t>(widths.size())));
}

// ---------------------------------------------------------------- sender

void OtExtSender::setup_start(Comm& comm, Role peer) {
  PhaseScope offline(comm.ledger(), Phase::offline);
  OpScope op(comm.ledger(), "ot_setup");
  peer_ = peer;
  ready_ = false;
  {
    DiscardWorkScope once;  // set-up work is once per session and not modelled
    base_choices_ = comm.phantom() ? std::vector<std::uint8_t>(kColumns, 0) : random_bits(kColumns);
  }
  const std::vector<Block> seeds = base_ot_receive(comm, peer, base_choices_);
  column_prgs_.clear();
  delta_chunks_.clear();
  if (comm.phantom()) return;
  if (k_ == 1) {
    delta_ = Block{};
    for (std::size_t j = 0; j < kColumns; ++j)
      if (base_choices_[j]) (j < 64 ? delta_.lo : delta_.hi) |= u64{1} << (j % 64);
    column_prgs_.reserve(kColumns);
    for (const auto& seed : seeds) column_prgs_.emplace_back(key_of(seed));
  } else {
    base_keys_ = seeds;
  }
}

void OtExtSender::setup_finish(Comm& comm) {
  PhaseScope offline(comm.ledger(), Phase::offline);
  OpScope op(comm.ledger(), "ot_setup");
  next_index_ = 0;
  if (k_ > 1) {
    // The level sums of each chunk's GGM tree, two per base OT, under the base OTs' keys.
    const auto sums = comm.recv_bytes(peer_, std::uint64_t{kKappa} * 2 * 16);
    DiscardWorkScope once;  // set-up work is once per session and not modelled
    if (!comm.phantom()) {
      const std::vector<Chunk> chunks = chunks_of(k_);
      delta_ = Block{};
      column_prgs_.reserve(chunks.back().leaf_base + chunks.back().leaves());
      for (const Chunk& ch : chunks) {
        const int size = static_cast<int>(ch.size);
        // Δ_c's branch at level j is the side this party did not learn: ¬(base choice).
        std::size_t dc = 0;
        for (int j = 0; j < size; ++j) dc = dc << 1 | static_cast<std::size_t>(1 - base_choices_[ch.first + static_cast<std::size_t>(j)]);
        std::vector<Block> nodes(1);  // level 0: the root, unknown (it is on Δ_c's path)
        std::size_t path = 0;         // index of the unknown node at the current level
        for (int j = 0; j < size; ++j) {
          const std::size_t ot = ch.first + static_cast<std::size_t>(j);
          const int branch = static_cast<int>((dc >> (size - 1 - j)) & 1);
          std::vector<Block> next(nodes.size() * 2);
          for (std::size_t p = 0; p < nodes.size(); ++p) {
            if (p == path) continue;
            std::tie(next[2 * p], next[2 * p + 1]) = ggm_children(nodes[p]);
          }
          const std::size_t sibling = 2 * path + static_cast<std::size_t>(1 - branch);
          Block side;
          std::memcpy(&side, sums.data() + (ot * 2 + static_cast<std::size_t>(1 - branch)) * 16, 16);
          side ^= base_keys_[ot];
          for (std::size_t q = static_cast<std::size_t>(1 - branch); q < next.size(); q += 2)
            if (q != sibling) side ^= next[q];
          next[sibling] = side;
          path = 2 * path + static_cast<std::size_t>(branch);
          nodes = std::move(next);
        }
        for (std::size_t i = 0; i < ch.size; ++i)
          if ((dc >> i) & 1) {
            const std::size_t col = ch.first + i;
            (col < 64 ? delta_.lo : delta_.hi) |= u64{1} << (col % 64);
          }
        for (std::size_t x = 0; x < ch.leaves(); ++x) column_prgs_.emplace_back(key_of(x == dc ? Block{} : nodes[x]));  // Δ_c's: never used
        delta_chunks_.push_back(dc);
      }
      base_keys_.clear();
    }
  }
  ready_ = true;
}

std::vector<Block> OtExtSender::extend(Comm& comm, std::int64_t n) {
  if (!ready_) throw std::logic_error("OtExtSender: extension before setup");
  require_count(n, "OT extension");
  const std::uint64_t n_padded = iknp_padded(n);
  const std::uint64_t column_bytes = n_padded / 8;
  const auto u = comm.recv_bytes(peer_, iknp_receiver_bytes(n, k_));
  if (n > 0) count_extension(n, k_, true);
  if (comm.phantom() || n == 0) return {};
  DiscardWorkScope counted;
  std::vector<std::uint8_t> q(kColumns * column_bytes);
  if (k_ == 1) {
    for (std::size_t j = 0; j < kColumns; ++j) {
      std::uint8_t* col = q.data() + j * column_bytes;
      column_prgs_[j].fill_bytes(col, column_bytes);
      if (delta_.bit(static_cast<int>(j))) {
        const std::uint8_t* uj = u.data() + j * column_bytes;
        for (std::uint64_t b = 0; b < column_bytes; ++b) col[b] ^= uj[b];
      }
    }
    return columns_to_rows(q, n_padded);
  }
  // SoftSpoken: w_i = ⊕_{(x⊕Δ_c)_i = 1} r_x, folded over r'_y = r_{y⊕Δ_c} (r'_0 = 0), then
  // q_i = w_i ⊕ Δ_c,i·d_c.
  const std::vector<Chunk> chunks = chunks_of(k_);
  std::vector<std::vector<std::uint8_t>> buf(std::size_t{1} << k_, std::vector<std::uint8_t>(kSegmentBytes));
  std::vector<std::uint8_t*> out(static_cast<std::size_t>(k_));
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const Chunk& ch = chunks[c];
    const std::size_t dc = delta_chunks_[c];
    const std::uint8_t* d = u.data() + c * column_bytes;
    for (std::uint64_t off = 0; off < column_bytes; off += kSegmentBytes) {
      const std::size_t bytes = static_cast<std::size_t>(std::min<std::uint64_t>(kSegmentBytes, column_bytes - off));
      for (std::size_t x = 0; x < ch.leaves(); ++x) {
        if (x == dc) std::memset(buf[0].data(), 0, bytes);
        else column_prgs_[ch.leaf_base + x].fill_bytes(buf[x ^ dc].data(), bytes);
      }
      for (std::size_t i = 0; i < ch.size; ++i) out[i] = q.data() + (ch.first + i) * column_bytes + off;
      vole_fold(buf, static_cast<int>(ch.size), bytes, out);
      for (std::size_t i = 0; i < ch.size; ++i)
        if ((dc >> i) & 1)
          for (std::size_t b = 0; b < bytes; ++b) out[i][b] ^= d[off + b];
    }
  }
  return columns_to_rows(q, n_padded);
}

RandomOtPairs OtExtSender::random_ot(Comm& comm, std::int64_t n) {
  OpScope op(comm.ledger(), "ot_extension");
  const u64 first = next_index_;
  const auto q = extend(comm, n);
  next_index_ += static_cast<u64>(n);
  if (comm.phantom()) {
    count_work(WorkKind::ot_hash, 2 * n);  // what hash_pairs counts
    return {};
  }
  return hash_pairs(q, delta_, n, first);
}

std::vector<u64> OtExtSender::correlated_ot(Comm& comm, const std::vector<u64>& deltas, const std::vector<std::uint8_t>& widths) {
  const auto n = static_cast<std::int64_t>(deltas.size());
  require_widths(n, widths, "correlated OT");
  RandomOtPairs h = random_ot(comm, n);
  OpScope op(comm.ledger(), "ot_extension");
  const std::uint64_t bytes = cot_correction_bytes(n, widths);
  if (comm.phantom()) {
    comm.send_bytes(peer_, nullptr, bytes);
    return {};
  }
  std::vector<u64> x(deltas.size());
  BitWriter corrections(bytes * 8);
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    const int w = widths[i % widths.size()];
    const u64 mask = low_bits_mask(w);
    x[i] = h.m0[i].lo & mask;
    // d_i = x_i + Δ_i − H(q_i ⊕ s): a receiver with r_i = 1 adds it to H(t_i) = H(q_i ⊕ s).
    corrections.put((x[i] + deltas[i] - h.m1[i].lo) & mask, w);
  }
  comm.send_bytes(peer_, corrections.bytes().data(), bytes);
  return x;
}

void OtExtSender::chosen_ot(Comm& comm, const std::vector<u64>& m0, const std::vector<u64>& m1, int bits) {
  require_width(bits, "chosen OT");
  if (m0.size() != m1.size())
    throw std::invalid_argument("chosen OT: " + std::to_string(m0.size()) + " first messages but " + std::to_string(m1.size()) + " second");
  const u64 mask = low_bits_mask(bits);
  for (std::size_t i = 0; i < m0.size(); ++i)
    if ((m0[i] | m1[i]) & ~mask) throw std::invalid_argument("chosen OT: message " + std::to_string(i) + " has more than " + std::to_string(bits) + " bits");
  const auto n = static_cast<std::int64_t>(m0.size());
  RandomOtPairs h = random_ot(comm, n);
  OpScope op(comm.ledger(), "ot_extension");
  const std::uint64_t bytes = packed_bytes(2 * static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(bits));
  if (comm.phantom()) {
    comm.send_bytes(peer_, nullptr, bytes);
    return;
  }
  BitWriter out(bytes * 8);
  for (std::size_t i = 0; i < m0.size(); ++i) {
    out.put(m0[i] ^ h.m0[i].lo, bits);
    out.put(m1[i] ^ h.m1[i].lo, bits);
  }
  comm.send_bytes(peer_, out.bytes().data(), bytes);
}

void OtExtSender::one_of_n_ot(Comm& comm, const std::vector<u64>& messages, int k, int bits) {
  require_one_of_n(k, bits);
  const std::size_t N = std::size_t{1} << k;
  if (messages.size() % N != 0)
    throw std::invalid_argument("1-of-N OT: " + std::to_string(messages.size()) + " messages are not a whole number of OTs of N = " + std::to_string(N));
  const u64 mask = low_bits_mask(bits);
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (messages[i] & ~mask) throw std::invalid_argument("1-of-N OT: message " + std::to_string(i) + " has more than " + std::to_string(bits) + " bits");
  const std::size_t n = messages.size() / N;
  const u64 first = next_index_;
  RandomOtPairs keys = random_ot(comm, static_cast<std::int64_t>(n) * k);  // OT i, bit j: index i·k + j
  OpScope op(comm.ledger(), "ot_extension");
  const std::uint64_t bytes = one_of_n_bytes(static_cast<std::int64_t>(n), k, bits);
  if (comm.phantom()) {
    count_work(WorkKind::ot_hash, static_cast<u64>(n * N) * static_cast<u64>(k));  // the pads' hashes
    comm.send_bytes(peer_, nullptr, bytes);
    return;
  }
  // pad_x = ⊕_j H(K_{i,j}^{x_j}, (first + i·k + j, domain(j, x))): one hash batch of N·k per OT.
  const std::size_t kk = static_cast<std::size_t>(k);
  std::vector<Block> in(N * kk), tweaks(N * kk), hashed(N * kk);
  BitWriter out(bytes * 8);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t x = 0; x < N; ++x)
      for (std::size_t j = 0; j < kk; ++j) {
        const std::size_t r = i * kk + j;
        in[x * kk + j] = ((x >> j) & 1) ? keys.m1[r] : keys.m0[r];
        tweaks[x * kk + j] = Block{first + r, one_of_n_domain(j, x)};
      }
    tccr_hash(in.data(), hashed.data(), in.size(), tweaks.data());
    for (std::size_t x = 0; x < N; ++x) {
      u64 pad = 0;
      for (std::size_t j = 0; j < kk; ++j) pad ^= hashed[x * kk + j].lo;
      out.put(messages[i * N + x] ^ pad, bits);
    }
  }
  comm.send_bytes(peer_, out.bytes().data(), bytes);
}

void OtExtSender::phantom_correlated_ot(Comm& comm, std::int64_t n, const std::vector<std::uint8_t>& widths) {
  if (!comm.phantom()) throw std::logic_error("phantom_correlated_ot in a real run");
  require_widths(n, widths, "correlated OT");
  (void)random_ot(comm, n);
  OpScope op(comm.ledger(), "ot_extension");
  comm.send_bytes(peer_, nullptr, cot_correction_bytes(n, widths));
}

void OtExtSender::phantom_one_of_n_ot(Comm& comm, std::int64_t n, int k, int bits) {
  if (!comm.phantom()) throw std::logic_error("phantom_one_of_n_ot in a real run");
  require_one_of_n(k, bits);
  (void)random_ot(comm, n * k);
  OpScope op(comm.ledger(), "ot_extension");
  count_work(WorkKind::ot_hash, static_cast<u64>(n) * (u64{1} << k) * static_cast<u64>(k));  // the pads' hashes
  comm.send_bytes(peer_, nullptr, one_of_n_bytes(n, k, bits));
}

// ---------------------------------------------------------------- receiver

void OtExtReceiver::phantom_random_ot(Comm& comm, std::int64_t n) {
  if (!comm.phantom()) throw std::logic_error("phantom_random_ot in a real run");
  if (!ready_) throw std::logic_error("OtExtReceiver: extension before setup");
  require_count(n, "OT extension");
  OpScope op(comm.ledger(), "ot_extension");
  if (n > 0) count_extension(n, k_, false);
  count_work(WorkKind::ot_hash, n);  // what random_ot's hash counts
  comm.send_bytes(peer_, nullptr, iknp_receiver_bytes(n, k_));
  next_index_ += static_cast<u64>(n);
}

PendingCot OtExtReceiver::phantom_correlated_ot_start(Comm& comm, std::int64_t n, const std::vector<std::uint8_t>& widths) {
  require_widths(n, widths, "correlated OT");
  phantom_random_ot(comm, n);
  PendingCot p;
  p.n = n;
  p.widths = widths;
  return p;
}

void OtExtReceiver::phantom_one_of_n_ot(Comm& comm, std::int64_t n, int k, int bits) {
  require_one_of_n(k, bits);
  phantom_random_ot(comm, n * k);
  OpScope op(comm.ledger(), "ot_extension");
  count_work(WorkKind::ot_hash, n * k);  // the chosen pads' hashes
  (void)comm.recv_bytes(peer_, one_of_n_bytes(n, k, bits));
}

void OtExtReceiver::setup_start(Comm& comm, Role peer) {
  PhaseScope offline(comm.ledger(), Phase::offline);
  OpScope op(comm.ledger(), "ot_setup");
  peer_ = peer;
  base_.start(comm, peer);
}

void OtExtReceiver::setup_finish(Comm& comm) {
  PhaseScope offline(comm.ledger(), Phase::offline);
  OpScope op(comm.ledger(), "ot_setup");
  const auto keys = base_.finish(comm, peer_, kKappa);
  prg0_.clear();
  prg1_.clear();
  next_index_ = 0;
  if (k_ > 1) {
    // One GGM tree per chunk; its level sums travel under the base OTs' keys, so the sender learns
    // the sums of the sides off Δ_c's path and rebuilds every leaf but Δ_c.
    const std::vector<Chunk> chunks = chunks_of(k_);
    std::vector<std::uint8_t> sums(std::size_t{kKappa} * 2 * 16);
    if (!comm.phantom()) {
      DiscardWorkScope once;  // set-up work is once per session and not modelled
      Prg roots = Prg::from_os();
      prg0_.reserve(chunks.back().leaf_base + chunks.back().leaves());
      for (const Chunk& ch : chunks) {
        std::vector<Block> nodes(1);
        roots.fill_bytes(reinterpret_cast<std::uint8_t*>(nodes.data()), 16);
        for (std::size_t j = 0; j < ch.size; ++j) {
          const std::size_t ot = ch.first + j;
          std::vector<Block> next(nodes.size() * 2);
          Block side[2] = {keys[ot][0], keys[ot][1]};
          for (std::size_t p = 0; p < nodes.size(); ++p) {
            std::tie(next[2 * p], next[2 * p + 1]) = ggm_children(nodes[p]);
            side[0] ^= next[2 * p];
            side[1] ^= next[2 * p + 1];
          }
          std::memcpy(sums.data() + ot * 2 * 16, side, 32);
          nodes = std::move(next);
        }
        for (std::size_t x = 0; x < ch.leaves(); ++x) prg0_.emplace_back(key_of(nodes[x]));
      }
    }
    comm.send_bytes(peer_, comm.phantom() ? nullptr : sums.data(), sums.size());
  } else if (!comm.phantom()) {
    prg0_.reserve(kColumns);
    prg1_.reserve(kColumns);
    for (const auto& k : keys) {
      prg0_.emplace_back(key_of(k[0]));
      prg1_.emplace_back(key_of(k[1]));
    }
  }
  ready_ = true;
}

std::vector<Block> OtExtReceiver::extend(Comm& comm, const std::vector<std::uint8_t>& choices) {
  if (!ready_) throw std::logic_error("OtExtReceiver: extension before setup");
  require_bits(choices, "OT extension");
  const auto n = static_cast<std::int64_t>(choices.size());
  const std::uint64_t n_padded = iknp_padded(n);
  const std::uint64_t column_bytes = n_padded / 8;
  if (n > 0) count_extension(n, k_, false);
  if (comm.phantom()) {
    comm.send_bytes(peer_, nullptr, iknp_receiver_bytes(n, k_));
    return {};
  }
  DiscardWorkScope counted;
  const std::vector<std::uint8_t> r = pack_choices(choices);
  std::vector<std::uint8_t> t(kColumns * column_bytes), u(iknp_receiver_bytes(n, k_));
  if (k_ == 1) {
    for (std::size_t j = 0; j < kColumns; ++j) {
      std::uint8_t* tj = t.data() + j * column_bytes;
      std::uint8_t* uj = u.data() + j * column_bytes;
      prg0_[j].fill_bytes(tj, column_bytes);
      prg1_[j].fill_bytes(uj, column_bytes);
      for (std::uint64_t b = 0; b < column_bytes; ++b) uj[b] ^= tj[b] ^ r[b];
    }
  } else {
    // SoftSpoken: t_i = v_i = ⊕_{x_i = 1} r_x, and d_c = (⊕_x r_x) ⊕ r per chunk.
    const std::vector<Chunk> chunks = chunks_of(k_);
    std::vector<std::vector<std::uint8_t>> buf(std::size_t{1} << k_, std::vector<std::uint8_t>(kSegmentBytes));
    std::vector<std::uint8_t*> out(static_cast<std::size_t>(k_));
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      const Chunk& ch = chunks[c];
      std::uint8_t* d = u.data() + c * column_bytes;
      for (std::uint64_t off = 0; off < column_bytes; off += kSegmentBytes) {
        const std::size_t bytes = static_cast<std::size_t>(std::min<std::uint64_t>(kSegmentBytes, column_bytes - off));
        for (std::size_t x = 0; x < ch.leaves(); ++x) prg0_[ch.leaf_base + x].fill_bytes(buf[x].data(), bytes);
        for (std::size_t i = 0; i < ch.size; ++i) out[i] = t.data() + (ch.first + i) * column_bytes + off;
        vole_fold(buf, static_cast<int>(ch.size), bytes, out);
        for (std::size_t b = 0; b < bytes; ++b) d[off + b] = buf[0][b] ^ r[off + b];
      }
    }
  }
  comm.send_bytes(peer_, u.data(), u.size());
  if (n == 0) return {};
  return columns_to_rows(t, n_padded);
}

std::vector<Block> OtExtReceiver::random_ot(Comm& comm, const std::vector<std::uint8_t>& choices) {
  OpScope op(comm.ledger(), "ot_extension");
  const u64 first = next_index_;
  std::vector<Block> t = extend(comm, choices);
  next_index_ += choices.size();
  if (comm.phantom()) {
    count_work(WorkKind::ot_hash, choices.size());  // what the hash below counts
    return {};
  }
  t.resize(choices.size());
  tccr_hash(t.data(), t.data(), t.size(), first, kTweakRandomOt);
  return t;
}

PendingCot OtExtReceiver::correlated_ot_start(Comm& comm, const std::vector<std::uint8_t>& choices, const std::vector<std::uint8_t>& widths) {
  PendingCot p;
  p.n = static_cast<std::int64_t>(choices.size());
  require_widths(p.n, widths, "correlated OT");
  const std::vector<Block> h = random_ot(comm, choices);
  p.widths = widths;
  if (comm.phantom()) return p;
  p.choices = choices;
  p.hashed.resize(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) p.hashed[i] = h[i].lo;
  return p;
}

std::vector<u64> OtExtReceiver::correlated_ot_finish(Comm& comm, PendingCot&& p) {
  OpScope op(comm.ledger(), "ot_extension");
  const std::uint64_t bytes = cot_correction_bytes(p.n, p.widths);
  const auto msg = comm.recv_bytes(peer_, bytes);
  if (comm.phantom()) return {};
  BitReader corrections(msg.data(), msg.size());
  std::vector<u64> y(static_cast<std::size_t>(p.n));
  for (std::size_t i = 0; i < y.size(); ++i) {
    const int w = p.widths[i % p.widths.size()];
    const u64 d = corrections.get(w);
    y[i] = (p.hashed[i] + (p.choices[i] ? d : 0)) & low_bits_mask(w);
  }
  return y;
}

std::vector<u64> OtExtReceiver::correlated_ot(Comm& comm, const std::vector<std::uint8_t>& choices, const std::vector<std::uint8_t>& widths) {
  return correlated_ot_finish(comm, correlated_ot_start(comm, choices, widths));
}

std::vector<u64> OtExtReceiver::chosen_ot(Comm& comm, const std::vector<std::uint8_t>& choices, int bits) {
  require_width(bits, "chosen OT");
  const std::vector<Block> h = random_ot(comm, choices);
  OpScope op(comm.ledger(), "ot_extension");
  const auto n = static_cast<std::uint64_t>(choices.size());
  const auto msg = comm.recv_bytes(peer_, packed_bytes(2 * n * static_cast<std::uint64_t>(bits)));
  if (comm.phantom()) return {};
  BitReader in(msg.data(), msg.size());
  std::vector<u64> out(choices.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const u64 e0 = in.get(bits), e1 = in.get(bits);
    out[i] = (choices[i] ? e1 : e0) ^ (h[i].lo & low_bits_mask(bits));
  }
  return out;
}

std::vector<u64> OtExtReceiver::one_of_n_ot(Comm& comm, const std::vector<std::uint8_t>& choices, int k, int bits) {
  require_one_of_n(k, bits);
  const std::size_t N = std::size_t{1} << k;
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (choices[i] >= N) throw std::invalid_argument("1-of-N OT: choice " + std::to_string(i) + " is " + std::to_string(choices[i]) + ", not below N = " + std::to_string(N));
  const std::size_t n = choices.size();
  std::vector<std::uint8_t> bit_choices(n * static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) bit_choices[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)] = (choices[i] >> j) & 1;
  const u64 first = next_index_;
  const std::vector<Block> keys = random_ot(comm, bit_choices);
  OpScope op(comm.ledger(), "ot_extension");
  const auto msg = comm.recv_bytes(peer_, one_of_n_bytes(static_cast<std::int64_t>(n), k, bits));
  if (comm.phantom()) {
    count_work(WorkKind::ot_hash, static_cast<u64>(n) * static_cast<u64>(k));  // the chosen pads' hashes
    return {};
  }
  const std::size_t kk = static_cast<std::size_t>(k);
  std::vector<Block> tweaks(n * kk), hashed(n * kk);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < kk; ++j) tweaks[i * kk + j] = Block{first + i * kk + j, one_of_n_domain(j, choices[i])};
  tccr_hash(keys.data(), hashed.data(), n * kk, tweaks.data());
  BitReader in(msg.data(), msg.size());
  std::vector<u64> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    u64 pad = 0;
    for (std::size_t j = 0; j < kk; ++j) pad ^= hashed[i * kk + j].lo;
    for (std::size_t x = 0; x < N; ++x) {
      const u64 e = in.get(bits);
      if (x == choices[i]) out[i] = (e ^ pad) & low_bits_mask(bits);
    }
  }
  return out;
}

// ---------------------------------------------------------------- both directions

void OtExtension::setup(Comm& comm, Role peer) {
  peer_ = peer;
  // Each side first sends A for the direction where it receives, then answers the peer's A as the
  // base OTs' receiver (for the direction where it sends), then takes the peer's B points (and
  // sends SoftSpoken's level sums), then takes the peer's level sums.
  receiver_.setup_start(comm, peer);
  sender_.setup_start(comm, peer);
  receiver_.setup_finish(comm);
  sender_.setup_finish(comm);
}

}  // namespace marill
