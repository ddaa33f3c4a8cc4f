// Weights for a secure block when no trained package is at hand (benchmarks, sweeps, tests): random
// values of the right shapes, or shapes alone for phantom runs. The costs of a secure program do not
// depend on the weights' values.
#pragma once

#include <cstdint>

#include "models/secure/secure_transformer.h"

namespace marill {

// Uniform weights (base weights scaled by 1/sqrt(in), LoRA factors by 0.1), deterministic in seed.
// lora > 0: every linear is a public base weight plus a rank-`lora` adapter; else secret weights.
FloatBlock random_block(const BlockShape& s, i64 lora, std::uint32_t seed = 7);

// The same structure as random_block(s, lora) with every value vector empty (FloatBlock::shape_only):
// what a phantom run needs, in memory that does not grow with the weights.
FloatBlock shape_only_block(const BlockShape& s, i64 lora);

}  // namespace marill
