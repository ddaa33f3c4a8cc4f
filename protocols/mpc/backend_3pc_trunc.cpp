// 3pc exact truncation with a helper-dealt mask of known MSB (protocols/fss/trunc_mask.h), the
// dealer role rotated: the elements are cut into three parts and party D deals part D, so each
// party deals a third and opens two thirds, and the parts' messages travel together.
//
// In a part, with the dealer H and the pair (A, B) = (H + 1, H + 2), v = z_A + z_B (+ z_H):
//   round 1  H draws r = rA + rB (+ rH; rA from its pair PRG with A, rB with B, rH its own) and
//            sends B its share of t = r >> d (a word) and of h = MSB(r) mod 2^d (d bits: h only
//            enters as h 2^(64-d)); A's shares come from the (H, A) PRG. When H holds a part of v it
//            sends A z_H + rH. B sends A z_B + rB.
//   round 2  A opens c = v + 2^62 + r alone and sends B the bit MSB(c) (uniform: r is uniform to
//            B); A's share of v >> d is then known and goes to H re-masked (replicated form).
//   round 3  B's share, -t_B + 2^(64-d) (1 - MSB(c)) h_B, goes to H re-masked.
// Per element of a part: A 1 bit + 8 B, B 16 B, H 8 B + d bits (+ 8 B when it holds a part), so
// over the three parts each party sends (32 + (d + 1)/8 [+ 8]) / 3 B: trunc at d = 16 11.4 B, the
// fused mul_trunc 14.0 B (unrotated, the dealer's 18 B per element would set the pace).
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/fss/trunc_mask.h"
#include "protocols/mpc/backend_3pc.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {
Role role_at(int i) { return static_cast<Role>(((i % 3) + 3) % 3); }

// Elements [lo, hi) of t as a flat tensor (one copy).
RingTensor part_of(const RingTensor& t, i64 lo, i64 hi) {
  count_work(WorkKind::ring_copy, hi - lo);
  if (t.is_phantom()) return RingTensor::phantom({hi - lo});
  return RingTensor({hi - lo}, std::vector<u64>(t.data() + lo, t.data() + hi));
}

// The parts side by side, shaped `shape` (one copy).
RingTensor join_parts(const std::vector<RingTensor>& parts, const Shape& shape, bool phantom) {
  count_work(WorkKind::ring_copy, shape_numel(shape));
  if (phantom) return RingTensor::phantom(shape);
  std::vector<u64> v;
  v.reserve(static_cast<size_t>(shape_numel(shape)));
  for (const RingTensor& p : parts) v.insert(v.end(), p.data(), p.data() + p.numel());
  return RingTensor(shape, std::move(v));
}
}  // namespace

Shared ThreePcBackend::trunc_parts(const RingTensor& first, const RingTensor& second, const RingTensor* dealer, int d) {
  check_trunc_bits(d);
  const Shape shape = first.shape();
  const i64 n = shape_numel(shape);
  const bool dealer_holds_part = dealer != nullptr;
  const bool ph = phantom_;

  struct Part {
    i64 lo = 0, hi = 0;
    int rel = 0;  // 0: A, 1: B, 2: the dealer H
    Role a, b, h;
    RingTensor mine, t, hbit, rho, rho2, c, y;
    Shared out;
    Shape flat() const { return {hi - lo}; }
  };
  // Part boundaries on multiples of 64 elements, so bit planes pack densely.
  std::vector<Part> parts;
  for (int D = 0; D < 3; ++D) {
    Part p;
    auto cut = [n](int j) { return j == 3 ? n : n >= 192 ? (j * n / 3) / 64 * 64 : j * n / 3; };
    p.lo = cut(D);
    p.hi = cut(D + 1);
    if (p.hi == p.lo) continue;  // every party skips the same empty parts
    p.rel = ((me_ - D - 1) % 3 + 3) % 3;
    p.h = role_at(D);
    p.a = role_at(D + 1);
    p.b = role_at(D + 2);
    parts.push_back(std::move(p));
  }

  // Draws and round 1. Per part and PRG the two holders draw the same sequence: (H, A): rA, tA,
  // hA; (B, H): rB; (A, B): rho, rho2.
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 2) {
      RingTensor rA = prg_next_.random(f, ph), tA = prg_next_.random(f, ph), hA = prg_next_.random(f, ph);
      RingTensor r = marill::add(rA, prg_prev_.random(f, ph));
      if (dealer_holds_part) {
        RingTensor rH = prg_own_.random(f, ph);
        comm_.send(p.a, marill::add(part_of(*dealer, p.lo, p.hi), rH));
        add_inplace(r, rH);
      }
      comm_.send(p.b, marill::sub(shift_right_logical(r, d), tA));
      send_bits(p.b, Bits::from_ring(marill::sub(shift_right_logical(r, 63), hA), 0, d));
    } else if (p.rel == 0) {
      RingTensor rA = prg_prev_.random(f, ph);
      p.t = prg_prev_.random(f, ph);
      p.hbit = prg_prev_.random(f, ph);
      p.rho = prg_next_.random(f, ph);
      p.rho2 = prg_next_.random(f, ph);
      p.mine = marill::add_scalar(marill::add(part_of(first, p.lo, p.hi), rA), kTruncOffset);
    } else {
      RingTensor rB = prg_next_.random(f, ph);
      p.rho = prg_prev_.random(f, ph);
      p.rho2 = prg_prev_.random(f, ph);
      comm_.send(p.a, marill::add(part_of(second, p.lo, p.hi), rB));
    }
  }
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 0) {
      p.c = marill::add(p.mine, comm_.recv(p.b, f));
      if (dealer_holds_part) add_inplace(p.c, comm_.recv(p.h, f));
    } else if (p.rel == 1) {
      p.t = comm_.recv(p.h, f);
      p.hbit = recv_bits(p.h, p.hi - p.lo, d).to_ring(f);
    }
  }
  // Round 2: A knows c and its share.
  for (Part& p : parts) {
    if (p.rel != 0) continue;
    send_bits(p.b, Bits::from_ring(p.c, 63, 1));
    RingTensor y0 = marill::sub(marill::sub(trunc_share(p.c, p.t, p.hbit, d, true), p.rho), p.rho2);
    comm_.send(p.h, y0);
    p.out = Shared{std::move(y0), std::move(p.rho), {}};
  }
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 1) {
      // -t_B + K (1 - MSB(c)) h_B: trunc_share reads only c's MSB for the second party.
      RingTensor c_msb = shift_left(recv_bits(p.a, p.hi - p.lo, 1).to_ring(f), 63);
      p.y = marill::add(trunc_share(c_msb, p.t, p.hbit, d, false), p.rho2);
    } else if (p.rel == 2) {
      p.y = comm_.recv(p.a, f);  // A's y0
    }
  }
  // Round 3: B's share to the dealer.
  for (Part& p : parts)
    if (p.rel == 1) {
      comm_.send(p.h, p.y);
      p.out = Shared{std::move(p.rho), std::move(p.y), {}};
    }
  for (Part& p : parts)
    if (p.rel == 2) p.out = Shared{comm_.recv(p.b, p.flat()), std::move(p.y), {}};

  // Components: A holds (x_A, x_B) = (y0, rho), B (x_B, x_H) = (rho, y2), H (x_H, x_A) = (y2, y0).
  std::vector<RingTensor> s0, s1;
  for (Part& p : parts) {
    s0.push_back(std::move(p.out.s0));
    s1.push_back(std::move(p.out.s1));
  }
  return Shared{join_parts(s0, shape, ph), join_parts(s1, shape, ph), {}};
}

}  // namespace marill
