// Test helper: a phantom run of a bare-Comm protocol (run_comm_pair) sends exactly the bytes,
// messages and hops of the real run, per phase and side.
#pragma once

#include <catch2/catch.hpp>

#include "actors/memory_transport.h"

namespace marill::test {

inline void check_phantom_equals_real(const CommPairResult& real, const CommPairResult& ph) {
  for (Phase phase : {Phase::offline, Phase::online}) {
    const int p = static_cast<int>(phase);
    CHECK(ph.a.total(phase).bytes_sent == real.a.total(phase).bytes_sent);
    CHECK(ph.b.total(phase).bytes_sent == real.b.total(phase).bytes_sent);
    CHECK(ph.a.total(phase).messages == real.a.total(phase).messages);
    CHECK(ph.b.total(phase).messages == real.b.total(phase).messages);
    CHECK(ph.a.clock[p].hops == real.a.clock[p].hops);
    CHECK(ph.b.clock[p].hops == real.b.clock[p].hops);
  }
}

}  // namespace marill::test
