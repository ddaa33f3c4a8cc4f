#include "protocols/ring/fixed_point.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace marill {

u64 FixedPoint::encode(double x) const {
  if (!std::isfinite(x)) throw std::invalid_argument("fixed point: cannot encode a non-finite value");
  double scaled = std::nearbyint(std::ldexp(x, frac_bits));
  // 2^63 is the edge of the signed range; values beyond it are a caller's bug, not wrap-around.
  if (std::fabs(scaled) >= 9.2e18)
    throw std::invalid_argument("fixed point: value " + std::to_string(x) + " overflows 64-bit ring at " +
                                std::to_string(frac_bits) + " fractional bits");
  return static_cast<u64>(static_cast<i64>(scaled));
}

double FixedPoint::decode(u64 v) const { return std::ldexp(static_cast<double>(static_cast<i64>(v)), -frac_bits); }

RingTensor FixedPoint::encode(const std::vector<double>& xs, Shape shape) const {
  if (static_cast<i64>(xs.size()) != shape_numel(shape))
    throw std::invalid_argument("fixed point: " + std::to_string(xs.size()) + " values for shape " + shape_str(shape));
  RingTensor t(std::move(shape));
  for (size_t i = 0; i < xs.size(); ++i) t[static_cast<i64>(i)] = encode(xs[i]);
  return t;
}

RingTensor FixedPoint::encode(const std::vector<float>& xs, Shape shape) const {
  return encode(std::vector<double>(xs.begin(), xs.end()), std::move(shape));
}

std::vector<double> FixedPoint::decode(const RingTensor& t) const {
  if (t.is_phantom()) throw std::invalid_argument("fixed point: cannot decode a phantom tensor");
  std::vector<double> out(static_cast<size_t>(t.numel()));
  for (i64 i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = decode(t[i]);
  return out;
}

}  // namespace marill
