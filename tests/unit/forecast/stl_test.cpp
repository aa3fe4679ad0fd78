// STL and MSTL against R 4.2.2 (stats::stl) and forecast 8.20 (mstl).
//
// Datasets are R's, embedded with `dput(as.numeric(x))` (reformatted).
// Reference values were printed with
//   f <- function(x) paste(sprintf("%.12g", x), collapse = ", ")
// from the fits named in each test case; indexes below are 0-based (R's
// index minus one).

#include "aiops/forecast/stl.hpp"

#include <doctest/doctest.h>

#include <armadillo>

#include <cmath>
#include <cstddef>
#include <vector>

using aiops::forecast::mstl;
using aiops::forecast::mstl_multi;
using aiops::forecast::stl;
using aiops::forecast::StlOptions;
using aiops::forecast::StlResult;

namespace {

// R: nottem, AirPassengers, USAccDeaths, austres.
const arma::vec kNottem = {
    40.6, 40.8, 44.4, 46.7, 54.1, 58.5, 57.7, 56.4, 54.3, 50.5, 42.9, 39.8, 44.2, 39.8, 45.1,
    47.0, 54.1, 58.7, 66.3, 59.9, 57.0, 54.2, 39.7, 42.8, 37.5, 38.7, 39.5, 42.1, 55.7, 57.8,
    56.8, 54.3, 54.3, 47.1, 41.8, 41.7, 41.8, 40.1, 42.9, 45.8, 49.2, 52.7, 64.2, 59.6, 54.4,
    49.2, 36.3, 37.6, 39.3, 37.5, 38.3, 45.5, 53.2, 57.7, 60.8, 58.2, 56.4, 49.8, 44.4, 43.6,
    40.0, 40.5, 40.8, 45.1, 53.8, 59.4, 63.5, 61.0, 53.0, 50.0, 38.1, 36.3, 39.2, 43.4, 43.4,
    48.9, 50.6, 56.8, 62.5, 62.0, 57.5, 46.7, 41.6, 39.8, 39.4, 38.5, 45.3, 47.1, 51.7, 55.0,
    60.4, 60.5, 54.7, 50.3, 42.3, 35.2, 40.8, 41.1, 42.8, 47.3, 50.9, 56.4, 62.2, 60.5, 55.4,
    50.2, 43.0, 37.3, 34.8, 31.3, 41.0, 43.9, 53.1, 56.9, 62.5, 60.3, 59.8, 49.2, 42.9, 41.9,
    41.6, 37.1, 41.2, 46.9, 51.2, 60.4, 60.1, 61.6, 57.0, 50.9, 43.0, 38.8, 37.1, 38.4, 38.4,
    46.5, 53.5, 58.4, 60.6, 58.2, 53.8, 46.6, 45.5, 40.6, 42.4, 38.4, 40.3, 44.6, 50.9, 57.0,
    62.1, 63.5, 56.3, 47.3, 43.6, 41.8, 36.2, 39.3, 44.5, 48.7, 54.2, 60.8, 65.5, 64.9, 60.1,
    50.2, 42.1, 35.8, 39.4, 38.2, 40.4, 46.9, 53.4, 59.6, 66.5, 60.4, 59.2, 51.2, 42.8, 45.8,
    40.0, 42.6, 43.5, 47.1, 50.0, 60.5, 64.6, 64.0, 56.8, 48.6, 44.2, 36.4, 37.3, 35.0, 44.0,
    43.9, 52.7, 58.6, 60.0, 61.1, 58.1, 49.6, 41.6, 41.3, 40.8, 41.0, 38.4, 47.4, 54.1, 58.6,
    61.4, 61.8, 56.3, 50.9, 41.4, 37.1, 42.1, 41.2, 47.3, 46.6, 52.4, 59.0, 59.6, 60.4, 57.0,
    50.7, 47.8, 39.2, 39.4, 40.9, 42.4, 47.8, 52.4, 58.0, 60.7, 61.8, 58.2, 46.7, 46.6, 37.8
};

const arma::vec kAirPassengers = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149,
    170, 170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243,
    264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374,
    413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
    548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432
};

const arma::vec kUSAccDeaths = {
    9007, 8106, 8928, 9137, 10017, 10826, 11317, 10744, 9713, 9938, 9161, 8927, 7750, 6981,
    8038, 8422, 8714, 9512, 10120, 9823, 8743, 9129, 8710, 8680, 8162, 7306, 8124, 7870, 9387,
    9556, 10093, 9620, 8285, 8466, 8160, 8034, 7717, 7461, 7767, 7925, 8623, 8945, 10078, 9179,
    8037, 8488, 7874, 8647, 7792, 6957, 7726, 8106, 8890, 9299, 10625, 9302, 8314, 8850, 8265,
    8796, 7836, 6892, 7791, 8192, 9115, 9434, 10484, 9827, 9110, 9070, 8633, 9240
};

const arma::vec kAustres = {
    13067.3, 13130.5, 13198.4, 13254.2, 13303.7, 13353.9, 13409.3, 13459.2, 13504.5, 13552.6,
    13614.3, 13669.5, 13722.6, 13772.1, 13832.0, 13862.6, 13893.0, 13926.8, 13968.9, 14004.7,
    14033.1, 14066.0, 14110.1, 14155.6, 14192.2, 14231.7, 14281.5, 14330.3, 14359.3, 14396.6,
    14430.8, 14478.4, 14515.7, 14554.9, 14602.5, 14646.4, 14695.4, 14746.6, 14807.4, 14874.4,
    14923.3, 14988.7, 15054.1, 15121.7, 15184.2, 15239.3, 15288.9, 15346.2, 15393.5, 15439.0,
    15483.5, 15531.5, 15579.4, 15628.5, 15677.3, 15736.7, 15788.3, 15839.7, 15900.6, 15961.5,
    16018.3, 16076.9, 16139.0, 16203.0, 16263.3, 16327.9, 16398.9, 16478.3, 16538.2, 16621.6,
    16697.0, 16777.2, 16833.1, 16891.6, 16956.8, 17026.3, 17085.4, 17106.9, 17169.4, 17239.4,
    17292.0, 17354.2, 17414.2, 17447.3, 17482.6, 17526.0, 17568.7, 17627.1, 17661.5
};

// R prints 12 significant digits; the implementation agrees with R to
// ~1e-11, so 1e-6 relative (plus a tiny absolute part for values near 0)
// is loose enough for other compilers and tight enough to catch any
// deviation in the algorithm.
bool close(double actual, double expected) {
  return std::fabs(actual - expected) <= 1e-9 + 1e-6 * std::fabs(expected);
}

void check_at(const arma::vec& actual, const std::vector<std::size_t>& idx,
              const std::vector<double>& expected, const char* what) {
  REQUIRE(idx.size() == expected.size());
  for (std::size_t k = 0; k < idx.size(); ++k) {
    INFO(what << "[" << idx[k] << "] = " << actual[idx[k]] << ", R: " << expected[k]);
    CHECK(close(actual[idx[k]], expected[k]));
  }
}

StlResult fit_or_fail(const arma::vec& x, std::size_t period, const StlOptions& options) {
  auto r = stl(x, period, options);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(r).value();
}

void check_additive(const arma::vec& x, const StlResult& fit) {
  CHECK(arma::approx_equal(fit.seasonal + fit.trend + fit.remainder, x, "absdiff", 1e-9));
}

const std::vector<std::size_t> kNottemIdx{0, 1, 6, 59, 119, 232, 238, 239};
const std::vector<std::size_t> kApIdx{0, 4, 12, 71, 99, 130, 142, 143};

}  // namespace

TEST_CASE("stl: nottem with s.window = 11 (forecast's mstl setting) matches R") {
  // R: fit <- stl(nottem, s.window = 11)
  //    idx <- c(1, 2, 7, 60, 120, 233, 239, 240)
  //    f(fit$time.series[idx, "seasonal"]); f(fit$time.series[idx, "trend"])
  StlOptions options;
  options.s_window = 11;
  const StlResult fit = fit_or_fail(kNottem, 12, options);
  check_at(fit.seasonal, kNottemIdx,
           {-8.2809649154, -8.92135564083, 12.7559943605, -9.05602307967, -9.67484449785,
            3.02741450733, -5.50702569741, -10.3317276455},
           "seasonal");
  check_at(fit.trend, kNottemIdx,
           {49.0401542122, 49.0424662242, 49.1636420185, 49.4142217934, 49.3807946377,
            49.5510185265, 49.0612160231, 48.9752703253},
           "trend");
  CHECK(arma::all(fit.weights == 1.0));
  check_additive(kNottem, fit);

  // mstl() on a single-period series is exactly this fit.
  auto m = mstl(kNottem, 12);
  REQUIRE(m.ok());
  CHECK(arma::approx_equal(m->seasonal, fit.seasonal, "absdiff", 0.0));
  CHECK(arma::approx_equal(m->trend, fit.trend, "absdiff", 0.0));
}

TEST_CASE("stl: periodic seasonal window matches R") {
  // R: fit <- stl(nottem, s.window = "periodic"); same idx and f() as above.
  StlOptions options;
  options.periodic = true;
  const StlResult fit = fit_or_fail(kNottem, 12, options);
  check_at(fit.seasonal, kNottemIdx,
           {-9.34719802748, -9.85524962155, 12.8452500959, -9.4781422783, -9.4781422783,
            3.50135692407, -6.43013085559, -9.4781422783},
           "seasonal");
  check_at(fit.trend, kNottemIdx,
           {49.6806726486, 49.545520817, 49.1736662496, 49.4771381418, 49.4473584958,
            49.6083556501, 49.0807618798, 49.0050970824},
           "trend");
  // The periodic seasonal repeats exactly.
  CHECK(fit.seasonal[5] == fit.seasonal[5 + 12 * 7]);
  check_additive(kNottem, fit);
}

TEST_CASE("stl: robust fit (15 outer iterations) matches R, weights included") {
  // R: fit <- stl(nottem, s.window = 7, robust = TRUE)
  //    f(fit$time.series[idx, "seasonal"]); f(fit$time.series[idx, "trend"]); f(fit$weights[idx])
  StlOptions options;
  options.s_window = 7;
  options.robust = true;
  const StlResult fit = fit_or_fail(kNottem, 12, options);
  check_at(fit.seasonal, kNottemIdx,
           {-8.2793294515, -9.65288357001, 15.3947418597, -10.5487536777, -9.69365343565,
            3.31625329347, -6.78903904619, -11.150968632},
           "seasonal");
  check_at(fit.trend, kNottemIdx,
           {49.572794589, 49.5971461512, 49.7521046687, 48.4199026993, 49.2458610726,
            49.3482683516, 49.3737338443, 49.3772945529},
           "trend");
  check_at(fit.weights, kNottemIdx,
           {0.971230310865, 0.956574647141, 0, 0.000275870699341, 0.696514974958,
            0.995055454692, 0.311633267529, 0.987342004456},
           "weights");
  check_additive(kNottem, fit);
}

TEST_CASE("stl: degrees, windows and jumps other than the defaults match R") {
  const arma::vec x = arma::log(kAirPassengers);
  SUBCASE("local linear seasonal, explicit trend window, local constant low-pass") {
    // R: fit <- stl(log(AirPassengers), s.window = 13, s.degree = 1, t.window = 31, l.degree = 0)
    //    idx <- c(1, 5, 13, 72, 100, 131, 143, 144)
    StlOptions options;
    options.s_window = 13;
    options.s_degree = 1;
    options.t_window = 31;
    options.l_degree = 0;
    const StlResult fit = fit_or_fail(x, 12, options);
    check_at(fit.seasonal, kApIdx,
             {-0.0899308897259, -0.0300459518657, -0.0883030773455, -0.102668376482,
              -0.0220169123216, -0.214593927204, -0.213764728075, -0.123353022552},
             "seasonal");
    check_at(fit.trend, kApIdx,
             {4.78761563068, 4.81863878503, 4.88665720621, 5.54613985456, 5.86786563102,
              6.08749240894, 6.19176935087, 6.20016935698},
             "trend");
  }
  SUBCASE("every point fitted (jumps of 1)") {
    // R: fit <- stl(log(AirPassengers), s.window = 5, s.jump = 1, t.jump = 1, l.jump = 1)
    StlOptions options;
    options.s_window = 5;
    options.s_jump = 1;
    options.t_jump = 1;
    options.l_jump = 1;
    const StlResult fit = fit_or_fail(x, 12, options);
    check_at(fit.seasonal, kApIdx,
             {-0.0944276008802, -0.0322266868755, -0.0920789623816, -0.103990284957,
              -0.0350286610688, -0.213814226278, -0.214217921961, -0.12080758303},
             "seasonal");
    check_at(fit.trend, kApIdx,
             {4.80032509241, 4.82506412486, 4.88010717884, 5.54562578633, 5.87062856951,
              6.09088757968, 6.19136961844, 6.19943686964},
             "trend");
  }
}

TEST_CASE("stl: quarterly data and a series just over two periods match R") {
  SUBCASE("austres, period 4") {
    // R: fit <- stl(austres, s.window = 11); idx <- c(1, 2, 30, 88, 89)
    StlOptions options;
    options.s_window = 11;
    const StlResult fit = fit_or_fail(kAustres, 4, options);
    const std::vector<std::size_t> idx{0, 1, 29, 87, 88};
    check_at(fit.seasonal, idx,
             {-6.86289052632, -7.34146448904, -3.87889101119, 9.67582965451, 4.55826077477},
             "seasonal");
    check_at(fit.trend, idx,
             {13076.5724552, 13134.27026, 14397.8055037, 17616.055396, 17659.0158441}, "trend");
  }
  SUBCASE("25 months of USAccDeaths: windows wider than the subseries") {
    // R: fit <- stl(ts(USAccDeaths[1:25], frequency = 12), s.window = 11); idx <- c(1, 2, 25)
    const arma::vec x = kUSAccDeaths.head(25);
    StlOptions options;
    options.s_window = 11;
    const StlResult fit = fit_or_fail(x, 12, options);
    const std::vector<std::size_t> idx{0, 1, 24};
    check_at(fit.seasonal, idx, {-959.50439458, -1887.18307604, -942.381005253}, "seasonal");
    check_at(fit.trend, idx, {10091.4351265, 10008.8662795, 8686.69522249}, "trend");
  }
}

TEST_CASE("stl: invalid input is an error, as in R") {
  const arma::vec x = kUSAccDeaths.head(24);
  // R: stl(ts(USAccDeaths[1:24], frequency = 12), s.window = 11)
  //    Error: series is not periodic or has less than two periods
  CHECK_FALSE(stl(x, 12).ok());
  CHECK(stl(kUSAccDeaths.head(25), 12).ok());
  CHECK_FALSE(stl(kUSAccDeaths, 1).ok());
  StlOptions bad_degree;
  bad_degree.t_degree = 2;
  CHECK_FALSE(stl(kUSAccDeaths, 12, bad_degree).ok());
  arma::vec with_nan = kUSAccDeaths;
  with_nan[10] = arma::datum::nan;
  const auto r = stl(with_nan, 12);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == aiops::Errc::invalid_argument);
}

TEST_CASE("mstl: several seasonal periods match forecast::mstl") {
  // R: m <- mstl(msts(as.numeric(USAccDeaths), seasonal.periods = c(12, 3)))
  //    idx <- c(1, 2, 36, 71, 72)
  //    f(m[idx, "Trend"]); f(m[idx, "Seasonal3"]); f(m[idx, "Seasonal12"]); f(m[idx, "Remainder"])
  auto r = mstl_multi(kUSAccDeaths, {12, 3});
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  const auto& m = r.value();
  REQUIRE(m.periods == std::vector<std::size_t>{3, 12});
  const std::vector<std::size_t> idx{0, 1, 35, 70, 71};
  check_at(m.trend, idx,
           {9991.00910651, 9922.44065035, 8461.55020448, 9015.58084608, 9059.53660831}, "trend");
  check_at(m.seasonal[0], idx,
           {145.657105826, -168.184653463, -108.386069001, -208.033865948, 5.93988597156},
           "seasonal3");
  check_at(m.seasonal[1], idx,
           {-997.16504507, -1443.91099997, 11.3565117728, -163.653905558, 47.9462249006},
           "seasonal12");
  check_at(m.remainder, idx,
           {-132.501167265, -204.344996918, -330.520647249, -10.8930745731, 126.577280816},
           "remainder");
  CHECK(arma::approx_equal(m.trend + m.seasonal[0] + m.seasonal[1] + m.remainder, kUSAccDeaths,
                           "absdiff", 1e-8));
}

TEST_CASE("mstl: periods without two full cycles are dropped") {
  // R: mstl(msts(as.numeric(USAccDeaths), seasonal.periods = c(12, 40)))
  //    warns "Dropping seasonal components with fewer than two full periods"
  //    and keeps only Seasonal12, which then equals the c(12) decomposition.
  auto both = mstl_multi(kUSAccDeaths, {12, 40});
  auto one = mstl_multi(kUSAccDeaths, {12});
  REQUIRE(both.ok());
  REQUIRE(one.ok());
  CHECK(both->periods == std::vector<std::size_t>{12});
  CHECK(arma::approx_equal(both->seasonal[0], one->seasonal[0], "absdiff", 0.0));
  CHECK_FALSE(mstl_multi(kUSAccDeaths, {36, 40}).ok());
}
