// The secure matrix product of the 2PC setting: X (m x k) additively shared in Z_2^64 between client
// and server, W (k x n) the server's private weight (centred fixed-point values, |w| < 2^weight_bits,
// a public bound). One round trip:
//   client -> server  Enc(X_c), symmetric RLWE, a parts from one 128-bit seed (only b travels);
//   server            Enc(X_c) * W with Cheetah's polynomial packing (Huang et al., USENIX Security
//                     2022, Sec. 3.1): a block X[mw x kw] becomes sum X[i,j] x^(i*nw*kw + j), a block
//                     W[kw x nw] sum W[j,l] x^(l*kw + kw-1-j); their product holds (X W)[i,l] at
//                     i*nw*kw + l*kw + kw-1 (mw*kw*nw <= N: no wrap-around);
//                     the sparse products are packed kw to one (pack_strided: automorphisms and key
//                     switching, as BumbleBee's/PackLWEs' output packing) so the response is dense;
//                     a group of fewer than kw products packs at the least power-of-two stride
//                     that holds it (fewer key switches, the same output positions);
//                     minus a fresh uniform R, plus a public-key encryption of zero, plus flooding noise;
//                     switched to a power-of-two modulus 2^k with b's low bits dropped;
//   server -> client  the packed ciphertexts: all N coefficients of a, only the useful ones of b.
// Shares: client X_c W - R (what it decrypts), server X_s W + R (computed in the clear). Fixed-point
// truncation is the caller's.
//
// What the client learns about W, and why it is nothing beyond X_c W - R: the plaintext it decrypts
// is X_c W - R with R uniform in Z_2^64 per output, i.e. uniform. The ciphertext's other parts could
// leak W two ways, both closed: (1) its a part is a known linear function of W (the client knows its
// a's): adding a fresh public-key encryption of zero makes a pseudo-random under RLWE
// (re-randomisation); (2) its noise depends on W (e * W): before switching, the server adds noise
// uniform in [-F, F] with F >= 2^40 * (the worst-case bound of all noise so far), so the noise's
// distribution is within statistical distance 2^-40 per coefficient of one that does not depend on
// W (smudging). b coefficients that carry no output are never sent. The server learns nothing: it
// sees only RLWE ciphertexts (semi-honest, as the paper).
//
// Messages carry a 16-byte fingerprint (SHA-256 of the parameters and the client's key set-up); a
// message from another key or other parameters, of a wrong size or truncated is a ProtocolError.
// Phantom runs (Comm::phantom) send exactly the bytes of real ones without computing.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/he/rlwe.h"

namespace marill {

struct HeMatmulOptions {
  HeParams params = HeParams::standard();
  int weight_bits = 32;   // the server's weights satisfy |w| < 2^weight_bits (centred)
  int max_pack_log = 7;   // Galois keys for packing strides up to 2^max_pack_log (set-up bytes grow with it)
  // Plans weigh one key switch of the server's packing as this many bytes (plan_he_matmul). A switch
  // costs ~4.6 ms of server CPU here, what a 400 Mbit/s link moves 230 KB in: at the fewest bytes,
  // products with few outputs per sparse ciphertext (attention's 64x100x64 per head, LoRA's
  // (XA)B at 64x64x3200) spend most of their time in switches. 16 KiB is the most that keeps
  // (128x768)(768x768) under the 6 MB the 2PC issue sets (5.6 MB, 1.2 s less server CPU); 32 KiB
  // and more trade bytes past it (9.5 MB) for little time (bench he, bench layer --phantom).
  u64 key_switch_bytes = u64{16} << 10;
};

// Block sizes and costs of one product shape (m x k) * (k x n), the same on both sides.
struct HeMatmulPlan {
  i64 m = 0, k = 0, n = 0;
  i64 mw = 0, kw = 0, nw = 0;  // block: mw*kw*nw <= N, kw a power of two (the packing stride)
  i64 mb = 0, kb = 0, nb = 0;  // block counts: ceil(m/mw), ceil(k/kw), ceil(n/nw)
  i64 in_cts = 0, out_cts = 0, packed_cts = 0;
  int limbs = 1, limb_bits = 64;  // W split into `limbs` centred digits of limb_bits bits (1: W itself)
  ResponseFormat format;       // response modulus 2^k_bits, dropped bits, the noise analysis
  u64 upload_bytes = 0, response_bytes = 0;  // whole messages, headers included
  u64 key_switches = 0;        // the server's packing merges, all limbs
  u64 total_bytes() const { return upload_bytes + response_bytes; }
};

// The plan with the least bytes + key_switch_bytes x key switches (ties: fewer key switches):
// key_switch_bytes = 0 is the fewest bytes; the default is HeMatmul's, so callers see its plans. With limbs > 1 the weight is any ring element, split into
// centred limbs (each limb one more response; weight_bits is then the limbs'). Throws
// std::invalid_argument for empty shapes or when no response format fits the noise budget.
HeMatmulPlan plan_he_matmul(const HeContext& ctx, i64 m, i64 k, i64 n, int weight_bits, int max_pack_log, int limbs = 1,
                            u64 key_switch_bytes = HeMatmulOptions().key_switch_bytes);
// Bytes of the one-time key set-up message (client -> server): public key and Galois keys, seeded.
u64 he_setup_bytes(const HeContext& ctx, int max_pack_log);
constexpr u64 kHeHeaderBytes = 4 + 16;  // message kind + fingerprint

class HeMatmul {
 public:
  // `peer` is the other party (client <-> server); comm.role() says which side this is.
  HeMatmul(Comm& comm, Role peer, HeMatmulOptions options = {});
  ~HeMatmul();
  HeMatmul(const HeMatmul&) = delete;
  HeMatmul& operator=(const HeMatmul&) = delete;

  // Offline, once: the client makes its keys and sends the public and Galois keys (sent in the
  // ledger's offline phase); the server receives and checks them.
  void set_up();
  // Client: its share X_c (m x k) and the weight's column count n -> its output share X_c W - R.
  RingTensor client_product(const RingTensor& x_share, i64 n, int weight_limbs = 1);
  // Server: its share X_s (m x k) and its weight W (k x n) -> its output share X_s W + R.
  // weight_limbs > 1 (both sides the same): W any ring element, in centred limbs of 64/limbs bits.
  RingTensor server_product(const RingTensor& x_share, const RingTensor& w, int weight_limbs = 1);
  // Shared x shared (attention): X (m x k) and Y (k x n) both shared -> this side's share of X Y.
  // The cross terms X_c Y_s and X_s Y_c are two HE products (the server's uniform share as the
  // plaintext, in two 32-bit limbs), both uploads before either response: one round trip.
  static constexpr int kSharedLimbs = 2;
  RingTensor client_shared_product(const RingTensor& x_share, const RingTensor& y_share);
  RingTensor server_shared_product(const RingTensor& x_share, const RingTensor& y_share);

  // Several products in one round trip: every upload goes out before any response is read (the
  // server answers each as it arrives). Same results as the calls one by one.
  std::vector<RingTensor> client_products(const std::vector<std::pair<RingTensor, i64>>& x_shares_and_n, int weight_limbs = 1);
  std::vector<RingTensor> server_products(const std::vector<std::pair<RingTensor, RingTensor>>& x_shares_and_w, int weight_limbs = 1);
  std::vector<RingTensor> client_shared_products(const std::vector<std::pair<RingTensor, RingTensor>>& xy_shares);
  std::vector<RingTensor> server_shared_products(const std::vector<std::pair<RingTensor, RingTensor>>& xy_shares);

  const HeContext& context() const;
  const HeMatmulPlan& last_plan() const { return last_plan_; }
  // The session's fingerprint (after set-up): keys and parameters.
  const HeDigest& fingerprint() const { return fingerprint_; }

 private:
  HeMatmulPlan send_upload(const RingTensor& x_share, i64 n, int limbs);
  RingTensor receive_response(const HeMatmulPlan& plan);
  // Serves one upload of an m-row share against w; returns x_share * w + R (R alone without x_share).
  RingTensor respond(i64 m, const RingTensor* x_share, const RingTensor& w, int limbs);
  struct Keys;
  Comm& comm_;
  Role peer_;
  HeMatmulOptions options_;
  std::shared_ptr<const HeContext> ctx_;
  std::unique_ptr<Keys> keys_;
  HeDigest fingerprint_{};
  bool ready_ = false;
  HeMatmulPlan last_plan_;
};

// Cached contexts: building one (primes, tables) costs milliseconds; parties share them read-only.
std::shared_ptr<const HeContext> he_context(const HeParams& params);

}  // namespace marill
