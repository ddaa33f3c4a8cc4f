#include "protocols/ring/allocator.h"

#include <malloc.h>

#include <cstdlib>

namespace marill {

bool tune_allocator_for_protocols() {
  // MARILL_ARENAS=0 keeps glibc's defaults (to measure against them); another number sets the arenas.
  const char* arenas = std::getenv("MARILL_ARENAS");
  if (arenas && std::atoi(arenas) <= 0) return true;
  bool ok = true;
  // One arena: threads' frees return to a heap that is reused rather than to heaps glibc shrinks.
  ok &= mallopt(M_ARENA_MAX, arenas ? std::atoi(arenas) : 1) == 1;
  // Buffers below 256 MB come from the heap, and the heap never shrinks (-1: no trimming).
  ok &= mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1;
  ok &= mallopt(M_TRIM_THRESHOLD, -1) == 1;
  return ok;
}

}  // namespace marill
