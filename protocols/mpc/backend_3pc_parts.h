// The three parts of a 3pc protocol whose dealer role rotates (trunc_parts, the comparison): the
// elements are cut into three parts and party D deals part D to the pair (D + 1, D + 2), so each
// party deals a third and plays each of the pair's two roles on a third, and the parts' messages
// travel together.
#pragma once

#include <vector>

#include "protocols/comm/roles.h"
#include "protocols/ring/ring.h"

namespace marill::three_pc {

inline Role role_at(int i) { return static_cast<Role>(((i % 3) + 3) % 3); }  // P0 client, P1 server, P2 helper

// One part as party `me` sees it: the dealer h = P_D and the pair (a, b) = (P_{D+1}, P_{D+2}). a's
// previous neighbour and b's next one are h, so a shares its PRG prg_prev_ with h's prg_next_, b its
// prg_next_ with h's prg_prev_, and a its prg_next_ with b's prg_prev_; a holds x_a + x_b, b holds
// x_b and x_h (its s0 and s1), h holds x_h and x_a.
struct Third {
  i64 lo = 0, hi = 0;
  int rel = 0;  // 0: a, 1: b, 2: the dealer h
  Role a{}, b{}, h{};
  i64 size() const { return hi - lo; }
  Shape flat() const { return {hi - lo}; }
};

// The non-empty parts of n elements, as equal as can be; every party skips the same empty parts.
std::vector<Third> thirds(i64 n, int me);
// All n elements as one part dealt by P_dealer (none when n = 0): a protocol with several messages
// per part rotates the dealer over calls instead where n is small.
std::vector<Third> whole(i64 n, int me, int dealer);

// Elements [lo, hi) of t as a flat tensor (one copy).
RingTensor part_of(const RingTensor& t, i64 lo, i64 hi);

// The parts side by side, shaped `shape` (one copy).
RingTensor join_parts(const std::vector<RingTensor>& parts, const Shape& shape, bool phantom);

}  // namespace marill::three_pc
