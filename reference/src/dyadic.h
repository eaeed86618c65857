// Exact dyadic rationals m * 2^e (internal to the reference library), for the rare decisions
// that a 320-bit Exact approximation cannot settle: exact ties of rounding, an error that lands
// exactly on its bound. No precision limit: cpp_int grows as needed, so these are slow and only
// ever run on the few values that need them.
#pragma once

#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>

#include "kc/ref/exact.h"

namespace kc::ref::detail {

struct Dyadic {
  boost::multiprecision::cpp_int m;
  int e = 0;

  // v finite; exact (v has at most kExactBits significant bits).
  static Dyadic of(const Exact& v) {
    Dyadic d;
    if (v == 0) return d;
    int k = 0;
    const Exact frac = boost::multiprecision::frexp(v, &k);
    d.m = boost::multiprecision::ldexp(frac, static_cast<int>(kExactBits))
              .convert_to<boost::multiprecision::cpp_int>();
    d.e = k - static_cast<int>(kExactBits);
    return d;
  }
  static Dyadic of_int(std::int64_t v) {
    Dyadic d;
    d.m = v;
    return d;
  }
  friend Dyadic operator*(const Dyadic& a, const Dyadic& b) {
    Dyadic r;
    r.m = a.m * b.m;
    r.e = a.e + b.e;
    return r;
  }
  friend Dyadic operator+(const Dyadic& a, const Dyadic& b) {
    if (a.m == 0) return b;
    if (b.m == 0) return a;
    const int e = a.e < b.e ? a.e : b.e;
    Dyadic r;
    r.m = (a.m << (a.e - e)) + (b.m << (b.e - e));
    r.e = e;
    return r;
  }
  friend Dyadic operator-(const Dyadic& a, const Dyadic& b) {
    Dyadic nb = b;
    nb.m = -nb.m;
    return a + nb;
  }
  friend int compare(const Dyadic& a, const Dyadic& b) {
    const int e = a.e < b.e ? a.e : b.e;
    const boost::multiprecision::cpp_int am = a.m << (a.e - e);
    const boost::multiprecision::cpp_int bm = b.m << (b.e - e);
    return am < bm ? -1 : am > bm ? 1 : 0;
  }
};

}  // namespace kc::ref::detail
