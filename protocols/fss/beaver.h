// Beaver products (Beaver, CRYPTO 1991) for two parties with a dealer: element-wise triples, square
// pairs, matrix triples, and the mask of a prepared weight. Each material is defined once for both
// sides of the dealing (dealing.h). Online, the parties open e = x - a (and f = y - b) and each
// computes its share of the product locally with the *_share functions below; `first` marks the one
// party (the client) that adds the public term e·f.
#pragma once

#include "protocols/fss/dealing.h"

namespace marill {

// Element-wise: c = a ⊙ b. Dealer bytes: one party's share of c (8 B per element).
struct MulTriple {
  RingTensor a, b, c;
};
MulTriple deal_mul_triple(Dealing& d, const Shape& shape);
RingTensor mul_share(const MulTriple& t, const RingTensor& e, const RingTensor& f, bool first);

// Squares: c = a ⊙ a; only e = x - a is opened. Dealer bytes: 8 B per element.
struct SquarePair {
  RingTensor a, c;
};
SquarePair deal_square_pair(Dealing& d, const Shape& shape);
RingTensor square_share(const SquarePair& p, const RingTensor& e, bool first);

// A secret weight prepared for repeated use as a right operand: the parties open F = W - B once at
// set-up; later products with it open only their left operand. No dealer bytes (B is PRG-derived).
struct WeightMask {
  RingTensor b;
};
WeightMask deal_weight_mask(Dealing& d, const Shape& shape);

// A shared matrix that grows by rows (a KV cache, (.., S, n)), prepared as a right operand the way a
// weight is: each appended block of rows gets a mask of its own, drawn when the rows are appended, and
// its E = rows - B is opened once (with the next product's opening); every product with the matrix
// then opens only its left operand, with a fresh triple mask A and C = A·B (or A·Bᵀ) for the rows so
// far. No dealer bytes for B (PRG-derived); the product's C grows with S.
struct RowsMask {
  RingTensor b;  // (.., S, n); undefined before the first rows
  RingTensor append(Dealing& d, const Shape& rows);  // draws the new rows' mask (returned) and keeps it
  // The mask of the product's right operand: b, or b transposed (.., n, S) for x·Yᵀ.
  WeightMask operand(bool transposed) const;
};

// Matrix products x (..,m,k) · y (..,k,n) as ring.h matmul: C = A·B. With a prepared right operand
// B is its weight mask (`weight`), not drawn here. Dealer bytes: one party's share of C.
struct MatmulTriple {
  RingTensor a, b, c;  // b: empty when the right operand is prepared
};
// With `nonzero`, A is zero outside those positions of x (flattened; every side zeroes its mask or
// share there, a public choice): a left operand known to be zero there needs no opening there.
MatmulTriple deal_matmul_triple(Dealing& d, const Shape& x, const Shape& y, const WeightMask* weight,
                                const std::vector<i64>* nonzero = nullptr);
// x (n) times a per-row value y (R): row r holds lengths[r] consecutive elements of x (a softmax's
// or a norm's normalisation; causal rows are ragged). Masks a for x and b for y, c = a ⊙ b repeated
// per row. Opening x - a and y - b costs n + R words where repeating y first would cost 2n. Dealer
// bytes: one party's share of c.
struct RowsTriple {
  RingTensor a, b, c;
};
RowsTriple deal_rows_triple(Dealing& d, const RowLengths& lengths);
// Z = c + e ⊙ b + a ⊙ f (+ e ⊙ f on the first party), b and f repeated per row.
RingTensor rows_share(const RowsTriple& t, const RingTensor& e, const RingTensor& f, const RowLengths& lengths, bool first);

// One left operand x read by several prepared right operands (a linear's Q, K and V; gate and up):
// one mask A for x, C_i = A·B_i for each weight mask B_i. x is then opened once (E = X - A) for all
// the products; the openings seen are those of one product. Dealer bytes: one party's share of
// every C_i.
struct OneLeftTriples {
  RingTensor a;
  std::vector<RingTensor> c;
};
OneLeftTriples deal_matmul_triples_one_left(Dealing& d, const Shape& x, const std::vector<const WeightMask*>& weights);
// Z = C + E·B + A·F (+ E·F on the first party), with E = X - A and F = Y - B opened.
RingTensor matmul_share(const RingTensor& a, const RingTensor& b, const RingTensor& c, const RingTensor& e,
                        const RingTensor& f, bool first);

// Output shape of a (..,m,k) x (..,k,n) product (ring.h matmul's rules).
Shape matmul_shape(const Shape& x, const Shape& y);

}  // namespace marill
