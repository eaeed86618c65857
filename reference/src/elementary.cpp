// Certified elementary functions (elementary.h): constants, exp, erfc and Ziv's rounding
// decision, each with its error derivation beside the code.
//
// Units: u = 2^(1-P) for Real<P> (one faithful rounding), w = 2^(1-W) = 2^-64 u for the guard
// precision W = P + 64 used by the constants. "kSO" below is kSecondOrder (elementary.h).
#include "kc/ref/elementary.h"

#include <cmath>
#include <limits>

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

template <unsigned P>
Approx<P> failed() {
  Approx<P> a;
  a.value = 0;
  a.err = kInf;
  return a;
}

template <unsigned P>
double to_double(const Real<P>& v) {
  return v.template convert_to<double>();
}

// The constants at level P, computed in Real<P + 64>.
template <unsigned P>
CertifiedConstants<P> make_constants() {
  constexpr unsigned W = P + 64;
  using Wide = Real<W>;
  CertifiedConstants<P> c;

  // ln 2 = 2 atanh(1/3) = 2 sum_{k>=0} p_k / (2k + 1), p_k = 3^-(2k+1).
  // Rounding: p_0 = 1/3 (one division), p_k = p_{k-1} / 9 (one more each): p_k carries (k + 1)
  // w; the term p_k / (2k + 1) carries (k + 2) w. Summing the N + 1 positive terms adds at most
  // one w per addition: the sum carries at most (N + 2) + N = 2N + 2 w (times kSO^(2N+2) <= 1.01
  // for N < 2^10).
  // Truncation: the tail sum_{k>N} p_k/(2k+1) <= p_{N+1} (1 + 1/9 + ...) = (9/8) 3^-(2N+3). N
  // is the least with (2N + 3) log2(3) >= W + 4, so the tail is <= (9/8) 2^-(W+4) < 2^-(W+3.8),
  // relative to the sum (ln 2 / 2 > 0.34) < 2^-(W+2.2) < 0.12 w.
  // So |L - ln 2| <= (1.01 (2N + 2) + 0.12) w ln 2 for L = 2 * sum (exact doubling).
  int n_ln2 = 0;
  while ((2.0 * n_ln2 + 3) * 1.5849625007211563 < W + 4) ++n_ln2;
  Wide p = Wide(1) / 3;
  Wide sum = p;
  for (int k = 1; k <= n_ln2; ++k) {
    p /= 9;
    sum += p / (2 * k + 1);
  }
  const Wide ln2 = mp::ldexp(sum, 1);
  const double ln2_rel_w = 1.01 * (2.0 * n_ln2 + 2) + 0.12;
  // Split: ln2_hi = ln 2 truncated to P - 26 bits (ln 2 in [1/2, 1): floor(L 2^(P-26)) has at
  // most P - 26 bits); L - ln2_hi is exact in Wide (the low bits of L) and has at most
  // W - (P - 26) = 90 bits, so ln2_lo = L - ln2_hi is exact in Real<P> as well.
  const Wide hi = mp::ldexp(mp::floor(mp::ldexp(ln2, static_cast<int>(P) - 26)), 26 - int(P));
  c.ln2_hi = Real<P>(hi);
  c.ln2_lo = Real<P>(ln2 - hi);
  c.ln2_eta = mp::ldexp(Real<P>(ln2_rel_w * 0.7), 1 - int(W));

  // pi = 16 atan(1/5) - 4 atan(1/239) (Machin), atan(1/m) = sum_k (-1)^k p_k / (2k + 1) with
  // p_k = m^-(2k+1): p_k carries (k + 1) w, the term (k + 2) w, i.e. an absolute error
  // <= (k + 2) w m^-(2k+1); over all k that is <= (2/m) sum_k (k+1) m^-2k = (2/m)/(1 - m^-2)^2
  // <= 2.2 w / m (m >= 5). Each partial sum of the alternating series lies in (0, 1/m], so each
  // addition rounds by <= w / m: N + 1 additions, (N + 1) w / m. Truncation (alternating,
  // decreasing terms): <= the first omitted term <= m^-(2N+3) <= 2^-(W+4) = w / 32 for the least
  // N with (2N + 3) log2(m) >= W + 4. Absolute error of atan(1/m): <= ((N + 3.2) / m + 1/32) w.
  auto atan_inv = [](int m, int* n_out) {
    int n = 0;
    while ((2.0 * n + 3) * std::log2(static_cast<double>(m)) < W + 4) ++n;
    Wide q = Wide(1) / m;
    Wide s = q;
    const int m2 = m * m;
    for (int k = 1; k <= n; ++k) {
      q /= m2;
      if (k % 2) {
        s -= q / (2 * k + 1);
      } else {
        s += q / (2 * k + 1);
      }
    }
    *n_out = n;
    return s;
  };
  int n5 = 0;
  int n239 = 0;
  const Wide a5 = atan_inv(5, &n5);
  const Wide a239 = atan_inv(239, &n239);
  const Wide pi = mp::ldexp(a5, 4) - mp::ldexp(a239, 2);
  // |pi' - pi| <= 16 ((N5 + 3.2)/5 + 1/32) w + 4 ((N239 + 3.2)/239 + 1/32) w + 3.2 w (the
  // subtraction's rounding, pi < 3.2); relative: divide by pi > 3.14.
  const double pi_rel_w =
      (16 * ((n5 + 3.2) / 5 + 1.0 / 32) + 4 * ((n239 + 3.2) / 239 + 1.0 / 32) + 3.2) / 3.14;
  // 1/sqrt(pi): sqrt halves the input's relative error and rounds once, 1/x rounds once:
  // (pi_rel/2 + 2) w kSO^2. sqrt(2/pi): 2/pi (pi_rel + 1), sqrt ((pi_rel + 1)/2 + 1):
  // (pi_rel/2 + 1.5) w kSO^2. 1/sqrt(2) = sqrt(1/2): one rounding, 1 w.
  const Wide inv_sqrt_pi = 1 / mp::sqrt(pi);
  const Wide sqrt_2_by_pi = mp::sqrt(2 / pi);
  const Wide inv_sqrt2 = mp::sqrt(Wide(0.5));
  // Rounding to P bits adds 1 u; the wide errors are w = 2^-64 u each.
  auto narrow = [](const Wide& v, double rel_w) {
    Approx<P> a;
    a.value = Real<P>(v);
    a.err = (1 + rel_w * 1.01 * 0x1p-64) * kSecondOrder;
    return a;
  };
  c.inv_sqrt_pi = narrow(inv_sqrt_pi, pi_rel_w / 2 + 2);
  c.sqrt_2_by_pi = narrow(sqrt_2_by_pi, pi_rel_w / 2 + 1.5);
  c.inv_sqrt2 = narrow(inv_sqrt2, 1);
  return c;
}

// exp: squarings s and Taylor terms n per level (see certified_exp).
template <unsigned P>
constexpr int exp_squarings() {
  return P <= 128 ? 4 : P <= 320 ? 8 : 12;
}

template <unsigned P>
int exp_terms() {
  // Least n with 1.1 rho^(n+1) / (n+1)! <= 2^-(P+2), rho = 0.35 2^-s, evaluated in log2 with
  // one bit of margin for the double arithmetic.
  static const int n = [] {
    const double log2_rho = std::log2(0.35) - exp_squarings<P>();
    int k = 1;
    while (std::log2(1.1) + (k + 1) * log2_rho - std::lgamma(k + 2.0) / std::log(2.0) >
           -(static_cast<double>(P) + 3)) {
      ++k;
    }
    return k;
  }();
  return n;
}

// erfc: the series 1 - erf is used below this argument, the continued fraction above. The
// series loses log2(1/erfc(x)) bits to cancellation (15.5 at 3, 96 at 8, 207 at 12), which
// each level can afford; the continued fraction needs fewer terms the larger x is.
template <unsigned P>
double erfc_series_limit() {
  return P <= 128 ? 3.0 : P <= 320 ? 8.0 : 12.0;
}

}  // namespace

template <unsigned P>
const CertifiedConstants<P>& certified_constants() {
  static const CertifiedConstants<P> c = make_constants<P>();
  return c;
}

// exp(x), |x| <= 2^24.
//
// Reduction: k = nearest integer to x / ln 2 (from doubles; any k with |r| <= 0.35 will do and
// |r| is checked), r = (x - k ln2_hi) - k ln2_lo. k ln2_hi is exact (|k| < 2^25 and ln2_hi has
// P - 26 bits) and so is b = k ln2_lo (25 + 90 <= 128 <= P bits); a = x - k ln2_hi rounds once
// (u |a|), r = a - b once (u |r|). With ln 2 = ln2_hi + ln2_lo + eta:
//   |r' - (x - k ln 2)| <= u (|a| + |r'|) + |k| |eta|,   |a| <= (|r'| + |b|)(1 + 2u),
// i.e. dr <= 1.01 (2|r'| + |b|) + |k| |eta| / u units; e^x = 2^k e^(x - k ln 2) and the error
// of r moves e^r by a factor e^(dr u), relative 1.01 dr u.
//
// Core: e^r = (e^(r/2^s))^(2^s). Taylor polynomial of degree n at r'' = r / 2^s (exact scaling),
// |r''| <= rho = 0.35 2^-s <= 0.022, by Horner h_j = 1 + r'' h_{j+1} / j. With the exact Horner
// values H_j (|H_j| <= 1.03) the computed ones satisfy
//   |h_j - H_j| <= rho |h_{j+1} - H_{j+1}| + |r'' h_{j+1} / j| (2u + u^2) + u |h_j|
//              <= rho |h_{j+1} - H_{j+1}| + 1.08 u,
// so |h_1 - H_1| <= 1.08 u / (1 - rho) <= 1.11 u, relative to e^r'' >= e^-rho >= 0.978:
// 1.14 u. Truncation: |sum_{i>n} r''^i / i!| <= 1.1 rho^(n+1) / (n+1)! <= 2^-(P+2) by the
// choice of n, relative 2^-(P+2) / 0.978 <= 0.13 u. The reduction error scaled by 2^-s adds
// 1.01 dr 2^-s. Squaring: a value with relative error e u squared and rounded has relative
// error <= (2e + 1) u kSO (err_mul with ea = eb = e). Finally the exact scaling by 2^k.
template <unsigned P>
Approx<P> certified_exp(const Real<P>& x) {
  if (x == 0) {
    Approx<P> one;
    one.value = 1;
    one.err = 0;
    return one;
  }
  if (!(mp::abs(x) <= Real<P>(0x1p24))) return failed<P>();
  const CertifiedConstants<P>& c = certified_constants<P>();
  const long long k = std::llround(to_double(x) * 1.4426950408889634);
  const Real<P> kr(k);
  const Real<P> a = x - kr * c.ln2_hi;
  const Real<P> b = kr * c.ln2_lo;
  Real<P> r = a - b;
  const double rd = to_double(Real<P>(mp::abs(r)));
  if (!(rd <= 0.35)) return failed<P>();
  const double bd = to_double(Real<P>(mp::abs(b)));
  const double eta_units = to_double(Real<P>(mp::ldexp(c.ln2_eta, static_cast<int>(P) - 1)));
  const double dr = 1.01 * (2 * rd + bd) + std::fabs(static_cast<double>(k)) * eta_units;

  constexpr int s = exp_squarings<P>();
  r = mp::ldexp(r, -s);
  const int n = exp_terms<P>();
  Real<P> h = 1;
  for (int j = n; j >= 1; --j) h = 1 + r * h / j;
  double e = 1.14 + 0.13 + 1.01 * dr * std::ldexp(1.0, -s);
  for (int i = 0; i < s; ++i) {
    h = h * h;
    e = err_mul<P>(e, e);
  }
  Approx<P> out;
  out.value = mp::ldexp(h, static_cast<int>(k));
  out.err = e;
  return out;
}

// erfc(t), 0 <= t <= 2^12.
//
// Shared: t2 = t * t rounds once, so the computed exponent -t2 is within t^2 u of -t^2 and
// e^(-t^2) = e^(-t2) (1 + theta), |theta| <= 1.01 t^2 u (t^2 u <= 2^24 2^-127 is tiny).
//
// Series (t below erfc_series_limit): erf t = (2/sqrt(pi)) e^(-t^2) S, S = sum_n T_n,
// T_0 = t, T_n = T_{n-1} c / (2n + 1), c = 2 t^2 (DLMF 7.6.2; every term positive). T_n is
// computed from T_{n-1} by a multiplication by c (c carries 1 u, the product rounds once) and a
// division by an integer (once): e(T_n) = e(T_{n-1}) + 3 (err_mul). The running sum of positive
// terms: e(S_n) = max(e(S_{n-1}), e(T_n)) + 1 (err_add_same_sign). Truncation: the ratios
// T_{n+1}/T_n = c / (2n + 3) decrease, so once q = c / (2N + 3) <= 1/2 the tail after T_N is
// <= T_N q / (1 - q); the loop stops when that is <= 2^-(P+3) S_N (checked on the computed values,
// whose relative errors are below 2^-19: a factor 2 of margin), a relative 2^-(P+2) at most,
// 0.13 u. Then erfc = 1 - erf with erf in (0, 1): the true erfc is 1 - erf'(1 + theta), so
// relative to the computed difference d the error is (erf' / d) e(erf) u, plus d's rounding.
//
// Continued fraction (t at or above the limit): sqrt(pi) e^(t^2) erfc t = F,
// F = 1/(t + (1/2)/(t + 1/(t + (3/2)/(t + 2/(t + ...))))) (Laplace; DLMF 7.9.2), i.e. the
// fraction K(a_n / t) with a_1 = 1, a_n = (n - 1)/2. Approximants F_n = A_n / B_n by the forward
// recurrences A_n = t A_{n-1} + a_n A_{n-2} (A_{-1} = 1, A_0 = 0) and the same for B (B_{-1} = 0,
// B_0 = 1): all terms positive, so each step costs two roundings of products and one of a sum,
// e(A_n) = max(e(A_{n-1}), e(A_{n-2})) + 2 (same for B), and e(F_n) = e(A_n) + e(B_n) + 1.
// All partial numerators and denominators are positive, so consecutive approximants enclose F:
// |F - F_n| <= |F_n - F_{n-1}| = a_1 ... a_n / (B_n B_{n-1}) (the determinant formula). The loop
// stops when 2^(P+3) a_1 ... a_n <= A_n B_{n-1}, i.e. (with a factor 2 of margin for the computed
// values) |F - F_n| <= 2^-(P+2) F_n: 0.13 u.
// Then erfc = (1/sqrt(pi)) e^(-t^2) F.
template <unsigned P>
Approx<P> certified_erfc(const Real<P>& t) {
  if (t == 0) {
    Approx<P> one;
    one.value = 1;
    one.err = 0;
    return one;
  }
  if (!(t > 0) || !(t <= Real<P>(0x1p12))) return failed<P>();
  const CertifiedConstants<P>& cs = certified_constants<P>();
  const Real<P> t2 = t * t;
  const double t2d = to_double(t2) * 1.0001;
  Approx<P> x = certified_exp<P>(Real<P>(-t2));
  x.err = err_compose<P>(x.err, 1.01 * t2d);
  if (!x.usable()) return failed<P>();

  Approx<P> out;
  if (to_double(t) < erfc_series_limit<P>()) {
    const Real<P> c = mp::ldexp(t2, 1);
    const double cd = to_double(c) * (1 + 0x1p-40);
    Real<P> term = t;
    Real<P> sum = t;
    double e_term = 0;
    double e_sum = 0;
    const Real<P> stop_scale = mp::ldexp(Real<P>(1), -static_cast<int>(P) - 3);
    for (int n = 1;; ++n) {
      if (n > 100000) return failed<P>();
      term = term * c / (2 * n + 1);
      e_term = err_mul<P>(err_mul<P>(e_term, 1), 0);
      sum += term;
      e_sum = err_add_same_sign<P>(e_sum, e_term);
      const double q = cd / (2.0 * n + 3);
      if (q <= 0.5 && term * Real<P>(q / (1 - q)) <= sum * stop_scale) break;
    }
    e_sum = err_compose<P>(e_sum, 0.13);
    Approx<P> erf;
    erf.value = mp::ldexp(cs.inv_sqrt_pi.value, 1) * x.value * sum;
    erf.err = err_mul<P>(err_mul<P>(cs.inv_sqrt_pi.err, x.err), e_sum);
    if (!erf.usable() || !(erf.value < 1)) return failed<P>();
    out.value = 1 - erf.value;
    const double ratio = to_double(Real<P>(erf.value / out.value)) * (1 + 0x1p-40);
    out.err = (ratio * erf.err + 1) * kSecondOrder;
  } else {
    Real<P> a2 = 1;  // A_{n-2}
    Real<P> a1 = 0;  // A_{n-1}
    Real<P> b2 = 0;
    Real<P> b1 = 1;
    double e2 = 0;
    double e1 = 0;
    Real<P> prod = 1;
    int n = 1;
    for (;; ++n) {
      if (n > 200000) return failed<P>();
      const Real<P> an = n == 1 ? Real<P>(1) : mp::ldexp(Real<P>(n - 1), -1);
      const Real<P> an_ = t * a1 + an * a2;
      const Real<P> bn_ = t * b1 + an * b2;
      const double en = err_add_same_sign<P>(err_mul<P>(e1, 0), err_mul<P>(e2, 0));
      prod *= an;
      const bool done = n >= 2 && mp::ldexp(prod, static_cast<int>(P) + 3) <= an_ * b1;
      a2 = a1;
      a1 = an_;
      b2 = b1;
      b1 = bn_;
      e2 = e1;
      e1 = en;
      if (done) break;
    }
    const Real<P> f = a1 / b1;
    const double e_f = err_compose<P>(err_mul<P>(e1, e1), 0.13);
    out.value = cs.inv_sqrt_pi.value * x.value * f;
    out.err = err_mul<P>(err_mul<P>(cs.inv_sqrt_pi.err, x.err), e_f);
  }
  if (!out.usable()) return failed<P>();
  return out;
}

// The enclosure [m (1 - r), m (1 + r)] of |a| with r = (err + 4) u: the +4 covers the roundings
// of m r and of the two sums, so the computed lo (hi) is below (above) the true end. The
// candidate c = round_to(f, |a|) (through Exact, which may round a 1024-bit value; c is only a
// candidate) is the answer when the boundaries next to it, exact short dyadics that convert to
// Real<P> exactly, lie strictly outside the enclosure: the upper one unless c is infinity, the
// lower one unless c is zero (for infinity: the overflow threshold).
template <unsigned P>
bool round_certified(const Format& f, const Approx<P>& a, std::uint32_t* bits) {
  if (!a.usable() || !mp::isfinite(a.value) || a.value == 0) return false;
  const bool negative = mp::signbit(a.value) != 0;
  const Real<P> mag = mp::abs(a.value);
  const Real<P> rel = mp::ldexp(Real<P>(a.err + 4), 1 - static_cast<int>(P));
  const Real<P> lo = mag - mag * rel;
  const Real<P> hi = mag + mag * rel;
  const std::uint32_t c = round_to(f, Exact(mag));
  if (is_inf(f, c)) {
    if (!(lo > Real<P>(midpoint_above(f, f.max_finite())))) return false;
  } else {
    if (!(hi < Real<P>(midpoint_above(f, c)))) return false;
    if (c != 0 && !(lo > Real<P>(midpoint_above(f, c - 1)))) return false;
  }
  *bits = c | (negative ? f.sign_mask() : 0u);
  return true;
}

#define KC_REF_ELEMENTARY_LEVEL(P)                                \
  template const CertifiedConstants<P>& certified_constants<P>(); \
  template Approx<P> certified_exp<P>(const Real<P>&);            \
  template Approx<P> certified_erfc<P>(const Real<P>&);           \
  template bool round_certified<P>(const Format&, const Approx<P>&, std::uint32_t*);
KC_REF_ELEMENTARY_LEVEL(128)
KC_REF_ELEMENTARY_LEVEL(320)
KC_REF_ELEMENTARY_LEVEL(1024)
#undef KC_REF_ELEMENTARY_LEVEL

}  // namespace kc::ref
