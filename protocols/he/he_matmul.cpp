#include "protocols/he/he_matmul.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

constexpr std::uint8_t kMagicKeys[4] = {'H', 'E', 'k', 1};
constexpr std::uint8_t kMagicUpload[4] = {'H', 'E', 'u', 1};
constexpr std::uint8_t kMagicResponse[4] = {'H', 'E', 'r', 1};

int bit_length(u64 x) { return 64 - __builtin_clzll(x); }

u64 bytes_for_bits(u64 bits) { return (bits + 7) / 8; }

int pack_levels(const HeContext& ctx, int max_pack_log) { return std::max(0, std::min(max_pack_log, ctx.params().log_n)); }

// The packing stride of a group of `count` sparse products (1 <= count <= kw): the least power of two
// that holds them. The products' outputs sit at multiples of kw, which are multiples of this stride,
// so packing at it places product j's outputs at offset j as packing at kw would; the positions it
// leaves unpacked carry no output and are never sent. A last, partial group (or a plan with fewer
// products than kw) so needs stride - 1 key switches, not kw - 1.
u64 pack_stride(i64 count) {
  u64 s = 1;
  while (s < static_cast<u64>(count)) s <<= 1;
  return s;
}

// Merges (each one key switch) of one limb's packing: groups of kw products, the last maybe partial.
u64 pack_merges(const HeMatmulPlan& p) {
  u64 merges = 0;
  for (i64 g = 0; g < p.packed_cts; ++g) merges += pack_stride(std::min(p.kw, p.out_cts - g * p.kw)) - 1;
  return merges;
}

// The work of each step of a product, from its plan alone (work_meter.h): prime-NTTs and coefficient
// operations per RNS prime, tallied from the code below and rlwe.cpp (L primes of q, K = L + 1 with
// the special prime). Real and phantom runs count these the same; the kernels' own counts inside
// are discarded. Key set-up is once per session and not modelled.
void count_he(u64 ntt, u64 coeff_polys, u64 coeff_extra, std::size_t N) {
  count_work(WorkKind::he_ntt, ntt);
  count_work(WorkKind::he_coeff, coeff_polys * N + coeff_extra);
}

// Client: encrypt_symmetric per input ciphertext (sample a, noise, encode, NTT, a*s, sums) and the rows written.
void count_he_upload(const HeContext& ctx, const HeMatmulPlan& p) {
  const u64 L = static_cast<u64>(ctx.levels()), cts = static_cast<u64>(p.in_cts);
  count_he(cts * L, cts * (7 * L + 1), 0, ctx.n());
}

// Server: read the inputs (a from the seed, Shoup quotients); per weight block encode and NTT; the
// products; per accumulated ciphertext two inverse NTTs (and the monomial shift); per packed
// ciphertext pack_stride - 1 merges, each with a key switch (L digits lifted to K primes, NTT'd and
// multiplied), then re-randomisation, masking, flooding and the switch to 2^k.
void count_he_respond(const HeContext& ctx, const HeMatmulPlan& p) {
  const u64 L = static_cast<u64>(ctx.levels()), K = L + 1, limbs = static_cast<u64>(p.limbs);
  const u64 blocks = static_cast<u64>(p.nb * p.kb), products = blocks * static_cast<u64>(p.mb), accs = static_cast<u64>(p.mb * p.nb);
  const u64 merges = pack_merges(p);
  const u64 packed = static_cast<u64>(p.packed_cts);
  const u64 shift = p.kw > 1 ? 2 * L : 0;
  u64 ntt = limbs * (blocks * L + accs * 2 * L + merges * (L * K + 2 * K) + packed * 3 * L);
  u64 polys = 4 * L * static_cast<u64>(p.in_cts) +
              limbs * (blocks * (L + 1) + products * 2 * L + accs * (2 * L + shift) + (p.kw > 1 ? static_cast<u64>(p.out_cts) * 2 * L : 0) +
                       merges * (8 * L + 5 * L + 3 * L * K) + packed * (14 * L + 5));
  count_he(ntt, polys, 0, ctx.n());
}

// Client: per packed response ciphertext, read a, a*s (two NTTs) and the CRT at the useful positions.
void count_he_decrypt(const HeContext& ctx, const HeMatmulPlan& p) {
  const u64 L = static_cast<u64>(ctx.levels()), cts = static_cast<u64>(p.limbs) * static_cast<u64>(p.packed_cts);
  count_he(cts * 2 * L, cts * (2 * L + 1), static_cast<u64>(p.limbs) * static_cast<u64>(p.m * p.n) * L, ctx.n());
}

// Little-endian bit streams: values of up to 128 bits, packed without padding.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void put(u128 v, int bits) {
    while (bits > 0) {
      const int take = std::min(bits, 32);
      acc_ |= static_cast<u64>(v & ((u64{1} << take) - 1)) << fill_;
      fill_ += take;
      v >>= take;
      bits -= take;
      while (fill_ >= 8) {
        out_.push_back(static_cast<std::uint8_t>(acc_));
        acc_ >>= 8;
        fill_ -= 8;
      }
    }
  }
  void flush() {
    if (fill_ > 0) out_.push_back(static_cast<std::uint8_t>(acc_));
    acc_ = 0;
    fill_ = 0;
  }

 private:
  std::vector<std::uint8_t>& out_;
  u64 acc_ = 0;
  int fill_ = 0;
};

class BitReader {
 public:
  BitReader(const std::uint8_t* data, std::size_t size, const char* what) : data_(data), size_(size), what_(what) {}
  u128 get(int bits) {
    u128 v = 0;
    int got = 0;
    while (got < bits) {
      const int take = std::min(bits - got, 32);
      while (fill_ < take) {
        if (pos_ >= size_) throw ProtocolError(std::string(what_) + ": message truncated");
        acc_ |= static_cast<u64>(data_[pos_++]) << fill_;
        fill_ += 8;
      }
      v |= static_cast<u128>(acc_ & ((u64{1} << take) - 1)) << got;
      acc_ >>= take;
      fill_ -= take;
      got += take;
    }
    return v;
  }
  // A residue mod q: values >= q are a malformed message.
  u64 get_residue(const Modulus& q) {
    const u64 v = static_cast<u64>(get(bit_length(q.value)));
    if (v >= q.value) throw ProtocolError(std::string(what_) + ": a coefficient is not reduced mod q (corrupt or foreign message)");
    return v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, pos_ = 0;
  const char* what_;
  u64 acc_ = 0;
  int fill_ = 0;
};

void write_rows(BitWriter& w, const HeContext& ctx, const RnsPoly& p) {
  for (int i = 0; i < p.count; ++i) {
    const int bits = bit_length(ctx.mod(i).value);
    for (std::size_t j = 0; j < ctx.n(); ++j) w.put(p.row(i)[j], bits);
  }
}

RnsPoly read_rows(BitReader& r, const HeContext& ctx, int count, bool ntt) {
  RnsPoly p(ctx.n(), count, ntt);
  for (int i = 0; i < count; ++i)
    for (std::size_t j = 0; j < ctx.n(); ++j) p.row(i)[j] = r.get_residue(ctx.mod(i));
  return p;
}

u64 rows_bits(const HeContext& ctx, int count) {
  u64 bits = 0;
  for (int i = 0; i < count; ++i) bits += static_cast<u64>(bit_length(ctx.mod(i).value)) * ctx.n();
  return bits;
}

HeDigest sha256_16(const HeDigest& prefix, const std::uint8_t* data, std::size_t size) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(md, prefix.data(), prefix.size()) == 1 &&
                  EVP_DigestUpdate(md, data, size) == 1 && EVP_DigestFinal_ex(md, out, &len) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) throw std::runtime_error("SHA-256 failed");
  HeDigest d;
  std::memcpy(d.data(), out, d.size());
  return d;
}

void write_header(std::vector<std::uint8_t>& out, const std::uint8_t (&magic)[4], const HeDigest& fp) {
  out.insert(out.end(), magic, magic + 4);
  out.insert(out.end(), fp.begin(), fp.end());
}

// Checks kind and fingerprint; returns the payload's offset.
std::size_t check_header(const std::vector<std::uint8_t>& msg, const std::uint8_t (&magic)[4], const HeDigest& fp, const char* what) {
  if (msg.size() < kHeHeaderBytes) throw ProtocolError(std::string(what) + ": message truncated");
  if (std::memcmp(msg.data(), magic, 4) != 0) throw ProtocolError(std::string(what) + ": not an HE message of this kind");
  if (std::memcmp(msg.data() + 4, fp.data(), fp.size()) != 0)
    throw ProtocolError(std::string(what) + ": fingerprint mismatch: the ciphertexts are under another key or other HE parameters");
  return kHeHeaderBytes;
}

// Where output (row, col) of packed ciphertext g sits: slot o - g*kw of the pack, position
// i*nw*kw + l*kw within its product (after the shift by x^-(kw-1)).
struct Placement {
  std::uint32_t position;
  i64 row, col;
};
std::vector<Placement> packed_layout(const HeMatmulPlan& p, i64 g) {
  std::vector<Placement> out;
  for (i64 slot = 0; slot < p.kw; ++slot) {
    const i64 o = g * p.kw + slot;
    if (o >= p.out_cts) break;
    const i64 jb = o / p.mb, ib = o % p.mb;
    for (i64 i = 0; i < p.mw && ib * p.mw + i < p.m; ++i)
      for (i64 l = 0; l < p.nw && jb * p.nw + l < p.n; ++l)
        out.push_back({static_cast<std::uint32_t>(i * p.nw * p.kw + l * p.kw + slot), ib * p.mw + i, jb * p.nw + l});
  }
  return out;
}

std::int64_t centred(u64 v) { return static_cast<std::int64_t>(v); }

}  // namespace

// ---------------- plans and sizes ----------------

u64 he_setup_bytes(const HeContext& ctx, int max_pack_log) {
  const u64 bits = rows_bits(ctx, ctx.levels()) +
                   static_cast<u64>(pack_levels(ctx, max_pack_log)) * static_cast<u64>(ctx.levels()) * rows_bits(ctx, ctx.levels() + 1);
  return kHeHeaderBytes + 16 + 16 + bytes_for_bits(bits);
}

HeMatmulPlan plan_he_matmul(const HeContext& ctx, i64 m, i64 k, i64 n, int weight_bits, int max_pack_log, int limbs, u64 key_switch_bytes) {
  if (limbs < 1 || limbs > 8) throw std::invalid_argument("HE matmul: 1 to 8 weight limbs");
  const int limb_bits = (64 + limbs - 1) / limbs;
  // A centred limb of b bits has |d| <= 2^(b-1): that is the bound the noise analysis takes.
  if (limbs > 1) weight_bits = limb_bits - 1;
  if (m < 1 || k < 1 || n < 1) throw std::invalid_argument("HE matmul: empty shape " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n));
  if (weight_bits < 0 || weight_bits > 62) throw std::invalid_argument("HE matmul: weight_bits must be in [0, 62]");
  const i64 N = static_cast<i64>(ctx.n());
  const i64 max_kw = i64{1} << pack_levels(ctx, max_pack_log);
  const u64 q_bits = rows_bits(ctx, ctx.levels());
  std::map<std::pair<i64, i64>, ResponseFormat> formats;  // (terms, kw) -> format
  HeMatmulPlan best;
  bool found = false;
  u64 best_cost = 0;
  // mw only at the values where ceil(m / mw) changes: ceil(m / c) for block counts c.
  std::vector<i64> mws;
  for (i64 c = 1; c <= m; ++c) {
    const i64 mw = (m + c - 1) / c;
    if (mw <= N && (mws.empty() || mws.back() != mw)) mws.push_back(mw);
  }
  // nw likewise: a smaller nw sums fewer terms per coefficient, which a large weight bound may need.
  std::vector<i64> nws;
  for (i64 c = 1; c <= n; ++c) {
    const i64 nw = (n + c - 1) / c;
    if (nws.empty() || nws.back() != nw) nws.push_back(nw);
  }
  for (i64 mw : mws) {
    for (i64 kw = 1; kw <= max_kw && mw * kw <= N; kw *= 2) {
      if (kw / 2 >= k) break;  // a larger stride than k only pads
     for (i64 nw : nws) {
      if (mw * kw * nw > N) continue;
      HeMatmulPlan p;
      p.m = m, p.k = k, p.n = n, p.mw = mw, p.kw = kw, p.nw = nw;
      p.limbs = limbs, p.limb_bits = limb_bits;
      p.mb = (m + mw - 1) / mw, p.kb = (k + kw - 1) / kw, p.nb = (n + nw - 1) / nw;
      p.in_cts = p.mb * p.kb;
      p.out_cts = p.mb * p.nb;
      p.packed_cts = (p.out_cts + kw - 1) / kw;
      const i64 terms = p.kb * kw * nw;  // nonzero weight coefficients summed into one output coefficient (bound)
      auto it = formats.find({terms, kw});
      if (it == formats.end()) {
        try {
          it = formats.emplace(std::make_pair(terms, kw), choose_response_format(ctx, static_cast<double>(terms), weight_bits, static_cast<std::size_t>(kw))).first;
        } catch (const std::invalid_argument&) {
          continue;  // this blocking's noise does not fit
        }
      }
      p.format = it->second;
      p.upload_bytes = kHeHeaderBytes + 16 + bytes_for_bits(static_cast<u64>(p.in_cts) * q_bits);
      p.response_bytes = kHeHeaderBytes + bytes_for_bits(static_cast<u64>(limbs) * (static_cast<u64>(p.packed_cts) * static_cast<u64>(N) * static_cast<u64>(p.format.k_bits) +
                                                                                    static_cast<u64>(m * n) * static_cast<u64>(p.format.k_bits - p.format.drop_bits)));
      p.key_switches = static_cast<u64>(limbs) * pack_merges(p);
      const u64 cost = p.total_bytes() + key_switch_bytes * p.key_switches;
      if (!found || cost < best_cost || (cost == best_cost && p.key_switches < best.key_switches)) {
        best = p;
        best_cost = cost;
        found = true;
      }
     }
    }
  }
  if (!found) throw std::invalid_argument("HE matmul: no blocking of " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n) + " fits the noise budget of " + ctx.describe());
  return best;
}

std::shared_ptr<const HeContext> he_context(const HeParams& params) {
  static std::mutex mu;
  static std::map<std::tuple<int, int, int, int, int, int>, std::shared_ptr<const HeContext>> cache;
  const auto key = std::make_tuple(params.log_n, params.q_bits, params.q_count, params.p_bits, params.noise_eta, params.flood_bits);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, std::make_shared<const HeContext>(params)).first;
  return it->second;
}

// ---------------- the protocol ----------------

struct HeMatmul::Keys {
  SecretKey sk;  // the client's only
  PublicKey pk;
  std::vector<GaloisKey> galois;
  Prg prg = Prg::from_os();  // secret keys, noise, masks
};

HeMatmul::HeMatmul(Comm& comm, Role peer, HeMatmulOptions options)
    : comm_(comm), peer_(peer), options_(options), ctx_(he_context(options.params)), keys_(std::make_unique<Keys>()) {
  if (comm.role() != Role::client && comm.role() != Role::server) throw std::invalid_argument("HeMatmul: only the client and the server take part");
  if (peer == comm.role()) throw std::invalid_argument("HeMatmul: the peer must be the other party");
  if (options.weight_bits < 0 || options.weight_bits > 62) throw std::invalid_argument("HeMatmul: weight_bits must be in [0, 62]");
}

HeMatmul::~HeMatmul() = default;

const HeContext& HeMatmul::context() const { return *ctx_; }

void HeMatmul::set_up() {
  const HeContext& ctx = *ctx_;
  const u64 size = he_setup_bytes(ctx, options_.max_pack_log);
  const int levels = pack_levels(ctx, options_.max_pack_log);
  Ledger& ledger = comm_.ledger();
  const Phase saved = ledger.phase;
  ledger.phase = Phase::offline;  // key set-up is input-independent: reported apart
  struct Restore {
    Ledger& l;
    Phase p;
    ~Restore() { l.phase = p; }
  } restore{ledger, saved};
  if (comm_.phantom()) {
    if (comm_.role() == Role::client) comm_.send_bytes(peer_, nullptr, size);
    else (void)comm_.recv_bytes(peer_, size);
    ready_ = true;
    return;
  }
  DiscardWorkScope once;  // see count_he; the messages still count
  if (comm_.role() == Role::client) {
    Prg& prg = keys_->prg;
    keys_->sk = make_secret_key(ctx, prg);
    const Key128 pk_seed = prg.next_key(), galois_seed = prg.next_key();
    keys_->pk = make_public_key(ctx, keys_->sk, pk_seed, prg);
    Prg seeds(galois_seed);
    for (int i = 0; i < levels; ++i) keys_->galois.push_back(make_galois_key(ctx, keys_->sk, pack_galois_elt(ctx.n(), i), seeds.next_key(), prg));
    std::vector<std::uint8_t> payload(pk_seed.begin(), pk_seed.end());
    payload.insert(payload.end(), galois_seed.begin(), galois_seed.end());
    payload.reserve(size);
    BitWriter w(payload);
    write_rows(w, ctx, keys_->pk.b);
    for (const GaloisKey& key : keys_->galois)
      for (const RnsPoly& b : key.b) write_rows(w, ctx, b);
    w.flush();
    fingerprint_ = sha256_16(ctx.digest(), payload.data(), payload.size());
    std::vector<std::uint8_t> msg;
    msg.reserve(size);
    write_header(msg, kMagicKeys, fingerprint_);
    msg.insert(msg.end(), payload.begin(), payload.end());
    if (msg.size() != size) throw std::logic_error("HE set-up: message size differs from he_setup_bytes");
    comm_.send_bytes(peer_, msg.data(), msg.size());
  } else {
    const std::vector<std::uint8_t> msg = comm_.recv_bytes(peer_, size);
    if (msg.size() != size) throw ProtocolError("HE set-up: message truncated");
    if (std::memcmp(msg.data(), kMagicKeys, 4) != 0) throw ProtocolError("HE set-up: not an HE key message");
    const std::uint8_t* payload = msg.data() + kHeHeaderBytes;
    const std::size_t payload_size = msg.size() - kHeHeaderBytes;
    // The fingerprint covers our own parameters' digest: a client with other parameters fails here.
    fingerprint_ = sha256_16(ctx.digest(), payload, payload_size);
    if (std::memcmp(msg.data() + 4, fingerprint_.data(), fingerprint_.size()) != 0)
      throw ProtocolError("HE set-up: fingerprint mismatch: the client's HE parameters differ from ours, or the keys are corrupt");
    Key128 pk_seed, galois_seed;
    std::memcpy(pk_seed.data(), payload, 16);
    std::memcpy(galois_seed.data(), payload + 16, 16);
    BitReader r(payload + 32, payload_size - 32, "HE set-up");
    keys_->pk = public_key_from_seed(ctx, pk_seed, read_rows(r, ctx, ctx.levels(), true));
    Prg seeds(galois_seed);
    for (int i = 0; i < levels; ++i) {
      std::vector<RnsPoly> b;
      for (int d = 0; d < ctx.levels(); ++d) b.push_back(read_rows(r, ctx, ctx.levels() + 1, true));
      keys_->galois.push_back(galois_key_from_seed(ctx, pack_galois_elt(ctx.n(), i), seeds.next_key(), std::move(b)));
    }
  }
  ready_ = true;
}

HeMatmulPlan HeMatmul::send_upload(const RingTensor& x_share, i64 n, int limbs) {
  if (x_share.rank() != 2) throw std::invalid_argument("HE matmul: the client's share must be m x k, got " + describe_shape(x_share));
  const HeContext& ctx = *ctx_;
  const i64 m = x_share.dim(0), k = x_share.dim(1);
  const HeMatmulPlan plan = plan_he_matmul(ctx, m, k, n, options_.weight_bits, options_.max_pack_log, limbs, options_.key_switch_bytes);
  last_plan_ = plan;
  count_he_upload(ctx, plan);
  if (comm_.phantom() || x_share.is_phantom()) {
    if (!comm_.phantom()) throw std::invalid_argument("HE matmul: a phantom share in a real run");
    comm_.send_bytes(peer_, nullptr, plan.upload_bytes);
    return plan;
  }
  DiscardWorkScope counted;
  const std::size_t N = ctx.n();
  // Upload: one seed for every ciphertext's a, then the b parts (NTT form, residues packed).
  Prg& prg = keys_->prg;
  const Key128 seed = prg.next_key();
  std::vector<std::uint8_t> msg;
  msg.reserve(plan.upload_bytes);
  write_header(msg, kMagicUpload, fingerprint_);
  msg.insert(msg.end(), seed.begin(), seed.end());
  BitWriter w(msg);
  Prg a_prg(seed);
  std::vector<u64> coeffs(N);
  for (i64 ib = 0; ib < plan.mb; ++ib)
    for (i64 kb = 0; kb < plan.kb; ++kb) {
      std::fill(coeffs.begin(), coeffs.end(), 0);
      for (i64 i = 0; i < plan.mw && ib * plan.mw + i < m; ++i)
        for (i64 j = 0; j < plan.kw && kb * plan.kw + j < k; ++j)
          coeffs[static_cast<std::size_t>(i * plan.nw * plan.kw + j)] = x_share[(ib * plan.mw + i) * k + kb * plan.kw + j];
      const Ciphertext ct = encrypt_symmetric(ctx, keys_->sk, coeffs.data(), N, a_prg, prg);
      write_rows(w, ctx, ct.b);
    }
  w.flush();
  if (msg.size() != plan.upload_bytes) throw std::logic_error("HE upload: message size differs from the plan");
  comm_.send_bytes(peer_, msg.data(), msg.size());
  return plan;
}

RingTensor HeMatmul::receive_response(const HeMatmulPlan& plan) {
  const std::vector<std::uint8_t> resp = comm_.recv_bytes(peer_, plan.response_bytes);
  count_he_decrypt(*ctx_, plan);
  if (comm_.phantom()) return RingTensor::phantom({plan.m, plan.n});
  count_alloc(plan.m * plan.n);  // the output, as the phantom tensor counts it
  DiscardWorkScope counted;
  const HeContext& ctx = *ctx_;
  const std::size_t N = ctx.n();
  const std::size_t off = check_header(resp, kMagicResponse, fingerprint_, "HE response");
  BitReader r(resp.data() + off, resp.size() - off, "HE response");
  RingTensor out({plan.m, plan.n});
  const int kb_bits = plan.format.k_bits, b_bits = plan.format.k_bits - plan.format.drop_bits;
  for (int limb = 0; limb < plan.limbs; ++limb) {
    const int shift = limb * plan.limb_bits;  // limb l of W weighs 2^(l * limb_bits)
    for (i64 g = 0; g < plan.packed_cts; ++g) {
      const std::vector<Placement> layout = packed_layout(plan, g);
      std::vector<u128> a(N), b_high(layout.size());
      std::vector<std::uint32_t> positions(layout.size());
      for (std::size_t j = 0; j < N; ++j) a[j] = r.get(kb_bits);
      for (std::size_t x = 0; x < layout.size(); ++x) {
        b_high[x] = r.get(b_bits);
        positions[x] = layout[x].position;
      }
      const std::vector<u64> values = decrypt_pow2(ctx, keys_->sk, a, b_high, positions, kb_bits, plan.format.drop_bits);
      for (std::size_t x = 0; x < layout.size(); ++x) out[layout[x].row * plan.n + layout[x].col] += shift < 64 ? values[x] << shift : 0;
    }
  }
  return out;
}

RingTensor HeMatmul::client_product(const RingTensor& x_share, i64 n, int weight_limbs) {
  return client_products({{x_share, n}}, weight_limbs)[0];
}

std::vector<RingTensor> HeMatmul::client_products(const std::vector<std::pair<RingTensor, i64>>& x_shares_and_n, int weight_limbs) {
  if (comm_.role() != Role::client) throw std::logic_error("HeMatmul::client_product called by the " + std::string(role_name(comm_.role())));
  if (!ready_) throw std::logic_error("HeMatmul: set_up() first");
  std::vector<HeMatmulPlan> plans;
  for (const auto& [x, n] : x_shares_and_n) plans.push_back(send_upload(x, n, weight_limbs));
  std::vector<RingTensor> out;
  for (const auto& plan : plans) out.push_back(receive_response(plan));
  return out;
}

RingTensor HeMatmul::respond(i64 m, const RingTensor* x_share, const RingTensor& w, int limbs) {
  const HeContext& ctx = *ctx_;
  const i64 k = w.dim(0), n = w.dim(1);
  const HeMatmulPlan plan = plan_he_matmul(ctx, m, k, n, options_.weight_bits, options_.max_pack_log, limbs, options_.key_switch_bytes);
  last_plan_ = plan;
  count_he_respond(ctx, plan);
  if (x_share) count_work(m <= 32 ? WorkKind::gemm_thin_mac : WorkKind::gemm_mac, m * k * n);  // X_s W in the clear, as matmul counts it
  if (comm_.phantom() || w.is_phantom() || (x_share && x_share->is_phantom())) {
    if (!comm_.phantom()) throw std::invalid_argument("HE matmul: a phantom operand in a real run");
    (void)comm_.recv_bytes(peer_, plan.upload_bytes);
    comm_.send_bytes(peer_, nullptr, plan.response_bytes);
    return RingTensor::phantom({m, n});
  }
  // The weight as centred limbs: W = sum_l 2^(l b) W_l mod 2^64 with |W_l| <= 2^(b-1); one limb: W
  // itself, whose public bound the noise analysis (and so the client's decryption) relies on.
  std::vector<std::vector<std::int64_t>> digits(static_cast<std::size_t>(limbs), std::vector<std::int64_t>(static_cast<std::size_t>(w.numel())));
  if (limbs == 1) {
    const std::int64_t bound = std::int64_t{1} << options_.weight_bits;
    for (i64 i = 0; i < w.numel(); ++i) {
      const std::int64_t v = centred(w[i]);
      if (v >= bound || v < -bound)
        // the position only: the weight's value is the server's secret and an error may reach the peer
        throw std::invalid_argument("HE matmul: the weight at index " + std::to_string(i) + " exceeds the bound 2^" +
                                    std::to_string(options_.weight_bits) + " (HeMatmulOptions::weight_bits)");
      digits[0][static_cast<std::size_t>(i)] = v;
    }
  } else {
    const int b = plan.limb_bits;
    for (i64 i = 0; i < w.numel(); ++i) {
      u64 v = w[i];
      for (int l = 0; l < limbs; ++l) {
        const u64 low = v & ((u64{1} << b) - 1);
        const std::int64_t d = low >= (u64{1} << (b - 1)) ? static_cast<std::int64_t>(low) - (std::int64_t{1} << b) : static_cast<std::int64_t>(low);
        digits[static_cast<std::size_t>(l)][static_cast<std::size_t>(i)] = d;
        v = (v - static_cast<u64>(d)) >> b;
      }
    }
  }
  const std::size_t N = ctx.n();
  const int L = ctx.levels();

  const std::vector<std::uint8_t> up = comm_.recv_bytes(peer_, plan.upload_bytes);
  count_alloc(m * n);  // the output, as the phantom tensor counts it
  DiscardWorkScope counted;
  const std::size_t off = check_header(up, kMagicUpload, fingerprint_, "HE upload");
  Key128 seed;
  std::memcpy(seed.data(), up.data() + off, 16);
  BitReader r(up.data() + off + 16, up.size() - off - 16, "HE upload");
  // Input ciphertexts (ib, kb), NTT form, with Shoup quotients: each is multiplied by nb * limbs plaintexts.
  struct Input {
    Ciphertext ct;
    std::vector<u64> b_shoup, a_shoup;
  };
  std::vector<Input> inputs(static_cast<std::size_t>(plan.in_cts));
  {
    Prg a_prg(seed);
    for (Input& in : inputs) {
      in.ct.b = read_rows(r, ctx, L, true);
      in.ct.a = seeded_a(ctx, a_prg);
      in.b_shoup.resize(N * static_cast<std::size_t>(L));
      in.a_shoup.resize(N * static_cast<std::size_t>(L));
      for (int i = 0; i < L; ++i)
        for (std::size_t j = 0; j < N; ++j) {
          in.b_shoup[i * N + j] = shoup_precompute(in.ct.b.row(i)[j], ctx.q(i).value);
          in.a_shoup[i * N + j] = shoup_precompute(in.ct.a.row(i)[j], ctx.q(i).value);
        }
    }
  }

  RingTensor share = x_share ? matmul(*x_share, w) : RingTensor({m, n});
  std::vector<std::uint8_t> msg;
  msg.reserve(plan.response_bytes);
  write_header(msg, kMagicResponse, fingerprint_);
  BitWriter out(msg);
  const int flood = flood_log2(ctx, plan.format.noise.masked);
  Prg& prg = keys_->prg;
  for (int limb = 0; limb < limbs; ++limb) {
    const std::vector<std::int64_t>& wd = digits[static_cast<std::size_t>(limb)];
    const int shift = limb * plan.limb_bits;
    std::vector<Ciphertext> group;
    i64 group_index = 0;
    auto finish_group = [&] {
      const u64 stride = pack_stride(static_cast<i64>(group.size()));
      Ciphertext packed = pack_strided(ctx, std::move(group), static_cast<std::size_t>(stride), keys_->galois);
      group.clear();
      add_inplace(ctx, packed, encrypt_zero_public(ctx, keys_->pk, prg));  // re-randomise a
      const std::vector<Placement> layout = packed_layout(plan, group_index);
      std::vector<u64> minus_r(N, 0);
      for (const Placement& pl : layout) {
        const u64 rv = prg.next_u64();
        share[pl.row * n + pl.col] += shift < 64 ? rv << shift : 0;
        minus_r[pl.position] = 0 - rv;
      }
      add_plain(ctx, packed, minus_r.data(), N);
      add_flood(ctx, packed.b, flood, prg);
      const int kbits = plan.format.k_bits, drop = plan.format.drop_bits;
      const std::vector<u128> a2 = switch_to_pow2(ctx, packed.a, kbits);
      const std::vector<u128> b2 = switch_to_pow2(ctx, packed.b, kbits);
      for (std::size_t j = 0; j < N; ++j) out.put(a2[j], kbits);
      const u128 half = drop > 0 ? static_cast<u128>(1) << (drop - 1) : 0;
      const u128 b_mask = (static_cast<u128>(1) << (kbits - drop)) - 1;
      for (const Placement& pl : layout) out.put(((b2[pl.position] + half) >> drop) & b_mask, kbits - drop);
      ++group_index;
    };

    std::vector<std::int64_t> wcoef(N);
    std::vector<Ciphertext> acc(static_cast<std::size_t>(plan.mb));
    for (i64 jb = 0; jb < plan.nb; ++jb) {
      for (Ciphertext& c : acc) c = {RnsPoly(N, L, true), RnsPoly(N, L, true)};
      for (i64 kb = 0; kb < plan.kb; ++kb) {
        std::fill(wcoef.begin(), wcoef.end(), 0);
        for (i64 j = 0; j < plan.kw && kb * plan.kw + j < k; ++j)
          for (i64 l = 0; l < plan.nw && jb * plan.nw + l < n; ++l)
            wcoef[static_cast<std::size_t>(l * plan.kw + plan.kw - 1 - j)] = wd[static_cast<std::size_t>((kb * plan.kw + j) * n + jb * plan.nw + l)];
        RnsPoly wp = poly_from_signed(ctx, wcoef.data(), N, L);
        to_ntt(ctx, wp);
        for (i64 ib = 0; ib < plan.mb; ++ib) {
          const Input& in = inputs[static_cast<std::size_t>(ib * plan.kb + kb)];
          Ciphertext& c = acc[static_cast<std::size_t>(ib)];
          for (int i = 0; i < L; ++i) {
            const Modulus& q = ctx.q(i);
            const u64* wv = wp.row(i);
            const u64 *cb = in.ct.b.row(i), *ca = in.ct.a.row(i), *sb = &in.b_shoup[i * N], *sa = &in.a_shoup[i * N];
            u64 *ob = c.b.row(i), *oa = c.a.row(i);
            for (std::size_t j = 0; j < N; ++j) {
              ob[j] = q.add(ob[j], mul_shoup(wv[j], cb[j], sb[j], q.value));
              oa[j] = q.add(oa[j], mul_shoup(wv[j], ca[j], sa[j], q.value));
            }
          }
        }
      }
      for (i64 ib = 0; ib < plan.mb; ++ib) {
        Ciphertext c = std::move(acc[static_cast<std::size_t>(ib)]);
        from_ntt(ctx, c.b);
        from_ntt(ctx, c.a);
        if (plan.kw > 1) {  // the useful coefficients to multiples of kw: times x^-(kw-1) = -x^(N-kw+1)
          const std::size_t e = 2 * N - static_cast<std::size_t>(plan.kw - 1);
          c = {multiply_monomial(c.b, e, ctx), multiply_monomial(c.a, e, ctx)};
        }
        group.push_back(std::move(c));
        if (static_cast<i64>(group.size()) == plan.kw) finish_group();
      }
    }
    if (!group.empty()) finish_group();
  }
  out.flush();
  if (msg.size() != plan.response_bytes) throw std::logic_error("HE response: message size differs from the plan");
  comm_.send_bytes(peer_, msg.data(), msg.size());
  return share;
}

RingTensor HeMatmul::server_product(const RingTensor& x_share, const RingTensor& w, int weight_limbs) {
  return server_products({{x_share, w}}, weight_limbs)[0];
}

std::vector<RingTensor> HeMatmul::server_products(const std::vector<std::pair<RingTensor, RingTensor>>& x_shares_and_w, int weight_limbs) {
  if (comm_.role() != Role::server) throw std::logic_error("HeMatmul::server_product called by the " + std::string(role_name(comm_.role())));
  if (!ready_) throw std::logic_error("HeMatmul: set_up() first");
  std::vector<RingTensor> out;
  for (const auto& [x_share, w] : x_shares_and_w) {
    if (x_share.rank() != 2 || w.rank() != 2 || x_share.dim(1) != w.dim(0))
      throw std::invalid_argument("HE matmul: shares m x k and weight k x n expected, got " + describe_shape(x_share) + " and " + describe_shape(w));
    out.push_back(respond(x_share.dim(0), &x_share, w, weight_limbs));
  }
  return out;
}

namespace {
void check_shared_shapes(const RingTensor& x, const RingTensor& y) {
  if (x.rank() != 2 || y.rank() != 2 || x.dim(1) != y.dim(0))
    throw std::invalid_argument("HE shared product: shares m x k and k x n expected, got " + describe_shape(x) + " and " + describe_shape(y));
}
}  // namespace

// X Y = X_c Y_c + X_s Y_s + X_c Y_s + (Y_c^T X_s^T)^T: the two cross terms are HE products with the
// client's share encrypted and the server's (uniform, so in 2 centred 32-bit limbs) as the plaintext.
// Both uploads go before either response: one round trip.
RingTensor HeMatmul::client_shared_product(const RingTensor& x_share, const RingTensor& y_share) {
  return client_shared_products({{x_share, y_share}})[0];
}

std::vector<RingTensor> HeMatmul::client_shared_products(const std::vector<std::pair<RingTensor, RingTensor>>& xy_shares) {
  if (comm_.role() != Role::client) throw std::logic_error("HeMatmul::client_shared_product called by the " + std::string(role_name(comm_.role())));
  if (!ready_) throw std::logic_error("HeMatmul: set_up() first");
  std::vector<HeMatmulPlan> plans;
  for (const auto& [x, y] : xy_shares) {
    check_shared_shapes(x, y);
    plans.push_back(send_upload(x, y.dim(1), kSharedLimbs));
    plans.push_back(send_upload(transpose_last2(y), x.dim(0), kSharedLimbs));
  }
  std::vector<RingTensor> out;
  for (size_t i = 0; i < xy_shares.size(); ++i) {
    const auto& [x, y] = xy_shares[i];
    RingTensor share = x.is_phantom() || y.is_phantom() ? RingTensor::phantom({x.dim(0), y.dim(1)}) : matmul(x, y);
    RingTensor first = receive_response(plans[2 * i]), second = receive_response(plans[2 * i + 1]);
    if (!share.is_phantom()) {
      add_inplace(share, first);
      add_inplace(share, transpose_last2(second));
    }
    out.push_back(std::move(share));
  }
  return out;
}

RingTensor HeMatmul::server_shared_product(const RingTensor& x_share, const RingTensor& y_share) {
  return server_shared_products({{x_share, y_share}})[0];
}

std::vector<RingTensor> HeMatmul::server_shared_products(const std::vector<std::pair<RingTensor, RingTensor>>& xy_shares) {
  if (comm_.role() != Role::server) throw std::logic_error("HeMatmul::server_shared_product called by the " + std::string(role_name(comm_.role())));
  if (!ready_) throw std::logic_error("HeMatmul: set_up() first");
  std::vector<RingTensor> out;
  for (const auto& [x, y] : xy_shares) {
    check_shared_shapes(x, y);
    const bool ph = x.is_phantom() || y.is_phantom();
    RingTensor share = ph ? RingTensor::phantom({x.dim(0), y.dim(1)}) : matmul(x, y);
    RingTensor first = respond(x.dim(0), nullptr, y, kSharedLimbs);
    RingTensor second = respond(y.dim(1), nullptr, transpose_last2(x), kSharedLimbs);
    if (!ph) {
      add_inplace(share, first);
      add_inplace(share, transpose_last2(second));
    }
    out.push_back(std::move(share));
  }
  return out;
}

}  // namespace marill
