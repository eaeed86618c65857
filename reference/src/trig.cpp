// Certified elementary functions (trig.h): Ball arithmetic, pi, ln 2, exp, log, pow, sin, cos.
//
// Every bound below follows from the arithmetic model of trig.h (each Real<P> operation has a
// relative error of at most u = 2^(1-P)) and one summation lemma:
//
//   Lemma S (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., Lemma 3.1 and
//   eq. (4.4)). If terms a_0..a_N are computed as a~_k = a_k (1 + t_k) with |t_k| <= g(m_k),
//   g(m) = m u / (1 - m u), m_k <= M, and summed left to right with any signs s_k, then the
//   computed sum differs from sum s_k a_k by at most g(M + N) sum |a_k|.
//
// Here M + N < 2^13 and u <= 2^-191, so g(M + N) <= 2 (M + N) u (written gamma() below).
// A term computed by a recurrence a_k = a_{k-1} * c (or / n) with one rounding per step has
// m_k = (number of rounded operations that produced it); the recurrence input (a reduced
// argument, say) is treated as exact and its own error is propagated separately through a
// Lipschitz bound of the function. Series stop when the last term falls below 2^-(P+10);
// the truncation bound is then stated per series.
#include "kc/ref/trig.h"

#include <limits>

namespace kc::ref::trig {
namespace mp = boost::multiprecision;
namespace {

// Radius inflation: a radius formula has at most 8 rounded operations, so its computed value
// is at least (1 + u)^-9 times the true bound; multiplying by 1 + 2^(8-P) = 1 + 128 u (itself
// rounded: >= (1 + 128 u)(1 - u)) restores it with room to spare.
template <unsigned P>
Real<P> inflate(const Real<P>& r) {
  static const Real<P> k = Real<P>(1) + mp::ldexp(Real<P>(1), 8 - static_cast<int>(P));
  return r * k;
}

template <unsigned P>
Real<P> infinity() {
  return std::numeric_limits<Real<P>>::infinity();
}

template <unsigned P>
Ball<P> no_information(const Real<P>& mid) {
  return {mid, infinity<P>()};
}

template <unsigned P>
bool finite_radii(const Ball<P>& a, const Ball<P>& b) {
  return mp::isfinite(a.rad) && mp::isfinite(b.rad) && mp::isfinite(a.mid) && mp::isfinite(b.mid);
}

// g(m) <= 2 m u (valid for m u <= 1/2; here m u < 2^-170).
template <unsigned P>
Real<P> gamma(long m) {
  return Real<P>(2 * m) * unit_roundoff<P>();
}

// 2 atanh(1/k) summed as sum_n 2 / ((2n+1) k^(2n+1)) (ln 2 = 2 atanh(1/3)), or the alternating
// atan(1/k) = sum_n (-1)^n / ((2n+1) k^(2n+1)) (Machin's formula for pi). Returns the sum of
// the series without the factor 2 and sets *err to a bound on its error.
//  - p_0 = fl(1/k), p_n = fl(p_{n-1} / k^2) (k^2 exact): p_n carries n + 1 roundings; the term
//    fl(p_n / (2n+1)) one more: M = N + 2, and the N additions: g(2N + 2) sum |a_n|.
//  - sum |a_n| <= (1/k) / (1 - 1/k^2) <= 3/8 for k >= 3.
//  - Truncation: the omitted terms are below sum_{n>N} k^-(2n+1) <= (p_N / k^2) (1 + g) / (1 -
//  1/k^2)
//    <= p~_N / 7 for k >= 3 (atanh: all terms positive; atan: alternating, smaller still).
template <unsigned P>
Real<P> inverse_series(long k, bool alternating, Real<P>* err) {
  const Real<P> limit = mp::ldexp(Real<P>(1), -static_cast<int>(P) - 10);
  const long k2 = k * k;
  Real<P> p = Real<P>(1) / k;
  Real<P> sum = p;
  long n = 0;
  while (p > limit) {
    ++n;
    p /= k2;
    const Real<P> term = p / (2 * n + 1);
    if (alternating && (n & 1)) {
      sum -= term;
    } else {
      sum += term;
    }
  }
  *err = gamma<P>(2 * n + 2) * Real<P>(0.375) + p / 7;
  return sum;
}

template <unsigned P>
Ball<P> compute_ln2() {
  Real<P> err;
  const Real<P> s = inverse_series<P>(3, false, &err);
  return {2 * s, inflate<P>(2 * err)};  // ln 2 = 2 atanh(1/3); doubling is exact
}

template <unsigned P>
Ball<P> compute_pi() {
  // Machin: pi = 16 atan(1/5) - 4 atan(1/239); the scalings are exact, the subtraction is a
  // Ball operation.
  Real<P> e5, e239;
  const Real<P> a5 = inverse_series<P>(5, true, &e5);
  const Real<P> a239 = inverse_series<P>(239, true, &e239);
  return sub<P>(scale2<P>(Ball<P>{a5, inflate<P>(e5)}, 4),
                scale2<P>(Ball<P>{a239, inflate<P>(e239)}, 2));
}

}  // namespace

template <unsigned P>
Real<P> unit_roundoff() {
  static const Real<P> u = mp::ldexp(Real<P>(1), 1 - static_cast<int>(P));
  return u;
}

template <unsigned P>
Ball<P> exact_ball(const Real<P>& v) {
  return {v, Real<P>(0)};
}

template <unsigned P>
Ball<P> rounded_ball(const Real<P>& v) {
  return {v, inflate<P>(mp::abs(v) * unit_roundoff<P>())};
}

// a + b: |(x + y) - m| <= |x - a.mid| + |y - b.mid| + |a.mid + b.mid - m| <= a.rad + b.rad + u|m|.
template <unsigned P>
Ball<P> add(const Ball<P>& a, const Ball<P>& b) {
  const Real<P> m = a.mid + b.mid;
  if (!finite_radii(a, b)) return no_information<P>(m);
  return {m, inflate<P>(a.rad + b.rad + mp::abs(m) * unit_roundoff<P>())};
}

template <unsigned P>
Ball<P> sub(const Ball<P>& a, const Ball<P>& b) {
  return add<P>(a, neg<P>(b));
}

// a * b: xy - a.mid b.mid = (x - a.mid) y + a.mid (y - b.mid), so the error is at most
// a.rad (|b.mid| + b.rad) + |a.mid| b.rad, plus u|m| for the rounding of m.
template <unsigned P>
Ball<P> mul(const Ball<P>& a, const Ball<P>& b) {
  const Real<P> m = a.mid * b.mid;
  if (!finite_radii(a, b)) return no_information<P>(m);
  Real<P> r = mp::abs(m) * unit_roundoff<P>();
  if (a.rad != 0) r += a.rad * (mp::abs(b.mid) + b.rad);
  if (b.rad != 0) r += mp::abs(a.mid) * b.rad;
  return {m, inflate<P>(r)};
}

// a / b with |b.mid| > b.rad: x/y - a.mid/b.mid = ((x - a.mid) b.mid - a.mid (y - b.mid)) /
// (y b.mid), so the error is at most (a.rad + |a.mid / b.mid| b.rad) / (|b.mid| - b.rad); the
// computed |m| stands for |a.mid / b.mid| (relative difference u, inside the inflation), plus
// u|m| for the rounding of m.
template <unsigned P>
Ball<P> div(const Ball<P>& a, const Ball<P>& b) {
  const Real<P> m = a.mid / b.mid;
  if (!finite_radii(a, b) || !(mp::abs(b.mid) > b.rad)) return no_information<P>(m);
  Real<P> r = mp::abs(m) * unit_roundoff<P>();
  if (a.rad != 0 || b.rad != 0) r += (a.rad + mp::abs(m) * b.rad) / (mp::abs(b.mid) - b.rad);
  return {m, inflate<P>(r)};
}

// sqrt(a) with a.mid >= a.rad: |sqrt(x) - sqrt(a.mid)| = |x - a.mid| / (sqrt(x) + sqrt(a.mid))
// <= a.rad / sqrt(a.mid), and sqrt(a.mid) >= m (1 - u) (m stands for it inside the inflation),
// plus u m for the rounding of m. a.mid = 0 forces a.rad = 0: the exact zero.
template <unsigned P>
Ball<P> sqrt(const Ball<P>& a) {
  if (!mp::isfinite(a.rad) || !mp::isfinite(a.mid) || !(a.mid >= a.rad)) {
    return no_information<P>(Real<P>(0));
  }
  if (a.mid == 0) return {Real<P>(0), Real<P>(0)};
  const Real<P> m = mp::sqrt(a.mid);
  Real<P> r = m * unit_roundoff<P>();
  if (a.rad != 0) r += a.rad / m;
  return {m, inflate<P>(r)};
}

template <unsigned P>
Ball<P> neg(const Ball<P>& a) {
  return {-a.mid, a.rad};
}

template <unsigned P>
Ball<P> scale2(const Ball<P>& a, int e) {
  return {mp::ldexp(a.mid, e), mp::ldexp(a.rad, e)};
}

template <unsigned P>
bool sign_known(const Ball<P>& a, int* sign) {
  if (!mp::isfinite(a.rad) || !mp::isfinite(a.mid)) return false;
  if (a.mid > a.rad) {
    *sign = 1;
    return true;
  }
  if (-a.mid > a.rad) {
    *sign = -1;
    return true;
  }
  return false;
}

template <unsigned P>
const Ball<P>& pi() {
  static const Ball<P> v = compute_pi<P>();
  return v;
}

template <unsigned P>
const Ball<P>& ln2() {
  static const Ball<P> v = compute_ln2<P>();
  return v;
}

// exp(x) = 2^k exp(r), r = x - k ln2, |r| <= ln2/2 + tiny; exp(r) = exp(r 2^-8)^(2^8).
//  - Reduction: r~ = fl(x.mid - fl(k L)) with L the ln 2 ball; its distance to the true
//    x - k ln 2 is d_r <= x.rad + |k| L.rad + u |fl(k L)| + u |r~|.
//  - Series of rho = r~ 2^-8 (exact scaling, |rho| <= 0.0014): t_0 = 1, t_n = fl(fl(t_{n-1} rho)
//    / n): M = 2N, and Lemma S over N additions gives g(3N) e^|rho| <= 7 N u. Truncation:
//    sum_{n>N} |rho|^n / n! <= |t_N| |rho| / (N + 1) / (1 - |rho|) <= 2 |t~_N| |rho|.
//    E >= e^-0.0014 > 0.99, so the relative error of E is eps <= 1.02 (7 N u + 2 |t~_N| |rho|).
//  - Eight rounded squarings: F = exp(r~) (1 + eta), |eta| <= (1 + eps)^256 (1 + u)^255 - 1
//    <= 260 (eps + u) (256 (eps + u) < 2^-100).
//  - exp(x) = F 2^k e^D / (1 + eta) with |D| <= d_r; for d_r <= 2^-10 the relative distance to
//    mid = F 2^k is at most (e^d_r - 1 + |eta|) / (1 - |eta|) <= 1.01 (d_r + |eta|).
template <unsigned P>
Ball<P> exp(const Ball<P>& x) {
  if (!mp::isfinite(x.rad) || !mp::isfinite(x.mid) || !(mp::abs(x.mid) < Real<P>(1 << 20))) {
    return no_information<P>(Real<P>(0));
  }
  const Real<P> u = unit_roundoff<P>();
  const Ball<P>& L = ln2<P>();
  const Real<P> k = mp::floor(x.mid / L.mid + Real<P>(0.5));
  const Real<P> kl = k * L.mid;
  const Real<P> r = x.mid - kl;
  const Real<P> d_r = x.rad + mp::abs(k) * L.rad + u * mp::abs(kl) + u * mp::abs(r);
  if (!(d_r <= mp::ldexp(Real<P>(1), -10))) return no_information<P>(Real<P>(0));
  const Real<P> rho = mp::ldexp(r, -8);
  const Real<P> limit = mp::ldexp(Real<P>(1), -static_cast<int>(P) - 10);
  Real<P> t = 1;
  Real<P> e = 1;
  long n = 0;
  while (mp::abs(t) > limit) {
    ++n;
    t = t * rho / n;
    e += t;
  }
  const Real<P> eps = Real<P>(1.02) * (Real<P>(7 * n) * u + 2 * mp::abs(t) * mp::abs(rho));
  for (int i = 0; i < 8; ++i) e *= e;
  const Real<P> eta = 260 * (eps + u);
  const Real<P> mid = mp::ldexp(e, k.template convert_to<int>());
  return {mid, inflate<P>(Real<P>(1.01) * (d_r + eta) * mid)};
}

// log(x) = e ln2 + 2 atanh(t), x.mid = m 2^e with m in [0.7071, 1.4143), t = (m-1)/(m+1),
// |t| <= 0.1716.
//  - m - 1 is exact (Sterbenz: m and 1 within a factor 2); t~ = fl((m-1) / fl(m+1)) has
//    |t~ - t| <= g(2) |t| <= 4.01 u |t~|, and atanh' = 1/(1-t^2) <= 1.03 on that range, so the
//    doubled series moves by at most 2 * 1.03 * 4.01 u |t~| <= 9 u |t~|.
//  - Series: q = fl(t~^2), p_0 = t~, p_n = fl(p_{n-1} q) (p_n carries 2n roundings: n products
//    and the n-fold q), term fl(p_n / (2n+1)): M = 2N + 1, Lemma S over N additions:
//    g(3N + 1) * |t|/(1 - t^2) <= 2 (3N + 1) u * 0.18 <= (2N + 1) u.
//  - Truncation: sum_{n>N} |t|^(2n+1) / (2n+1) <= |t|^(2N+3) / (1 - t^2) <= 1.1 |p~_N| q~.
//  - The input radius moves log by at most x.rad / (x.mid - x.rad).
template <unsigned P>
Ball<P> log(const Ball<P>& x) {
  if (!mp::isfinite(x.rad) || !mp::isfinite(x.mid) || !(x.mid > x.rad)) {
    return no_information<P>(Real<P>(0));
  }
  const Real<P> u = unit_roundoff<P>();
  int e = 0;
  Real<P> m = mp::frexp(x.mid, &e);  // x.mid = m 2^e, m in [1/2, 1)
  if (m < Real<P>(0.7071)) {
    m = mp::ldexp(m, 1);
    --e;
  }
  const Real<P> t = (m - 1) / (m + 1);
  const Real<P> q = t * t;
  const Real<P> limit = mp::ldexp(Real<P>(1), -static_cast<int>(P) - 10);
  Real<P> p = t;
  Real<P> sum = t;
  long n = 0;
  while (mp::abs(p) > limit) {
    ++n;
    p *= q;
    sum += p / (2 * n + 1);
  }
  const Real<P> series_err =
      Real<P>(2 * n + 1) * u + Real<P>(1.1) * mp::abs(p) * q;  // rounding + truncation
  const Real<P> err = 2 * series_err + 9 * u * mp::abs(t) +
                      (x.rad != 0 ? Real<P>(x.rad / (x.mid - x.rad)) : Real<P>(0));
  const Ball<P> atanh2{2 * sum, inflate<P>(err)};
  return add<P>(mul<P>(exact_ball<P>(Real<P>(e)), ln2<P>()), atanh2);
}

template <unsigned P>
Ball<P> pow(const Ball<P>& b, const Ball<P>& y) {
  return exp<P>(mul<P>(y, log<P>(b)));
}

// sin and cos: r = x - k pi/2 with k the integer nearest x / (pi/2), quadrant k mod 4.
//  - Reduction: r~ = fl(x.mid - fl(k H)) with H the pi/2 ball: distance to the true
//    x - k pi/2 is d_r <= x.rad + |k| H.rad + u |fl(k H)| + u |r~|. The middle terms grow
//    with |x| (|k| H.rad ~ |x| 2^(1-P), u |k H| ~ |x| 2^(1-P)): the log2|x| bits lost.
//  - Series of r~ (|r~| <= pi/4 + tiny < 0.8): t_0 = 1, t_n = fl(fl(t_{n-1} r~) / n) (2n
//    roundings); cos takes the even terms, sin the odd ones, with alternating signs. Lemma S
//    over at most N/2 + 1 additions: g(2.5 N + 1) e^0.8 <= (12 N + 5) u. Truncation (Lagrange,
//    every derivative bounded by 1): |r~|^(N+1) / (N+1)! <= |t_N| |r~| / (N+1) <= |t~_N|.
//  - sin and cos are 1-Lipschitz: both results also carry d_r.
template <unsigned P>
void sin_cos(const Ball<P>& x, Ball<P>* sin_x, Ball<P>* cos_x) {
  const Real<P> limit_x = mp::ldexp(Real<P>(1), static_cast<int>(P) - 40);
  if (!mp::isfinite(x.rad) || !mp::isfinite(x.mid) || !(mp::abs(x.mid) < limit_x)) {
    *sin_x = no_information<P>(Real<P>(0));
    *cos_x = no_information<P>(Real<P>(0));
    return;
  }
  const Real<P> u = unit_roundoff<P>();
  const Ball<P> h = scale2<P>(pi<P>(), -1);
  const Real<P> k = mp::floor(x.mid / h.mid + Real<P>(0.5));  // an exact integer, |k| < 2^(P-39)
  const Real<P> kh = k * h.mid;
  const Real<P> r = x.mid - kh;
  const Real<P> d_r = x.rad + mp::abs(k) * h.rad + u * mp::abs(kh) + u * mp::abs(r);
  const int quadrant = (k - 4 * mp::floor(mp::ldexp(k, -2))).template convert_to<int>();
  if (!(mp::abs(r) < Real<P>(0.8))) {  // cannot happen for a correctly rounded quotient
    *sin_x = no_information<P>(Real<P>(0));
    *cos_x = no_information<P>(Real<P>(0));
    return;
  }
  const Real<P> limit = mp::ldexp(Real<P>(1), -static_cast<int>(P) - 10);
  Real<P> t = 1;
  Real<P> c = 1;
  Real<P> s = 0;
  long n = 0;
  while (n == 0 || mp::abs(t) > limit) {
    ++n;
    t = t * r / n;
    switch (n & 3) {
      case 0:
        c += t;
        break;
      case 1:
        s += t;
        break;
      case 2:
        c -= t;
        break;
      default:
        s -= t;
        break;
    }
  }
  const Real<P> rad = inflate<P>(Real<P>(12 * n + 5) * u + mp::abs(t) + d_r);
  const Ball<P> sb{s, rad};
  const Ball<P> cb{c, rad};
  switch (quadrant) {
    case 0:
      *sin_x = sb;
      *cos_x = cb;
      break;
    case 1:  // sin(r + pi/2) = cos r, cos(r + pi/2) = -sin r
      *sin_x = cb;
      *cos_x = neg<P>(sb);
      break;
    case 2:
      *sin_x = neg<P>(sb);
      *cos_x = neg<P>(cb);
      break;
    default:
      *sin_x = neg<P>(cb);
      *cos_x = sb;
      break;
  }
}

#define KC_TRIG_INSTANTIATE(P)                             \
  template Real<P> unit_roundoff<P>();                     \
  template Ball<P> exact_ball<P>(const Real<P>&);          \
  template Ball<P> rounded_ball<P>(const Real<P>&);        \
  template Ball<P> add<P>(const Ball<P>&, const Ball<P>&); \
  template Ball<P> sub<P>(const Ball<P>&, const Ball<P>&); \
  template Ball<P> mul<P>(const Ball<P>&, const Ball<P>&); \
  template Ball<P> div<P>(const Ball<P>&, const Ball<P>&); \
  template Ball<P> sqrt<P>(const Ball<P>&);                \
  template Ball<P> neg<P>(const Ball<P>&);                 \
  template Ball<P> scale2<P>(const Ball<P>&, int);         \
  template bool sign_known<P>(const Ball<P>&, int*);       \
  template const Ball<P>& pi<P>();                         \
  template const Ball<P>& ln2<P>();                        \
  template Ball<P> exp<P>(const Ball<P>&);                 \
  template Ball<P> log<P>(const Ball<P>&);                 \
  template Ball<P> pow<P>(const Ball<P>&, const Ball<P>&); \
  template void sin_cos<P>(const Ball<P>&, Ball<P>*, Ball<P>*);

KC_TRIG_INSTANTIATE(192)
KC_TRIG_INSTANTIATE(384)
KC_TRIG_INSTANTIATE(1024)

#undef KC_TRIG_INSTANTIATE

}  // namespace kc::ref::trig
