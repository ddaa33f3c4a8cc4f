// 128-bit blocks (κ = 128: OT keys, rows of the IKNP matrices) and the small helpers every OT
// module shares: constant-free bit packing of ℓ-bit values (messages on the wire are packed tight,
// so an OT of ℓ-bit strings sends ℓ bits, not 64), the phase switch for set-up costs, and checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/ring/ring.h"

namespace marill {

struct alignas(16) Block {
  u64 lo = 0, hi = 0;
  Block operator^(const Block& o) const { return {lo ^ o.lo, hi ^ o.hi}; }
  Block& operator^=(const Block& o) {
    lo ^= o.lo;
    hi ^= o.hi;
    return *this;
  }
  bool operator==(const Block& o) const { return lo == o.lo && hi == o.hi; }
  bool operator!=(const Block& o) const { return !(*this == o); }
  // Bit j (0..127), LSB-first: bit j of byte j/8 of the block's little-endian bytes.
  bool bit(int j) const { return ((j < 64 ? lo >> j : hi >> (j - 64)) & 1) != 0; }
};
static_assert(sizeof(Block) == 16, "Block is 16 bytes on the wire");

// Appends values of 1..64 bits each, LSB first, with no padding between them.
class BitWriter {
 public:
  explicit BitWriter(u64 total_bits) : bytes_((total_bits + 7) / 8, 0) {}
  void put(u64 value, int bits);
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  u64 pos_ = 0;
};

// Reads what BitWriter wrote; reading past the end is a ProtocolError (the sizes were agreed).
class BitReader {
 public:
  BitReader(const std::uint8_t* data, u64 n_bytes) : data_(data), n_bits_(n_bytes * 8) {}
  u64 get(int bits);

 private:
  const std::uint8_t* data_;
  u64 n_bits_;
  u64 pos_ = 0;
};

// Switches the ledger's phase for a scope (base OTs and triples are offline costs).
class PhaseScope {
 public:
  PhaseScope(Ledger& l, Phase p) : ledger_(l), old_(l.phase) { l.phase = p; }
  ~PhaseScope() { ledger_.phase = old_; }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  Ledger& ledger_;
  Phase old_;
};

// A choice vector holds only 0 and 1 (std::invalid_argument naming `what` otherwise).
void require_bits(const std::vector<std::uint8_t>& choices, const char* what);

}  // namespace marill
