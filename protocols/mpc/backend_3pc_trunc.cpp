// 3pc exact truncation with a helper-dealt mask of known MSB (protocols/fss/trunc_mask.h), the
// dealer role rotated: the elements are cut into three parts and party D deals part D, so each
// party deals a third and opens two thirds, and the parts' messages travel together.
//
// In a part, with the dealer H and the pair (A, B) = (H + 1, H + 2), v = z_A + z_B (+ z_H). The
// mask is built from pair-PRG words so that only d-bit values are dealt: tA (H, A PRG), tB and
// lB < 2^d (H, B PRG), r = (tA + tB) 2^d + lB, so r >> d = tA + tB - 2^(64-d) q with
// q = (tA + tB) >> (64-d); H deals shares of q and of h = MSB(r) mod 2^d (A's from their PRG).
//   round 1  H sends B qB and hB (2d bits); when H holds a part of v it sends A z_H + rho_HB (a
//            (H, B) PRG word that B takes off its own message). B sends A z_B + rB, rB = tB 2^d + lB.
//   round 2  A opens c = v + 2^62 + r alone, sends B the bit m = MSB(c) (uniform: r is uniform to
//            B) and H its component x_A = y_A + mu 2^(64-d) - rho (rho, mu from the (A, B) PRG).
//   round 3  B's share y_B = -tB + (qB + (1 - m) hB) 2^(64-d) is known to H but for m hB: B sends H
//            s = m hB + mu mod 2^d (d bits, masked by mu), and x_H = y_B - mu 2^(64-d) is then
//            known to both; x_B = rho. Every message is a uniform value to its receiver.
// Per element of a part: A 8 B + 1 bit, B 8 B + d bits, H 2d bits (+ 8 B when it holds a part), so
// over the three parts each party sends (16 + (3d + 1)/8 [+ 8]) / 3 B: trunc at d = 16 7.4 B, the
// fused mul_trunc 10.0 B (two words fewer than a replicated re-sharing of y_A and y_B and a dealt
// share of r >> d would cost).
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
  const int K = 64 - d;  // K-shifts: a d-bit value v enters as v 2^(64-d)

  struct Part {
    i64 lo = 0, hi = 0;
    int rel = 0;  // 0: A, 1: B, 2: the dealer H
    Role a, b, h;
    RingTensor t, q, hbit, mu, rho, c, s, xh_base, out_a;
    Shared out;
    i64 size() const { return hi - lo; }
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
  auto low_bits = [&](Prg& prg, const Part& p) { return random_bits(prg, p.size(), d, ph).to_ring(p.flat()); };

  // Draws and round 1. Per part and PRG the two holders draw the same sequence: (H, A): tA, qA,
  // hA; (B, H): tB, lB (and rho_HB when H holds a part of v); (A, B): rho, mu.
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 2) {
      RingTensor tA = prg_next_.random(f, ph), qA = low_bits(prg_next_, p), hA = low_bits(prg_next_, p);
      RingTensor tB = prg_prev_.random(f, ph), lB = low_bits(prg_prev_, p);
      // r = (tA + tB) 2^d + lB: r >> d = tA + tB - 2^(64-d) q, so only q's and h's shares are dealt.
      RingTensor T = marill::add(tA, tB);
      RingTensor h = shift_right_logical(marill::add(shift_left(T, d), lB), 63);
      RingTensor qB = marill::sub(shift_right_logical(T, K), qA), hB = marill::sub(h, hA);
      send_bits(p.b, bits_stack({Bits::from_ring(qB, 0, d), Bits::from_ring(hB, 0, d)}));
      if (dealer_holds_part) comm_.send(p.a, marill::add(part_of(*dealer, p.lo, p.hi), prg_prev_.random(f, ph)));
      p.xh_base = marill::sub(shift_left(marill::add(qB, hB), K), tB);
    } else if (p.rel == 0) {
      p.t = prg_prev_.random(f, ph);
      p.q = low_bits(prg_prev_, p);
      p.hbit = low_bits(prg_prev_, p);
      p.rho = prg_next_.random(f, ph);
      p.mu = low_bits(prg_next_, p);
      p.c = marill::add_scalar(marill::add(part_of(first, p.lo, p.hi), shift_left(p.t, d)), kTruncOffset);
    } else {
      p.t = prg_next_.random(f, ph);
      RingTensor rB = marill::add(shift_left(p.t, d), low_bits(prg_next_, p));
      if (dealer_holds_part) sub_inplace(rB, prg_next_.random(f, ph));  // H sent A its part + rho_HB
      p.rho = prg_prev_.random(f, ph);
      p.mu = low_bits(prg_prev_, p);
      comm_.send(p.a, marill::add(part_of(second, p.lo, p.hi), rB));
    }
  }
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 0) {
      add_inplace(p.c, comm_.recv(p.b, f));
      if (dealer_holds_part) add_inplace(p.c, comm_.recv(p.h, f));
    } else if (p.rel == 1) {
      Bits qh = recv_bits(p.h, p.size(), 2 * d);
      p.q = bits_planes(qh, 0, d).to_ring(f);
      p.hbit = bits_planes(qh, d, d).to_ring(f);
    }
  }
  // Round 2: A knows c, sends B the bit m = MSB(c) (uniform to B) and H its component
  // x_A = y_A + mu 2^(64-d) - rho.
  for (Part& p : parts) {
    if (p.rel != 0) continue;
    send_bits(p.b, Bits::from_ring(p.c, 63, 1));
    RingTensor xa = marill::sub(marill::add(trunc_share(p.c, p.t, p.hbit, d, true), shift_left(marill::add(p.q, p.mu), K)), p.rho);
    comm_.send(p.h, xa);
    p.out = Shared{std::move(xa), std::move(p.rho), {}};
  }
  // B's share y_B = -tB + (qB + (1 - m) hB) 2^(64-d) is H's to compute but for m hB: B sends H
  // s = m hB + mu mod 2^d (d bits), and x_H = y_B - mu 2^(64-d) is then known to both.
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 1) {
      RingTensor m = recv_bits(p.a, p.size(), 1).to_ring(f);
      RingTensor s = marill::add(mul_elem(m, p.hbit), p.mu);
      p.xh_base = marill::sub(shift_left(marill::add(p.q, p.hbit), K), p.t);
      p.s = std::move(s);
    } else if (p.rel == 2) {
      p.out_a = comm_.recv(p.a, f);
    }
  }
  // Round 3.
  for (Part& p : parts)
    if (p.rel == 1) {
      send_bits(p.h, Bits::from_ring(p.s, 0, d));
      p.out = Shared{std::move(p.rho), marill::sub(p.xh_base, shift_left(p.s, K)), {}};
    }
  for (Part& p : parts)
    if (p.rel == 2) {
      RingTensor s = recv_bits(p.b, p.size(), d).to_ring(p.flat());
      p.out = Shared{marill::sub(p.xh_base, shift_left(s, K)), std::move(p.out_a), {}};
    }

  // Components: A holds (x_A, x_B) = (x_A, rho), B (x_B, x_H) = (rho, x_H), H (x_H, x_A).
  std::vector<RingTensor> s0, s1;
  for (Part& p : parts) {
    s0.push_back(std::move(p.out.s0));
    s1.push_back(std::move(p.out.s1));
  }
  return Shared{join_parts(s0, shape, ph), join_parts(s1, shape, ph), {}};
}

}  // namespace marill
