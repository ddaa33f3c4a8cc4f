// K-medoids + linear sum assignment for similarity-based head merging. Torch-free.
#include "models/train/grouping.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace marill::grouping {

double js_distance(const std::vector<double>& p, const std::vector<double>& q) {
  if (p.size() != q.size()) throw std::invalid_argument("js_distance: distributions differ in length");
  double js = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) js += 0.5 * p[i] * std::log(p[i] / m);
    if (q[i] > 0) js += 0.5 * q[i] * std::log(q[i] / m);
  }
  return std::sqrt(std::max(0.0, js));
}

namespace {

void check_square(const Matrix& d, const char* who) {
  for (const auto& r : d)
    if (r.size() != d.size()) throw std::invalid_argument(std::string(who) + ": matrix is not square");
}

// splitmix64: a tie-breaking order from the seed (not a security use)
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double pam_cost(const Matrix& d, const std::vector<int>& med) {
  double c = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (int m : med) best = std::min(best, d[i][static_cast<size_t>(m)]);
    c += best;
  }
  return c;
}

}  // namespace

std::vector<int> kmedoids(const Matrix& d, int k, std::uint64_t seed) {
  check_square(d, "kmedoids");
  const int n = static_cast<int>(d.size());
  if (k < 1 || k > n) throw std::invalid_argument("kmedoids: k must be in [1, n]");
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const auto ha = mix(seed ^ static_cast<std::uint64_t>(a)), hb = mix(seed ^ static_cast<std::uint64_t>(b));
    return ha != hb ? ha < hb : a < b;
  });
  // BUILD: greedily add the medoid that lowers the cost most
  std::vector<int> med;
  while (static_cast<int>(med.size()) < k) {
    int best = -1;
    double best_cost = std::numeric_limits<double>::infinity();
    for (int c : order) {
      if (std::find(med.begin(), med.end(), c) != med.end()) continue;
      med.push_back(c);
      const double cost = pam_cost(d, med);
      med.pop_back();
      if (cost < best_cost - 1e-12) {
        best_cost = cost;
        best = c;
      }
    }
    med.push_back(best);
  }
  // SWAP: best improving (medoid, non-medoid) exchange until none improves
  double cur = pam_cost(d, med);
  for (int iter = 0; iter < 100; ++iter) {
    double best_cost = cur;
    int bi = -1, bc = -1;
    for (int i = 0; i < k; ++i)
      for (int c : order) {
        if (std::find(med.begin(), med.end(), c) != med.end()) continue;
        std::vector<int> t = med;
        t[static_cast<size_t>(i)] = c;
        const double cost = pam_cost(d, t);
        if (cost < best_cost - 1e-12) {
          best_cost = cost;
          bi = i;
          bc = c;
        }
      }
    if (bi < 0) break;
    med[static_cast<size_t>(bi)] = bc;
    cur = best_cost;
  }
  std::sort(med.begin(), med.end());
  return med;
}

std::vector<int> linear_sum_assignment(const Matrix& cost) {
  check_square(cost, "linear_sum_assignment");
  const int n = static_cast<int>(cost.size());
  // Hungarian algorithm with potentials, O(n^3); 1-based internally
  const double INF = std::numeric_limits<double>::infinity();
  std::vector<double> u(static_cast<size_t>(n) + 1, 0), v(static_cast<size_t>(n) + 1, 0);
  std::vector<int> p(static_cast<size_t>(n) + 1, 0), way(static_cast<size_t>(n) + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(static_cast<size_t>(n) + 1, INF);
    std::vector<bool> used(static_cast<size_t>(n) + 1, false);
    do {
      used[static_cast<size_t>(j0)] = true;
      const int i0 = p[static_cast<size_t>(j0)];
      double delta = INF;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[static_cast<size_t>(j)]) continue;
        const double c = cost[static_cast<size_t>(i0 - 1)][static_cast<size_t>(j - 1)] - u[static_cast<size_t>(i0)] - v[static_cast<size_t>(j)];
        if (c < minv[static_cast<size_t>(j)]) {
          minv[static_cast<size_t>(j)] = c;
          way[static_cast<size_t>(j)] = j0;
        }
        if (minv[static_cast<size_t>(j)] < delta) {
          delta = minv[static_cast<size_t>(j)];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        if (used[static_cast<size_t>(j)]) {
          u[static_cast<size_t>(p[static_cast<size_t>(j)])] += delta;
          v[static_cast<size_t>(j)] -= delta;
        } else {
          minv[static_cast<size_t>(j)] -= delta;
        }
      }
      j0 = j1;
    } while (p[static_cast<size_t>(j0)] != 0);
    do {
      const int j1 = way[static_cast<size_t>(j0)];
      p[static_cast<size_t>(j0)] = p[static_cast<size_t>(j1)];
      j0 = j1;
    } while (j0);
  }
  std::vector<int> res(static_cast<size_t>(n), -1);
  for (int j = 1; j <= n; ++j) res[static_cast<size_t>(p[static_cast<size_t>(j)] - 1)] = j - 1;
  return res;
}

namespace {
std::vector<std::vector<int>> canonical(std::vector<std::vector<int>> g) {
  for (auto& x : g) std::sort(x.begin(), x.end());
  std::sort(g.begin(), g.end());
  return g;
}
}  // namespace

std::vector<std::vector<int>> adjacent_groups(int h, int m) {
  if (m < 1 || h % m) throw std::invalid_argument("adjacent_groups: " + std::to_string(h) + " heads are not divisible by m=" + std::to_string(m));
  std::vector<std::vector<int>> g(static_cast<size_t>(h / m));
  for (int i = 0; i < h; ++i) g[static_cast<size_t>(i / m)].push_back(i);
  return g;
}

std::vector<std::vector<int>> similar_groups(const Matrix& dist, int m, std::uint64_t seed) {
  check_square(dist, "similar_groups");
  const int h = static_cast<int>(dist.size());
  if (m < 1 || h % m) throw std::invalid_argument("similar_groups: " + std::to_string(h) + " heads are not divisible by m=" + std::to_string(m));
  const int k = h / m;
  const std::vector<int> med = kmedoids(dist, k, seed);
  // columns: m slots per medoid; cost = distance of the head to that medoid
  Matrix cost(static_cast<size_t>(h), std::vector<double>(static_cast<size_t>(h)));
  for (int i = 0; i < h; ++i)
    for (int c = 0; c < h; ++c) cost[static_cast<size_t>(i)][static_cast<size_t>(c)] = dist[static_cast<size_t>(i)][static_cast<size_t>(med[static_cast<size_t>(c / m)])];
  const std::vector<int> a = linear_sum_assignment(cost);
  std::vector<std::vector<int>> g(static_cast<size_t>(k));
  for (int i = 0; i < h; ++i) g[static_cast<size_t>(a[static_cast<size_t>(i)] / m)].push_back(i);
  return canonical(g);
}

std::vector<int> groups_to_perm(const std::vector<std::vector<int>>& groups) {
  std::vector<int> p;
  for (const auto& g : groups) p.insert(p.end(), g.begin(), g.end());
  return p;
}

}  // namespace marill::grouping
