// A secure-inference package (models/package/package.h) as the secure transformer reads it: each private
// layer becomes a FloatBlock (models/secure/secure_transformer.h). Torch-free.
//
// Orientation: packages store W as [out, in] (torch/HF, y = x·Wᵀ); FloatLinear wants (in, out).
// Heads in a package are already permuted into their merge groups, so the block's grouping is the
// adjacent one; a head-pruned package holds only its kept heads (pkg::MarillConfig::kept_heads).
// With LoRA the base weights are the public base's (x·W is free in MPC) and only A, B are
// private; B is scaled by alpha/r here, as LibTorch's LoraLinear does at run time.
#pragma once

#include <cstddef>

#include "models/package/package.h"
#include "models/secure/secure_transformer.h"

namespace marill::ml {

// Private layer `i` (0 = the lowest private layer). Head-pruned packages give a block of the kept
// heads (BlockShape::attn_width < d). Throws std::invalid_argument naming the problem (i out of
// range, shapes that do not fit).
FloatBlock block_from_package(const pkg::Package& p, std::size_t i);

// The function policy the package's private layers must run under: `base` (a setting's
// default_policy, with a run's method overrides) with the approximations the model was trained
// with (softmax, act), which the secure block reads from Backend::policy().
FunctionPolicy package_policy(const pkg::Package& p, FunctionPolicy base);

}  // namespace marill::ml
