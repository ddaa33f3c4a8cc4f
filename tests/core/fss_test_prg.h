// A fixed-key PRG for the FSS tests' random inputs and keys: reproducible runs, one stream per tag.
#pragma once

#include <cstdint>

#include "protocols/ring/prg.h"

namespace marill::test {

inline Prg fss_test_prg(std::uint8_t tag) {
  Key128 k{};
  for (int i = 0; i < 16; ++i) k[i] = static_cast<std::uint8_t>(17 * i + tag);
  return Prg(k);
}

}  // namespace marill::test
