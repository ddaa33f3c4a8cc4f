#include "protocols/fss/trunc_gate.h"

#include "protocols/ring/work_meter.h"

namespace marill {

TruncMaterial deal_trunc(Dealing& d, const Shape& shape, int bits) {
  check_trunc_bits(bits);
  TruncMaterial m;
  m.r = d.mask(shape);
  auto parts = d.derived({shape, shape}, [&] {
    return std::vector<RingTensor>{shift_right_logical(m.r, bits), shift_right_logical(m.r, 63)};
  });
  m.r_hi = std::move(parts[0]);
  m.r_msb = std::move(parts[1]);
  return m;
}

TruncSquareMaterial deal_trunc_square(Dealing& d, const Shape& shape, int bits) {
  check_trunc_bits(bits);
  TruncSquareMaterial m;
  m.trunc.r = d.mask(shape);
  auto parts = d.derived({shape, shape, shape, shape}, [&] {
    RingTensor t = shift_right_logical(m.trunc.r, bits), h = shift_right_logical(m.trunc.r, 63);
    RingTensor t2 = mul_elem(t, t), th = mul_elem(t, h);
    return std::vector<RingTensor>{std::move(t), std::move(h), std::move(t2), std::move(th)};
  });
  m.trunc.r_hi = std::move(parts[0]);
  m.trunc.r_msb = std::move(parts[1]);
  m.t2 = std::move(parts[2]);
  m.th = std::move(parts[3]);
  return m;
}

RingTensor trunc_square_share(const RingTensor& c, const TruncSquareMaterial& m, int d, bool first) {
  count_work(WorkKind::ring_elem, static_cast<u64>(c.numel()));
  if (m.trunc.r_hi.is_phantom() || c.is_phantom()) return RingTensor::phantom(c.shape());
  RingTensor out(c.shape());
  const u64 K = u64{1} << (64 - d);
  const u64 *t = m.trunc.r_hi.data(), *h = m.trunc.r_msb.data(), *t2 = m.t2.data(), *th = m.th.data();
  for (i64 e = 0; e < c.numel(); ++e) {
    const u64 mm = 1 - (c[e] >> 63);
    const u64 P = (c[e] >> d) - (kTruncOffset >> d);
    const u64 R = t[e] - K * mm * h[e];
    const u64 R2 = t2[e] - 2 * K * mm * th[e] + K * K * mm * h[e];
    out[e] = R2 - 2 * P * R + (first ? P * P : 0);
  }
  return out;
}

}  // namespace marill
