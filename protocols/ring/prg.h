// AES-128-CTR pseudo-random generator (OpenSSL EVP, AES-NI) for all share randomness.
// Keys come from the OS (getrandom) or from a key agreed between parties at set-up; never
// from std::rand or mt19937, and keys are never printed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "protocols/ring/ring.h"

namespace marill {

using Key128 = std::array<std::uint8_t, 16>;

Key128 random_key_from_os();

class Prg {
 public:
  explicit Prg(const Key128& key);
  ~Prg();
  Prg(Prg&&) noexcept;
  Prg& operator=(Prg&&) noexcept;
  Prg(const Prg&) = delete;
  Prg& operator=(const Prg&) = delete;

  static Prg from_os() { return Prg(random_key_from_os()); }

  void fill_bytes(std::uint8_t* out, std::size_t n);
  void fill(u64* out, std::size_t n) { fill_bytes(reinterpret_cast<std::uint8_t*>(out), n * 8); }
  u64 next_u64();
  Key128 next_key();
  // Uniform ring tensor of `shape`; phantom shape in phantom mode (no randomness drawn).
  RingTensor random(const Shape& shape, bool phantom = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace marill
