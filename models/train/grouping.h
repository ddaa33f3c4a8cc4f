// Head grouping for head merging (paper §5.3), torch-free:
//   adjacent: group j = heads j·m .. j·m+m-1
//   similar : pairwise Jensen–Shannon distances of the heads' attention maps (computed by the
//             caller), K-medoids (PAM: greedy BUILD + SWAP) into h/m clusters, then a linear sum
//             assignment (Hungarian algorithm) that moves heads into equal-size groups of m while
//             minimising the total distance to the groups' medoids (as Bian et al. 2021, MARILL).
#pragma once

#include <cstdint>
#include <vector>

namespace marill::grouping {

using Matrix = std::vector<std::vector<double>>;

// Jensen–Shannon distance sqrt(JS(p||q)) (natural log, in [0, sqrt(ln 2)]) between two distributions.
double js_distance(const std::vector<double>& p, const std::vector<double>& q);

// K-medoids (PAM). Ties are broken by an order derived from `seed`, so the result is deterministic
// for a seed. Returns k medoid indices.
std::vector<int> kmedoids(const Matrix& dist, int k, std::uint64_t seed);

// Minimum-cost perfect assignment of rows to columns of a square cost matrix; result[row] = column.
std::vector<int> linear_sum_assignment(const Matrix& cost);

// Groups of exactly m heads (h divisible by m), each sorted, groups ordered by their first head.
std::vector<std::vector<int>> adjacent_groups(int h, int m);
std::vector<std::vector<int>> similar_groups(const Matrix& dist, int m, std::uint64_t seed);
// the groups flattened: the head permutation stored in a package (group j = perm[j·m..j·m+m-1])
std::vector<int> groups_to_perm(const std::vector<std::vector<int>>& groups);

}  // namespace marill::grouping
