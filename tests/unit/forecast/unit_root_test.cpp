// The differencing tests auto_arima uses, against R 4.2.2 with forecast 8.20
// and urca 1.3.3: forecast:::is.constant, urca::ur.kpss as ndiffs calls it,
// ndiffs (test "kpss"), forecast:::seas.heuristic and nsdiffs (test "seas").
//
// Datasets are R's, embedded with `dput(as.numeric(x))` (reformatted). The R
// commands that produced each reference value are in the comments; numbers
// were printed with sprintf("%.17g", ...). Setup for all of them:
//   library(forecast); library(urca)
//   kpss <- function(x, lag = trunc(3 * sqrt(length(x)) / 13))
//     ur.kpss(as.numeric(x), type = "mu", use.lag = lag)@teststat

#include "aiops/forecast/unit_root.hpp"

#include <doctest/doctest.h>

#include <armadillo>

#include <cmath>
#include <cstddef>
#include <limits>

using aiops::forecast::is_constant;
using aiops::forecast::kpss_lags;
using aiops::forecast::kpss_pvalue;
using aiops::forecast::kpss_statistic;
using aiops::forecast::ndiffs;
using aiops::forecast::nsdiffs;
using aiops::forecast::seasonal_strength;

namespace {

// R: AirPassengers, USAccDeaths, nottem, ldeaths, austres, Nile, LakeHuron,
// WWWusage, lynx, lh.
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

const arma::vec kLdeaths = {
    3035, 2552, 2704, 2554, 2014, 1655, 1721, 1524, 1596, 2074, 2199, 2512, 2933, 2889, 2938,
    2497, 1870, 1726, 1607, 1545, 1396, 1787, 2076, 2837, 2787, 3891, 3179, 2011, 1636, 1580,
    1489, 1300, 1356, 1653, 2013, 2823, 3102, 2294, 2385, 2444, 1748, 1554, 1498, 1361, 1346,
    1564, 1640, 2293, 2815, 3137, 2679, 1969, 1870, 1633, 1529, 1366, 1357, 1570, 1535, 2491,
    3084, 2605, 2573, 2143, 1693, 1504, 1461, 1354, 1333, 1492, 1781, 1915
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

const arma::vec kNile = {
    1120, 1160, 963, 1210, 1160, 1160, 813, 1230, 1370, 1140, 995, 935, 1110, 994, 1020, 960,
    1180, 799, 958, 1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774, 840, 874, 694,
    940, 833, 701, 916, 692, 1020, 1050, 969, 831, 726, 456, 824, 702, 1120, 1100, 832, 764,
    821, 768, 845, 864, 862, 698, 845, 744, 796, 1040, 759, 781, 865, 845, 944, 984, 897, 822,
    1010, 771, 676, 649, 846, 812, 742, 801, 1040, 860, 874, 848, 890, 744, 749, 838, 1050,
    918, 986, 797, 923, 975, 815, 1020, 906, 901, 1170, 912, 746, 919, 718, 714, 740
};

const arma::vec kLakeHuron = {
    580.38, 581.86, 580.97, 580.80, 579.79, 580.39, 580.42, 580.82, 581.40, 581.32, 581.44,
    581.68, 581.17, 580.53, 580.01, 579.91, 579.14, 579.16, 579.55, 579.67, 578.44, 578.24,
    579.10, 579.09, 579.35, 578.82, 579.32, 579.01, 579.00, 579.80, 579.83, 579.72, 579.89,
    580.01, 579.37, 578.69, 578.19, 578.67, 579.55, 578.92, 578.09, 579.37, 580.13, 580.14,
    579.51, 579.24, 578.66, 578.86, 578.05, 577.79, 576.75, 576.75, 577.82, 578.64, 580.58,
    579.48, 577.38, 576.90, 576.94, 576.24, 576.84, 576.85, 576.90, 577.79, 578.18, 577.51,
    577.23, 578.42, 579.61, 579.05, 579.26, 579.22, 579.38, 579.10, 577.95, 578.12, 579.75,
    580.85, 580.41, 579.96, 579.61, 578.76, 578.18, 577.21, 577.13, 579.10, 578.25, 577.91,
    576.89, 575.96, 576.80, 577.68, 578.38, 578.52, 579.74, 579.31, 579.89, 579.96
};

const arma::vec kWWWusage = {
    88, 84, 85, 85, 84, 85, 83, 85, 88, 89, 91, 99, 104, 112, 126, 138, 146, 151, 150, 148,
    147, 149, 143, 132, 131, 139, 147, 150, 148, 145, 140, 134, 131, 131, 129, 126, 126, 132,
    137, 140, 142, 150, 159, 167, 170, 171, 172, 172, 174, 175, 172, 172, 174, 174, 169, 165,
    156, 142, 131, 121, 112, 104, 102, 99, 99, 95, 88, 84, 84, 87, 89, 88, 85, 86, 89, 91, 91,
    94, 101, 110, 121, 135, 145, 149, 156, 165, 171, 175, 177, 182, 193, 204, 208, 210, 215,
    222, 228, 226, 222, 220
};

const arma::vec kLynx = {
    269, 321, 585, 871, 1475, 2821, 3928, 5943, 4950, 2577, 523, 98, 184, 279, 409, 2285, 2685,
    3409, 1824, 409, 151, 45, 68, 213, 546, 1033, 2129, 2536, 957, 361, 377, 225, 360, 731,
    1638, 2725, 2871, 2119, 684, 299, 236, 245, 552, 1623, 3311, 6721, 4254, 687, 255, 473,
    358, 784, 1594, 1676, 2251, 1426, 756, 299, 201, 229, 469, 736, 2042, 2811, 4431, 2511,
    389, 73, 39, 49, 59, 188, 377, 1292, 4031, 3495, 587, 105, 153, 387, 758, 1307, 3465, 6991,
    6313, 3794, 1836, 345, 382, 808, 1388, 2713, 3800, 3091, 2985, 3790, 674, 81, 80, 108, 229,
    399, 1132, 2432, 3574, 2935, 1537, 529, 485, 662, 1000, 1590, 2657, 3396
};

const arma::vec kLh = {
    2.4, 2.4, 2.4, 2.2, 2.1, 1.5, 2.3, 2.3, 2.5, 2.0, 1.9, 1.7, 2.2, 1.8, 3.2, 3.2, 2.7, 2.2,
    2.2, 1.9, 1.9, 1.8, 2.7, 3.0, 2.3, 2.0, 2.0, 2.9, 2.9, 2.7, 2.7, 2.3, 2.6, 2.4, 1.8, 1.7,
    1.5, 1.4, 2.1, 3.3, 3.5, 3.5, 3.1, 2.6, 2.1, 3.4, 3.0, 2.9
};

// A Gaussian random walk, rounded so that it can be embedded exactly:
//   set.seed(42); rw <- round(cumsum(rnorm(60)), 4); dput(rw)
const arma::vec kRandomWalk = {
    1.371, 0.8063, 1.1694, 1.8023, 2.2065, 2.1004, 3.6119, 3.5173, 5.5357, 5.473, 6.7778,
    9.0645, 7.6756, 7.3968, 7.2635, 7.8995, 7.6152, 4.9588, 2.5183, 3.8384, 3.5318, 1.7505,
    1.5785, 2.7932, 4.6884, 4.2579, 4.0007, 2.2375, 2.6976, 2.0576, 2.5131, 3.2179, 4.253,
    3.6441, 4.149, 2.432, 1.6476, 0.7966, -1.6176, -1.5814, -1.3754, -1.7365, -0.9783,
    -1.705, -3.0733, -2.6405, -3.4519, -2.0078, -2.4392, -1.7836, -1.4617, -2.2455, -0.6698,
    -0.0269, 0.0629, 0.3394, 1.0187, 1.1086, -1.8845, -1.5996};

// A 12-periodic pattern for synthetic seasonal series.
const arma::vec kPattern = {3, 5, 2, -1, -4, -6, -3, 0, 1, 4, 2, -3};

arma::vec repeat(const arma::vec& v, std::size_t times) { return arma::repmat(v, times, 1); }

arma::vec seq(double from, double to) { return arma::regspace(from, to); }

arma::vec seasonal_difference(const arma::vec& x, std::size_t lag) {
  return x.tail(x.n_elem - lag) - x.head(x.n_elem - lag);
}

arma::vec difference(const arma::vec& x) { return seasonal_difference(x, 1); }

double strength_of(const arma::vec& x, std::size_t period) {
  auto r = seasonal_strength(x, period);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return r.value();
}

// Both sides compute the same formulas in double precision; the references
// carry 17 digits, so agreement is far tighter than this.
bool close(double actual, double expected) {
  return std::fabs(actual - expected) <= 1e-12 + 1e-9 * std::fabs(expected);
}

}  // namespace

TEST_CASE("is_constant follows all.equal's relative/absolute tolerance") {
  // R: forecast:::is.constant(c(1, 1 + 1e-9, 1)) TRUE; c(1, 1 + 1e-7, 1) FALSE;
  //    c(0, 1e-9, 0) TRUE (absolute: the differing values are below the
  //    tolerance); c(0, 1e-7, 0) FALSE (relative to 1e-7 itself);
  //    c(0, 1e-9, -1e-9) TRUE; c(1e-9, 0, 0) TRUE
  CHECK(is_constant(arma::vec{1, 1 + 1e-9, 1}));
  CHECK_FALSE(is_constant(arma::vec{1, 1 + 1e-7, 1}));
  CHECK(is_constant(arma::vec{0, 1e-9, 0}));
  CHECK_FALSE(is_constant(arma::vec{0, 1e-7, 0}));
  CHECK(is_constant(arma::vec{0, 1e-9, -1e-9}));
  CHECK(is_constant(arma::vec{1e-9, 0, 0}));
  CHECK(is_constant(arma::vec{}));
  CHECK(is_constant(arma::vec{42}));
  CHECK(is_constant(arma::vec(10, arma::fill::value(3.5))));
  CHECK_FALSE(is_constant(kNile));
}

TEST_CASE("KPSS level statistic matches urca::ur.kpss") {
  SUBCASE("lag truncation trunc(3 sqrt(n) / 13)") {
    // R: trunc(3 * sqrt(c(48, 60, 100, 114)) / 13) = 1 1 2 2
    CHECK(kpss_lags(48) == 1);
    CHECK(kpss_lags(60) == 1);
    CHECK(kpss_lags(100) == 2);
    CHECK(kpss_lags(114) == 2);
    CHECK(kpss_lags(1) == 0);
  }
  SUBCASE("statistic on levels and first differences") {
    struct Case {
      const char* name;
      const arma::vec* x;
      double level;  // kpss(x)
      double diff1;  // kpss(diff(x))
    };
    const arma::vec d_ap = seasonal_difference(kAirPassengers, 12);
    const arma::vec d_log_ap = seasonal_difference(arma::log(kAirPassengers), 12);
    // R: for each x below, sprintf("%.17g", c(kpss(x), kpss(diff(x))))
    //    with dAP <- diff(AirPassengers, lag = 12),
    //         dlAP <- diff(log(AirPassengers), lag = 12)
    const Case cases[] = {
        {"Nile", &kNile, 1.3152264631776729, 0.019622131546129944},
        {"LakeHuron", &kLakeHuron, 1.2212185693949937, 0.052225864033948577},
        {"WWWusage", &kWWWusage, 0.72197431808158374, 0.26351939875071551},
        {"lynx", &kLynx, 0.069465082094401678, 0.014505941899675762},
        {"lh", &kLh, 0.36788911081520875, 0.029455607894579922},
        {"austres", &kAustres, 3.0445999634784178, 0.67289356151736912},
        {"dAP", &d_ap, 0.97040247950582181, 0.041862714045268153},
        {"dlAP", &d_log_ap, 0.53668794744471604, 0.058568500494841129},
        {"random walk", &kRandomWalk, 1.8149193463974451, 0.13964622207405136},
        {"AirPassengers", &kAirPassengers, 4.3422867971141299, 0.011484728338723351},
    };
    for (const Case& c : cases) {
      INFO(c.name);
      const arma::vec& x = *c.x;
      const double level = kpss_statistic(x, kpss_lags(x.n_elem));
      INFO("level " << level << " R " << c.level);
      CHECK(close(level, c.level));
      const arma::vec dx = difference(x);
      const double diff1 = kpss_statistic(dx, kpss_lags(dx.n_elem));
      INFO("diff " << diff1 << " R " << c.diff1);
      CHECK(close(diff1, c.diff1));
    }
    // R: kpss(diff(austres, differences = 2)) ; ur.kpss(WWWusage, type = "mu", lags = "nil")
    //    ; kpss(Nile, lag = 8)
    const arma::vec d2 = difference(difference(kAustres));
    CHECK(close(kpss_statistic(d2, kpss_lags(d2.n_elem)), 0.061898076366456597));
    CHECK(close(kpss_statistic(kWWWusage, 0), 2.0800057804723617));
    CHECK(close(kpss_statistic(kNile, 8), 0.68151352777529295));
  }
  SUBCASE("p-value interpolated in urca's table and clamped") {
    // R: approx(c(0.347, 0.463, 0.574, 0.739), c(0.1, 0.05, 0.025, 0.01),
    //           xout = s, rule = 2)$y for s in 0.1 0.347 0.4 0.463 0.5 0.6 0.739 2
    CHECK(close(kpss_pvalue(0.1), 0.1));
    CHECK(close(kpss_pvalue(0.347), 0.1));
    CHECK(close(kpss_pvalue(0.4), 0.077155172413793105));
    CHECK(close(kpss_pvalue(0.463), 0.05));
    CHECK(close(kpss_pvalue(0.5), 0.041666666666666671));
    CHECK(close(kpss_pvalue(0.6), 0.022636363636363635));
    CHECK(close(kpss_pvalue(0.739), 0.01));
    CHECK(close(kpss_pvalue(2.0), 0.01));
    CHECK(std::isnan(kpss_pvalue(std::numeric_limits<double>::quiet_NaN())));
  }
}

TEST_CASE("ndiffs matches forecast::ndiffs (test = \"kpss\")") {
  SUBCASE("R datasets") {
    // R: sapply(list(Nile, LakeHuron, WWWusage, lynx, lh, austres, dAP, dlAP, rw,
    //                AirPassengers), ndiffs) = 1 1 1 0 0 2 1 1 1 1
    CHECK(ndiffs(kNile) == 1);
    CHECK(ndiffs(kLakeHuron) == 1);
    CHECK(ndiffs(kWWWusage) == 1);
    CHECK(ndiffs(kLynx) == 0);
    CHECK(ndiffs(kLh) == 0);
    CHECK(ndiffs(kAustres) == 2);
    CHECK(ndiffs(seasonal_difference(kAirPassengers, 12)) == 1);
    CHECK(ndiffs(seasonal_difference(arma::log(kAirPassengers), 12)) == 1);
    CHECK(ndiffs(kRandomWalk) == 1);
    CHECK(ndiffs(kAirPassengers) == 1);
  }
  SUBCASE("alpha and max_d") {
    // R: ndiffs(lh, alpha = 0.1) = 1 (statistic 0.368 > 0.347, p = 0.091);
    //    ndiffs(WWWusage, alpha = 0.01) = 0 (0.722 < 0.739);
    //    ndiffs(austres, max.d = 1) = 1.
    //    alpha outside [0.01, 0.1] is clamped (R warns): ndiffs(lh, alpha = 0.5) = 1
    CHECK(ndiffs(kLh, 0.1) == 1);
    CHECK(ndiffs(kLh, 0.5) == 1);
    CHECK(ndiffs(kWWWusage, 0.01) == 0);
    CHECK(ndiffs(kWWWusage, 0.001) == 0);
    CHECK(ndiffs(kAustres, 0.05, 1) == 1);
  }
  SUBCASE("polynomials, constants and very short series") {
    // R: ndiffs(1:10) = 1 (the first difference is constant: stop there);
    //    ndiffs((1:20)^2) = 2; ndiffs((1:30)^3) = 2 (max.d);
    //    ndiffs(rep(3, 10)) = 0; ndiffs(1 + 1e-12 * (1:50)) = 0 (is.constant);
    //    ndiffs(c(1, 2)) = 0; ndiffs(c(1, 3, 2)) = 0; ndiffs(5) = 0;
    //    ndiffs(numeric(0)) = 0; ndiffs(c(1:20, 20:1)) = 2
    CHECK(ndiffs(seq(1, 10)) == 1);
    CHECK(ndiffs(arma::square(seq(1, 20))) == 2);
    CHECK(ndiffs(arma::pow(seq(1, 30), 3)) == 2);
    CHECK(ndiffs(arma::vec(10, arma::fill::value(3.0))) == 0);
    CHECK(ndiffs(1.0 + 1e-12 * seq(1, 50)) == 0);
    CHECK(ndiffs(arma::vec{1, 2}) == 0);
    CHECK(ndiffs(arma::vec{1, 3, 2}) == 0);
    CHECK(ndiffs(arma::vec{5}) == 0);
    CHECK(ndiffs(arma::vec{}) == 0);
    CHECK(ndiffs(arma::join_cols(seq(1, 20), seq(20, 1))) == 2);
  }
  SUBCASE("NaN values are dropped first, as na.omit does") {
    // R: ndiffs(c(NA, Nile[1:50], NA, Nile[51:100])) = 1 = ndiffs(Nile)
    arma::vec x(102);
    x[0] = arma::datum::nan;
    x.subvec(1, 50) = kNile.subvec(0, 49);
    x[51] = arma::datum::nan;
    x.subvec(52, 101) = kNile.subvec(50, 99);
    CHECK(ndiffs(x) == 1);
  }
}

TEST_CASE("seasonal strength matches forecast:::seas.heuristic") {
  // R: sprintf("%.17g", forecast:::seas.heuristic(x)) for each x below
  CHECK(close(strength_of(kAirPassengers, 12), 0.94067249031021838));
  CHECK(close(strength_of(arma::log(kAirPassengers), 12), 0.96445397004482281));
  CHECK(close(strength_of(kUSAccDeaths, 12), 0.94479446488915575));
  CHECK(close(strength_of(kNottem, 12), 0.95342449324323786));
  CHECK(close(strength_of(kLdeaths, 12), 0.88829332275223516));
  CHECK(close(strength_of(kAustres, 4), 0.32480028790296034));
  // R: ts(rw, frequency = 12): a random walk has no seasonality
  CHECK(close(strength_of(kRandomWalk, 12), 0.15643686084031838));
  // R: ts(USAccDeaths[1:25], frequency = 12): just over two periods
  CHECK(close(strength_of(kUSAccDeaths.head(25), 12), 0.96842419704336413));
  // R: ts(rep(1:12, 5) + 1:60, frequency = 12)
  CHECK(close(strength_of(repeat(seq(1, 12), 5) + seq(1, 60), 12), 0.9924421038960729));
  // R: ts(rep(pat, 5), frequency = 12) with pat <- c(3, 5, 2, -1, -4, -6, -3, 0, 1, 4, 2, -3)
  //    gives 1 (clamped; the remainder is rounding noise)
  CHECK(strength_of(repeat(kPattern, 5), 12) == doctest::Approx(1.0));
  // R: ts(1:48, frequency = 12) gives 0: STL's trend reproduces a line
  //    and the clamp hides the sign of 1 - noise / noise.
  const auto line = seasonal_strength(seq(1, 48), 12);
  CHECK((!line.ok() || line.value() < 0.64));
  SUBCASE("too short or not seasonal: an error") {
    CHECK_FALSE(seasonal_strength(kUSAccDeaths.head(24), 12).ok());
    CHECK_FALSE(seasonal_strength(kNile, 1).ok());
  }
}

TEST_CASE("nsdiffs matches forecast::nsdiffs (test = \"seas\")") {
  SUBCASE("R datasets") {
    // R: nsdiffs(x) for AirPassengers, log(AirPassengers), USAccDeaths, nottem,
    //    ldeaths = 1; austres = 0; ts(rw, frequency = 12) = 0
    CHECK(nsdiffs(kAirPassengers, 12) == 1);
    CHECK(nsdiffs(arma::log(kAirPassengers), 12) == 1);
    CHECK(nsdiffs(kUSAccDeaths, 12) == 1);
    CHECK(nsdiffs(kNottem, 12) == 1);
    CHECK(nsdiffs(kLdeaths, 12) == 1);
    CHECK(nsdiffs(kAustres, 4) == 0);
    CHECK(nsdiffs(kRandomWalk, 12) == 0);
    // R: nsdiffs(x, max.D = 2) = 1 for each of them: once differenced, the
    //    strength falls well below 0.64 (e.g. AirPassengers 0.31).
    CHECK(nsdiffs(kAirPassengers, 12, 2) == 1);
    CHECK(nsdiffs(kNottem, 12, 2) == 1);
    CHECK(nsdiffs(kUSAccDeaths, 12, 2) == 1);
  }
  SUBCASE("the 0.64 threshold") {
    // R: x <- function(a) ts(a * rep(pat, 5) + rw, frequency = 12)
    //    forecast:::seas.heuristic(x(0.37)) = 0.63315455538201082, nsdiffs 0
    //    forecast:::seas.heuristic(x(0.4))  = 0.66184333367786752, nsdiffs 1
    const arma::vec below = 0.37 * repeat(kPattern, 5) + kRandomWalk;
    const arma::vec above = 0.4 * repeat(kPattern, 5) + kRandomWalk;
    CHECK(close(strength_of(below, 12), 0.63315455538201082));
    CHECK(close(strength_of(above, 12), 0.66184333367786752));
    CHECK(nsdiffs(below, 12) == 0);
    CHECK(nsdiffs(above, 12) == 1);
  }
  SUBCASE("max_D = 2 tests the differenced series again") {
    // R: x <- ts((1:60) / 5 * rep(pat, 5) + rw, frequency = 12)
    //    forecast:::seas.heuristic(x) = 0.82036405038782978
    //    forecast:::seas.heuristic(diff(x, lag = 12)) = 0.94962189223795357
    //    nsdiffs(x) = 1; nsdiffs(x, max.D = 2) = 2
    const arma::vec x = seq(1, 60) / 5.0 % repeat(kPattern, 5) + kRandomWalk;
    CHECK(close(strength_of(x, 12), 0.82036405038782978));
    CHECK(close(strength_of(seasonal_difference(x, 12), 12), 0.94962189223795357));
    CHECK(nsdiffs(x, 12) == 1);
    CHECK(nsdiffs(x, 12, 2) == 2);
    // R: nsdiffs(ts(rep(pat, 5), frequency = 12), max.D = 2) = 1: the first
    //    seasonal difference is constant, which ends the loop.
    CHECK(nsdiffs(repeat(kPattern, 5), 12, 2) == 1);
  }
  SUBCASE("edge cases") {
    // R: nsdiffs(ts(rep(7, 36), frequency = 12)) = 0 (constant);
    //    nsdiffs(ts(USAccDeaths[1:25], frequency = 12)) = 1;
    //    nsdiffs(ts(USAccDeaths[1:24], frequency = 12)) = 0 with the warning
    //      "The chosen seasonal unit root test encountered an error ...
    //       From stl(): series is not periodic or has less than two periods";
    //    nsdiffs(ts(USAccDeaths[1:12], frequency = 12)) = 0 (frequency >= length);
    //    nsdiffs(ts(USAccDeaths[1:10], frequency = 12)) = 0;
    //    nsdiffs(ts(1:48, frequency = 12)) = 0.
    //    Frequency 1 is an error in R ("Non seasonal data"); here it is 0.
    CHECK(nsdiffs(arma::vec(36, arma::fill::value(7.0)), 12) == 0);
    CHECK(nsdiffs(kUSAccDeaths.head(25), 12) == 1);
    CHECK(nsdiffs(kUSAccDeaths.head(24), 12) == 0);
    CHECK(nsdiffs(kUSAccDeaths.head(12), 12) == 0);
    CHECK(nsdiffs(kUSAccDeaths.head(10), 12) == 0);
    CHECK(nsdiffs(seq(1, 48), 12) == 0);
    CHECK(nsdiffs(kUSAccDeaths, 1) == 0);
    CHECK(nsdiffs(arma::vec{}, 12) == 0);
  }
}
