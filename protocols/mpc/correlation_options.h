// Which correlation source a two-party backend reads its gates' material from
// (correlation_source.h explains the sources).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace marill {

enum class CorrelationSourceKind { dealer_stream, key_files, size_only };
const char* correlation_source_name(CorrelationSourceKind k);
CorrelationSourceKind parse_correlation_source(const std::string& name);  // dealer-stream|key-files|size-only

struct CorrelationOptions {
  CorrelationSourceKind source = CorrelationSourceKind::dealer_stream;
  std::string key_dir;  // key_files: where the dealer run wrote them
  // The dealer's randomness (its PRG keys with each party and its own) derived from this seed
  // instead of the OS: two dealer runs with one seed deal identical material. For reproducible
  // comparisons only; a deployment leaves it unset.
  std::optional<std::uint64_t> dealer_seed;
  // 2pc: the chunk size k of the OT extension (SoftSpokenOT; 1 = IKNP, up to 10): ⌈128/k⌉ bits per
  // OT for about 2^k/k times the PRG work. 8: the CPU/bytes balance; 10: a 64-bit comparison under
  // 2,000 bits at ~3x the extension's CPU.
  int ot_softspoken_k = 8;
};

}  // namespace marill
