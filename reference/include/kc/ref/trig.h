// Certified elementary functions: exp, log, pow, sin, cos and the constants pi and ln 2, each
// evaluated at a fixed binary precision P with a rigorous bound on its error.
//
// A result is a Ball: a midpoint and a radius such that the true value lies in
// [mid - rad, mid + rad]. A caller that must round the true value to a storage format decides the
// rounding from the ball when no rounding boundary lies inside it, and otherwise evaluates again
// at a higher precision (Ziv's strategy): kc::ref::qknorm_rope uses the levels P = 192, 384 and
// 1024 (kTrigLevels), each explicitly instantiated in trig.cpp.
//
// Arithmetic model (the base of every bound here): Real<P> is Boost.Multiprecision cpp_bin_float
// with a P-bit significand and a 32-bit exponent. Each +, -, *, / and sqrt is assumed only
// faithfully rounded: the computed result r of an exact result x satisfies |r - x| <= u |r| and
// |r - x| <= u |x| with u = 2^(1-P) (one unit in the last place of either). Conversions from
// int64, float and double, ldexp, frexp, floor and negation are exact. No Boost.Math special
// function is used: their error is not bounded by any documented guarantee.
//
// Error bounds of the Ball operations (derivations next to each in trig.cpp) are themselves
// evaluated in Real<P>, so they carry rounding errors of their own; every radius is finally
// multiplied by (1 + 2^(8-P)), which covers the at most 8 rounded operations of any radius
// formula ((1 + u)^9 < 1 + 2^(8-P) since 9 u < 2^(8-P)).
//
// This layer is self-contained (it does not use kc::ref::Exact) so that it can be merged with
// other certified function layers of the library later.
#pragma once

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cstdint>

namespace kc::ref::trig {

template <unsigned P>
using Real = boost::multiprecision::number<
    boost::multiprecision::backends::cpp_bin_float<P, boost::multiprecision::backends::digit_base_2,
                                                   void, std::int32_t>,
    boost::multiprecision::et_off>;

// The precisions instantiated in trig.cpp, lowest first (Ziv's levels).
inline constexpr unsigned kTrigLevels[] = {192, 384, 1024};

// The true value lies in [mid - rad, mid + rad]; rad >= 0. A ball whose radius is infinite
// carries no information (returned when an argument is outside a function's domain of
// certification, e.g. sin of a value too large to reduce at this precision).
template <unsigned P>
struct Ball {
  Real<P> mid;
  Real<P> rad;
};

// u = 2^(1-P): the relative error bound of one rounded operation.
template <unsigned P>
Real<P> unit_roundoff();

// A ball holding an exactly known value (radius 0); the value must be representable in Real<P>
// (every float, double and int64 is).
template <unsigned P>
Ball<P> exact_ball(const Real<P>& v);
// A value rounded to Real<P> from a wider type (radius u |mid|).
template <unsigned P>
Ball<P> rounded_ball(const Real<P>& v);

// Ball arithmetic: the result encloses every value of the operation over the operand balls.
template <unsigned P>
Ball<P> add(const Ball<P>& a, const Ball<P>& b);
template <unsigned P>
Ball<P> sub(const Ball<P>& a, const Ball<P>& b);
template <unsigned P>
Ball<P> mul(const Ball<P>& a, const Ball<P>& b);
// a / b, b must exclude zero (|b.mid| > b.rad), else the result has an infinite radius.
template <unsigned P>
Ball<P> div(const Ball<P>& a, const Ball<P>& b);
// sqrt(a) for a ball of non-negative values (a.mid >= a.rad), else an infinite radius.
template <unsigned P>
Ball<P> sqrt(const Ball<P>& a);
template <unsigned P>
Ball<P> neg(const Ball<P>& a);
// a * 2^e, exact.
template <unsigned P>
Ball<P> scale2(const Ball<P>& a, int e);

// True when every value in the ball is > 0 (sign 1), < 0 (sign -1); false if it contains 0.
template <unsigned P>
bool sign_known(const Ball<P>& a, int* sign);

// Constants, computed once per precision (thread-safe static initialisation).
template <unsigned P>
const Ball<P>& pi();
template <unsigned P>
const Ball<P>& ln2();

// exp(x) for |x| < 2^20 (beyond: infinite radius).
template <unsigned P>
Ball<P> exp(const Ball<P>& x);
// log(x) for a ball of positive values (x.mid > x.rad), else an infinite radius.
template <unsigned P>
Ball<P> log(const Ball<P>& x);
// b^y = exp(y log b) for a ball of positive b.
template <unsigned P>
Ball<P> pow(const Ball<P>& b, const Ball<P>& y);
// sin(x) and cos(x). The reduction x - k pi/2 loses about log2|x| bits: the radius grows like
// |x| 2^(3-P), so at P = 192 an angle below 2^64 keeps more than 120 correct bits. Angles with
// |x| >= 2^(P-40) are not reduced: both results then have an infinite radius.
template <unsigned P>
void sin_cos(const Ball<P>& x, Ball<P>* sin_x, Ball<P>* cos_x);

}  // namespace kc::ref::trig
