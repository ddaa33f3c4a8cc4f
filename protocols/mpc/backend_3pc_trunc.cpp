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
// The short values travel packed element-major (BitWriter), each party's arithmetic on a part
// is one pass. Per element of a part: A 8 B + 1 bit, B 8 B + d bits, H 2d bits (+ 8 B when it holds a part), so
// over the three parts each party sends (16 + (3d + 1)/8 [+ 8]) / 3 B: trunc at d = 16 7.4 B, the
// fused mul_trunc 10.0 B (two words fewer than a replicated re-sharing of y_A and y_B and a dealt
// share of r >> d would cost).
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/fss/trunc_mask.h"
#include "protocols/mpc/backend_3pc.h"
#include "protocols/mpc/backend_3pc_parts.h"
#include "protocols/ring/work_meter.h"

namespace marill {

using three_pc::join_parts;
using three_pc::part_of;

Shared ThreePcBackend::trunc_parts(const RingTensor& first, const RingTensor& second, const RingTensor* dealer, int d) {
  check_trunc_bits(d);
  const Shape shape = first.shape();
  const i64 n = shape_numel(shape);
  const bool holds = dealer != nullptr;  // the dealer holds a part of v (a fused product)
  const bool ph = phantom_;
  const int K = 64 - d;  // a d-bit value v enters as v 2^(64-d)
  const u64 low = (u64{1} << d) - 1;

  struct Part : three_pc::Third {
    RingTensor t, q, hb, mu, rho, c, x;  // x: A's x_A, or B's and H's x_H (H: before m hB's share)
    Shared out;
  };
  std::vector<Part> parts;
  for (const three_pc::Third& t : three_pc::thirds(n, me_)) parts.push_back(Part{t, {}, {}, {}, {}, {}, {}, {}, {}});
  // Each party's arithmetic on a part is one pass over its elements, counted as the elements it
  // writes (the same in phantom runs).
  auto pass = [&](const Part& p, int written) {
    count_work(WorkKind::ring_elem, p.size() * written);
    return !ph;
  };

  // Draws and round 1. Per part and PRG the two holders draw the same sequence: (H, A): tA, qA,
  // hA; (B, H): tB, lB, and rho_HB when H holds a part of v; (A, B): rho, mu.
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 2) {
      RingTensor tA = prg_next_.random(f, ph), qA = prg_next_.random(f, ph), hA = prg_next_.random(f, ph);
      RingTensor tB = prg_prev_.random(f, ph), lB = prg_prev_.random(f, ph);
      // r = (tA + tB) 2^d + lB: r >> d = tA + tB - 2^(64-d) q, q = (tA + tB) >> (64-d).
      RingTensor qh = ph ? RingTensor::phantom({2 * p.size()}) : RingTensor({2 * p.size()});
      p.x = ph ? RingTensor::phantom(f) : RingTensor(f);
      if (pass(p, 3))
        for (i64 e = 0; e < p.size(); ++e) {
          const u64 T = tA[e] + tB[e], hB = (((T << d) + (lB[e] & low)) >> 63) - hA[e], qB = (T >> K) - qA[e];
          qh[e] = qB;
          qh[p.size() + e] = hB;
          p.x[e] = ((qB + hB) << K) - tB[e];  // x_H but for m hB + mu's share
        }
      send_low_bits(p.b, qh, d);
      if (holds) comm_.send(p.a, marill::add(part_of(*dealer, p.lo, p.hi), prg_prev_.random(f, ph)));
    } else if (p.rel == 0) {
      p.t = prg_prev_.random(f, ph);
      p.q = prg_prev_.random(f, ph);
      p.hb = prg_prev_.random(f, ph);
      p.rho = prg_next_.random(f, ph);
      p.mu = prg_next_.random(f, ph);
      p.c = part_of(first, p.lo, p.hi);
      if (pass(p, 1))
        for (i64 e = 0; e < p.size(); ++e) p.c[e] += (p.t[e] << d) + kTruncOffset;
    } else {
      p.t = prg_next_.random(f, ph);
      RingTensor lB = prg_next_.random(f, ph);
      RingTensor rho_hb = holds ? prg_next_.random(f, ph) : RingTensor{};
      p.rho = prg_prev_.random(f, ph);
      p.mu = prg_prev_.random(f, ph);
      RingTensor masked = part_of(second, p.lo, p.hi);
      if (pass(p, 1))
        for (i64 e = 0; e < p.size(); ++e) masked[e] += (p.t[e] << d) + (lB[e] & low) - (holds ? rho_hb[e] : 0);
      comm_.send(p.a, masked);
    }
  }
  for (Part& p : parts) {
    const Shape f = p.flat();
    if (p.rel == 0) {
      add_inplace(p.c, comm_.recv(p.b, f));
      if (holds) add_inplace(p.c, comm_.recv(p.h, f));
    } else if (p.rel == 1) {
      RingTensor qh = recv_low_bits(p.h, {2 * p.size()}, d);
      p.q = ph ? RingTensor::phantom(f) : RingTensor(f, std::vector<u64>(qh.data(), qh.data() + p.size()));
      p.hb = ph ? RingTensor::phantom(f) : RingTensor(f, std::vector<u64>(qh.data() + p.size(), qh.data() + 2 * p.size()));
    }
  }
  // Round 2: A knows c, sends B the bit m = MSB(c) (uniform to B) and H its component
  // x_A = y_A + mu 2^(64-d) - rho, y_A = (c >> d) - tA + (qA + (1 - m) hA) 2^(64-d) (less the offset).
  for (Part& p : parts) {
    if (p.rel != 0) continue;
    RingTensor m = ph ? RingTensor::phantom(p.flat()) : RingTensor(p.flat());
    p.x = ph ? RingTensor::phantom(p.flat()) : RingTensor(p.flat());
    if (pass(p, 2))
      for (i64 e = 0; e < p.size(); ++e) {
        const u64 c = p.c[e], mb = c >> 63;
        m[e] = mb;
        p.x[e] = (c >> d) - (kTruncOffset >> d) - p.t[e] + ((p.q[e] + (1 - mb) * p.hb[e] + p.mu[e]) << K) - p.rho[e];
      }
    send_low_bits(p.b, m, 1);
    comm_.send(p.h, p.x);
    p.out = Shared{p.x, std::move(p.rho), {}};
  }
  // Round 3. B's share y_B = -tB + (qB + (1 - m) hB) 2^(64-d) is the dealer's to compute but for
  // m hB: B sends H s = m hB + mu mod 2^d (d bits, masked by mu), and x_H = y_B - mu 2^(64-d) is
  // then known to both.
  for (Part& p : parts) {
    if (p.rel != 1) continue;
    RingTensor m = recv_low_bits(p.a, p.flat(), 1);
    RingTensor s = ph ? RingTensor::phantom(p.flat()) : RingTensor(p.flat());
    p.x = ph ? RingTensor::phantom(p.flat()) : RingTensor(p.flat());
    if (pass(p, 2))
      for (i64 e = 0; e < p.size(); ++e) {
        s[e] = m[e] * p.hb[e] + p.mu[e];
        p.x[e] = ((p.q[e] + p.hb[e] - s[e]) << K) - p.t[e];
      }
    send_low_bits(p.h, s, d);
    p.out = Shared{std::move(p.rho), p.x, {}};
  }
  for (Part& p : parts) {
    if (p.rel != 2) continue;
    RingTensor xa = comm_.recv(p.a, p.flat());
    RingTensor s = recv_low_bits(p.b, p.flat(), d);
    if (pass(p, 1))
      for (i64 e = 0; e < p.size(); ++e) p.x[e] -= s[e] << K;
    p.out = Shared{p.x, std::move(xa), {}};
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
