// Bit-matrix transpose for OT extension: the IKNP matrices are built as 128 columns of n bits and
// hashed as n rows of 128 bits. SSE2 kernel in the style of emp-ot's sse_trans (16×8 bit tiles:
// gather 16 bytes, peel 8 bit-planes with movemask), bits LSB-first within bytes.
#pragma once

#include <cstdint>

namespace marill {

// in: `rows` rows of `cols` bits (cols/8 bytes each); out: `cols` rows of `rows` bits.
// rows % 16 == 0 and cols % 8 == 0 (std::invalid_argument otherwise).
void transpose_bits(const std::uint8_t* in, std::uint8_t* out, std::uint64_t rows, std::uint64_t cols);

}  // namespace marill
