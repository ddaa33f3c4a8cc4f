#include "protocols/fss/beaver.h"

namespace marill {

MulTriple deal_mul_triple(Dealing& d, const Shape& shape) {
  MulTriple t;
  t.a = d.mask(shape);
  t.b = d.mask(shape);
  t.c = d.derived(shape, [&] { return mul_elem(t.a, t.b); });
  return t;
}

RingTensor mul_share(const MulTriple& t, const RingTensor& e, const RingTensor& f, bool first) {
  RingTensor z = add(t.c, add(mul_elem(e, t.b), mul_elem(f, t.a)));
  if (first) add_inplace(z, mul_elem(e, f));
  return z;
}

SquarePair deal_square_pair(Dealing& d, const Shape& shape) {
  SquarePair p;
  p.a = d.mask(shape);
  p.c = d.derived(shape, [&] { return mul_elem(p.a, p.a); });
  return p;
}

RingTensor square_share(const SquarePair& p, const RingTensor& e, bool first) {
  // x^2 = (e + a)^2 = e^2 + 2 e a + a^2.
  RingTensor z = add(p.c, scale(mul_elem(e, p.a), 2));
  if (first) add_inplace(z, mul_elem(e, e));
  return z;
}

WeightMask deal_weight_mask(Dealing& d, const Shape& shape) { return WeightMask{d.mask(shape)}; }

RingTensor RowsMask::append(Dealing& d, const Shape& rows) {
  RingTensor fresh = d.mask(rows);
  b = b.defined() ? concat({b, fresh}, static_cast<int>(rows.size()) - 2) : fresh;
  return fresh;
}

WeightMask RowsMask::operand(bool transposed) const { return WeightMask{transposed ? transpose_last2(b) : b}; }

Shape matmul_shape(const Shape& x, const Shape& y) {
  return matmul(RingTensor::phantom(x), RingTensor::phantom(y)).shape();
}

MatmulTriple deal_matmul_triple(Dealing& d, const Shape& x, const Shape& y, const WeightMask* weight,
                                const std::vector<i64>* nonzero) {
  MatmulTriple t;
  t.a = d.mask(x);
  if (nonzero && !t.a.is_phantom()) t.a = scatter_flat(gather_flat(t.a, *nonzero, {static_cast<i64>(nonzero->size())}), *nonzero, x);
  if (!weight) t.b = d.mask(y);
  const RingTensor& b = weight ? weight->b : t.b;
  t.c = d.derived(matmul_shape(x, y), [&] { return matmul(t.a, b); });
  return t;
}

RowsTriple deal_rows_triple(Dealing& d, const RowLengths& lengths) {
  RowsTriple t;
  lengths.check("rows triple");
  const Shape x{lengths.total()};
  t.a = d.mask(x);
  t.b = d.mask({lengths.rows});
  t.c = d.derived(x, [&] { return mul_elem(t.a, repeat_rows(t.b, lengths)); });
  return t;
}

RingTensor rows_share(const RowsTriple& t, const RingTensor& e, const RingTensor& f, const RowLengths& lengths, bool first) {
  const RingTensor fr = repeat_rows(f, lengths);
  RingTensor z = add(t.c, add(mul_elem(e, repeat_rows(t.b, lengths)), mul_elem(t.a, fr)));
  if (first) add_inplace(z, mul_elem(e, fr));
  return z;
}

OneLeftTriples deal_matmul_triples_one_left(Dealing& d, const Shape& x, const std::vector<const WeightMask*>& weights) {
  OneLeftTriples t;
  t.a = d.mask(x);
  for (const WeightMask* w : weights) t.c.push_back(d.derived(matmul_shape(x, w->b.shape()), [&] { return matmul(t.a, w->b); }));
  return t;
}

RingTensor matmul_share(const RingTensor& a, const RingTensor& b, const RingTensor& c, const RingTensor& e,
                        const RingTensor& f, bool first) {
  RingTensor z = add(c, add(matmul(e, b), matmul(a, f)));
  if (first) add_inplace(z, matmul(e, f));
  return z;
}

}  // namespace marill
