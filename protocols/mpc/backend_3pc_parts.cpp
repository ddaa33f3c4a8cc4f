#include "protocols/mpc/backend_3pc_parts.h"

#include "protocols/ring/work_meter.h"

namespace marill::three_pc {

namespace {
Third part(i64 lo, i64 hi, int me, int D) {
  Third p;
  p.lo = lo;
  p.hi = hi;
  p.rel = ((me - D - 1) % 3 + 3) % 3;
  p.h = role_at(D);
  p.a = role_at(D + 1);
  p.b = role_at(D + 2);
  return p;
}
}  // namespace

std::vector<Third> thirds(i64 n, int me) {
  auto cut = [n](int j) { return j * n / 3; };
  std::vector<Third> parts;
  for (int D = 0; D < 3; ++D)
    if (cut(D + 1) > cut(D)) parts.push_back(part(cut(D), cut(D + 1), me, D));
  return parts;
}

std::vector<Third> whole(i64 n, int me, int dealer) {
  if (n == 0) return {};
  return {part(0, n, me, dealer)};
}

RingTensor part_of(const RingTensor& t, i64 lo, i64 hi) {
  count_work(WorkKind::ring_copy, hi - lo);
  if (t.is_phantom()) return RingTensor::phantom({hi - lo});
  return RingTensor({hi - lo}, std::vector<u64>(t.data() + lo, t.data() + hi));
}

RingTensor join_parts(const std::vector<RingTensor>& parts, const Shape& shape, bool phantom) {
  count_work(WorkKind::ring_copy, shape_numel(shape));
  if (phantom) return RingTensor::phantom(shape);
  std::vector<u64> v;
  v.reserve(static_cast<size_t>(shape_numel(shape)));
  for (const RingTensor& p : parts) v.insert(v.end(), p.data(), p.data() + p.numel());
  return RingTensor(shape, std::move(v));
}

}  // namespace marill::three_pc
