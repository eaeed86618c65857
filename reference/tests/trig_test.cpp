// The certified elementary layer (trig.h): every ball must contain the true value, and its
// radius must be small enough for Ziv's levels to be useful: at least P - 16 correct bits
// (relative to max(1, |x|) for sin/cos, whose reduction loses log2|x| bits).
//
// Oracles: pi, ln 2 and four hard values are 410- and 60-digit mpmath strings (mp.dps = 420);
// the random points are checked against Boost.Multiprecision's own sin/cos/exp/log at 1600 bits
// (not certified, but 570 bits beyond the 1024-bit level; a disagreement with a correct ball
// would need Boost to be wrong by far more than its own last bits).
#include "kc/ref/trig.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace kc::ref::trig {
namespace mp = boost::multiprecision;
namespace {

using Wide = Real<1600>;

const char kPi[] =
    "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482"
    "534211706798214808651328230664709384460955058223172535940812848111745028410270193852110555"
    "964462294895493038196442881097566593344612847564823378678316527120190914564856692346034861"
    "045432664821339360726024914127372458700660631558817488152092096282925409171536436789259036"
    "001133053054882046652138414695194151160943305727";
const char kLn2[] =
    "0.6931471805599453094172321214581765680755001343602552541206800094933936219696947156058633"
    "269964186875420014810205706857336855202357581305570326707516350759619307275708283714351903"
    "070386238916734711233501153644979552391204751726815749320651555247341395258829504530070953"
    "263666426541042391578149520437404303855008019441706416715186447128399681717845469570262716"
    "3106454615025720740248163777338963855069526066834114";

// True when the ball contains the oracle value, allowing the oracle's own error `slack`.
template <unsigned P>
::testing::AssertionResult contains(const Ball<P>& b, const Wide& truth, const Wide& slack) {
  const Wide dist = mp::abs(Wide(b.mid) - truth);
  if (dist <= Wide(b.rad) + slack) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "|mid - truth| = " << dist.convert_to<double>()
                                       << " > rad = " << b.rad.template convert_to<double>();
}

template <unsigned P>
Wide radius_limit(double scale, int extra_bits) {
  return Wide(scale) * mp::ldexp(Wide(1), extra_bits - static_cast<int>(P));
}

template <unsigned P>
void check_constants() {
  const Wide slack = mp::ldexp(Wide(1), -1300);  // 410 digits
  EXPECT_TRUE(contains<P>(pi<P>(), Wide(kPi), slack)) << P;
  EXPECT_TRUE(contains<P>(ln2<P>(), Wide(kLn2), slack)) << P;
  EXPECT_LT(Wide(pi<P>().rad), radius_limit<P>(1, 16)) << P;
  EXPECT_LT(Wide(ln2<P>().rad), radius_limit<P>(1, 16)) << P;
}

TEST(TrigTest, Constants) {
  check_constants<192>();
  check_constants<384>();
  check_constants<1024>();
}

// Hard single values against mpmath (60 digits: the slack is 2^-190).
TEST(TrigTest, MpmathValues) {
  const Wide slack = mp::ldexp(Wide(1), -190);
  Ball<192> s, c;
  sin_cos<192>(exact_ball<192>(mp::ldexp(Real<192>(1), 62)), &s, &c);
  EXPECT_TRUE(contains<192>(
      s, Wide("-0.702922443619208876415381557847023832178867770763107602995363"), slack));
  sin_cos<192>(exact_ball<192>(Real<192>(1e22)), &s, &c);
  EXPECT_TRUE(contains<192>(
      c, Wide("0.523214785395138945497594473384709492140919972439387953527211"), slack));
  EXPECT_TRUE(
      contains<192>(exp<192>(exact_ball<192>(Real<192>(-700))),
                    Wide("9.85967654375977085670537294784946510511560018140094171058647e-305"),
                    mp::ldexp(Wide(1), -1200)));
  EXPECT_TRUE(contains<192>(log<192>(exact_ball<192>(Real<192>(3))),
                            Wide("1.09861228866810969139524523692252570464749055782274945173469"),
                            slack));
}

// Random points of every magnitude class: sin/cos of |x| in 2^-30 .. 2^62 (the reduction's lost
// bits), exp on [-745, 745], log on 2^-1000 .. 2^1000, pow with exponents in [0, 1).
template <unsigned P>
void check_random(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const Wide slack = mp::ldexp(Wide(1), -1500);
  for (int i = 0; i < 150; ++i) {
    const double x =
        std::ldexp(unit(rng) + 0.5, static_cast<int>(rng() % 93) - 30) * (rng() % 2 ? 1 : -1);
    Ball<P> s, c;
    sin_cos<P>(exact_ball<P>(Real<P>(x)), &s, &c);
    ASSERT_TRUE(contains<P>(s, mp::sin(Wide(x)), slack)) << "sin " << x << " P " << P;
    ASSERT_TRUE(contains<P>(c, mp::cos(Wide(x)), slack)) << "cos " << x << " P " << P;
    ASSERT_LT(Wide(s.rad), radius_limit<P>(std::fabs(x) + 1, 16)) << x;
    const double e = (unit(rng) * 2 - 1) * 745;
    const Ball<P> ex = exp<P>(exact_ball<P>(Real<P>(e)));
    ASSERT_TRUE(contains<P>(ex, mp::exp(Wide(e)), slack)) << "exp " << e;
    ASSERT_LT(Wide(ex.rad), radius_limit<P>(Wide(ex.mid).convert_to<double>() * 1000, 16)) << e;
    const double l = std::ldexp(unit(rng) + 0.5, static_cast<int>(rng() % 2000) - 1000);
    const Ball<P> lg = log<P>(exact_ball<P>(Real<P>(l)));
    ASSERT_TRUE(contains<P>(lg, mp::log(Wide(l)), slack)) << "log " << l;
    ASSERT_LT(Wide(lg.rad), radius_limit<P>(1000, 16)) << l;
    const double b = 1 + unit(rng) * 1e6;
    const double y = std::ldexp(std::floor(unit(rng) * 4096), -12);
    const Ball<P> pw = pow<P>(exact_ball<P>(Real<P>(b)), exact_ball<P>(Real<P>(y)));
    ASSERT_TRUE(contains<P>(pw, mp::pow(Wide(b), Wide(y)), slack)) << "pow " << b << " " << y;
  }
}

TEST(TrigTest, RandomPointsAgainstWideEvaluation) {
  std::mt19937_64 rng(5);
  check_random<192>(rng);
  check_random<384>(rng);
  check_random<1024>(rng);
}

// Near the zeros of cos (x the double nearest k pi/2): the relative precision of cos drops,
// the absolute radius must still hold.
TEST(TrigTest, NearQuadrantBoundaries) {
  const Wide slack = mp::ldexp(Wide(1), -1500);
  for (int k = 1; k < 2000; k += 7) {
    const double x = k * 1.5707963267948966;
    Ball<192> s, c;
    sin_cos<192>(exact_ball<192>(Real<192>(x)), &s, &c);
    ASSERT_TRUE(contains<192>(c, mp::cos(Wide(x)), slack)) << k;
    ASSERT_TRUE(contains<192>(s, mp::sin(Wide(x)), slack)) << k;
  }
}

// Ball arithmetic encloses every value of its operands' intervals (checked at the corners).
TEST(TrigTest, BallArithmeticEncloses) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    const Ball<192> a{Real<192>(normal(rng)), Real<192>(std::fabs(normal(rng)) * 1e-3)};
    const Ball<192> b{Real<192>(normal(rng) + 4), Real<192>(std::fabs(normal(rng)) * 1e-3)};
    for (int ca = -1; ca <= 1; ca += 2) {
      for (int cb = -1; cb <= 1; cb += 2) {
        const Wide x = Wide(a.mid) + ca * Wide(a.rad);
        const Wide y = Wide(b.mid) + cb * Wide(b.rad);
        const Wide zero = 0;
        ASSERT_TRUE(contains<192>(add<192>(a, b), x + y, zero));
        ASSERT_TRUE(contains<192>(sub<192>(a, b), x - y, zero));
        ASSERT_TRUE(contains<192>(mul<192>(a, b), x * y, zero));
        ASSERT_TRUE(contains<192>(div<192>(a, b), x / y, zero));
        ASSERT_TRUE(contains<192>(sqrt<192>(b), mp::sqrt(y), zero));
      }
    }
  }
}

// Outside the domain of certification the ball carries no information (infinite radius): sin of
// 2^160 at 192 bits (beyond 2^(P-40)), log of a negative, division by a ball around 0.
TEST(TrigTest, OutOfDomainIsInfinite) {
  Ball<192> s, c;
  sin_cos<192>(exact_ball<192>(mp::ldexp(Real<192>(1), 160)), &s, &c);
  EXPECT_TRUE(mp::isinf(s.rad));
  EXPECT_TRUE(mp::isinf(c.rad));
  Ball<384> s2, c2;  // the next level reduces it
  sin_cos<384>(exact_ball<384>(mp::ldexp(Real<384>(1), 160)), &s2, &c2);
  EXPECT_LT(s2.rad, mp::ldexp(Real<384>(1), -200));
  EXPECT_TRUE(mp::isinf(log<192>(exact_ball<192>(Real<192>(-1))).rad));
  EXPECT_TRUE(mp::isinf(div<192>(exact_ball<192>(Real<192>(1)), Ball<192>{0, 1}).rad));
  int sign = 0;
  EXPECT_FALSE(sign_known<192>(Ball<192>{Real<192>(1), Real<192>(2)}, &sign));
}

}  // namespace
}  // namespace kc::ref::trig
