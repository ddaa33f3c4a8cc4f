// The correlation-robust hash of OT extension: fixed-key AES in the tweakable circular
// correlation-robust (TCCR) construction of Guo, Katz, Wang and Yu, "Efficient and Secure
// Multiparty Computation from Fixed-Key Block Ciphers" (IEEE S&P 2020), section 7.4:
//     H(x, i) = π(π(x) ⊕ i) ⊕ π(x),   π = AES-128 under a fixed public key,
// secure in the ideal-permutation model for inputs x ⊕ Δ with a secret Δ (IKNP's rows q_i ⊕ s) and
// distinct tweaks i. Every hash of a session uses a fresh tweak: (OT index, domain).
#pragma once

#include <cstddef>

#include "protocols/ot/block.h"

namespace marill {

// out[k] = H(in[k], (first_index + k, domain)) for k < n. in and out may be the same array.
void tccr_hash(const Block* in, Block* out, std::size_t n, u64 first_index, u64 domain);
// out[k] = H(in[k], tweaks[k]).
void tccr_hash(const Block* in, Block* out, std::size_t n, const Block* tweaks);

// Domains of the tweaks, so no two uses of H share one.
enum : u64 {
  kTweakRandomOt = 0,       // the ROT messages H(q_i), H(q_i ⊕ s)
  kTweakOneOfNBase = 1 << 20,  // 1-of-N pads: kTweakOneOfNBase + (j << 8 | x), j < 8, x < 256
};

}  // namespace marill
