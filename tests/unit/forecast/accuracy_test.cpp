#include "aiops/forecast/accuracy.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <vector>

using aiops::forecast::mase;
using aiops::forecast::mase_scale;
using aiops::forecast::mase_snaive;
using aiops::forecast::smape;
using aiops::forecast::snaive;

// Reference values from R 4.2.2, forecast 8.20:
//
//   library(forecast)
//   smape <- function(a, f) { d <- abs(a) + abs(f); 200 * mean(ifelse(d == 0, 0, abs(a - f) / d)) }
//   train <- window(AirPassengers, end=c(1958,12)); test <- window(AirPassengers, start=c(1959,1))
//   fc <- forecast(Arima(train, order=c(0,1,1), seasonal=c(0,1,1), lambda=0), h=24)
//   fc$mean                                                    # kAirArima
//   accuracy(fc, test)["Test set","MASE"]; smape(test, fc$mean)
//   sn <- snaive(train, h=24)
//   sn$mean                                                    # kAirSnaive
//   accuracy(sn, test)["Test set","MASE"]; smape(test, sn$mean)
//   w <- ts(WWWusage[1:80]); wt <- WWWusage[81:100]
//   rf <- rwf(w, h=20, drift=TRUE)
//   rf$mean                                                    # kWwwDrift
//   accuracy(rf, wt)["Test set","MASE"]; smape(wt, rf$mean)
//   nv <- snaive(w, h=20)                                      # frequency 1: naive
//   accuracy(nv, wt)["Test set","MASE"]; smape(wt, nv$mean)
// (numbers printed with sprintf("%.17g", ...))

namespace {

const std::vector<double> kAirTrain = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170,
    158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181,
    183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347,
    312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306, 315, 301, 356, 348,
    355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337};
const std::vector<double> kAirTest = {360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
                                      417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432};
const std::vector<double> kAirArima = {
    348.5842162607118,  331.57647704008929, 383.16421946352284, 372.61060476660737, 382.95152343391948,
    453.13689015499006, 507.19979249743932, 511.23471491141402, 429.4022234364715,  376.44488109152422,
    328.15447645547687, 362.94346539919212, 372.79147273785532, 354.60263957721872, 409.77286696028892,
    398.48636177145823, 409.54540036133642, 484.60475475570024, 542.42202829986627, 546.73715388192534,
    459.2218459830292,  402.58690749720216, 350.94299987427365, 388.14789274781862};
constexpr double kAirArimaMase = 1.3805262015175004;
constexpr double kAirArimaSmape = 8.9514165459553912;
const std::vector<double> kAirSnaive = {340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
                                        340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337};
constexpr double kAirSnaiveMase = 2.4935191186001298;
constexpr double kAirSnaiveSmape = 17.012625361650954;

const std::vector<double> kWwwTrain = {
    88,  84,  85,  85,  84,  85,  83,  85,  88,  89,  91,  99,  104, 112, 126, 138, 146, 151, 150, 148,
    147, 149, 143, 132, 131, 139, 147, 150, 148, 145, 140, 134, 131, 131, 129, 126, 126, 132, 137, 140,
    142, 150, 159, 167, 170, 171, 172, 172, 174, 175, 172, 172, 174, 174, 169, 165, 156, 142, 131, 121,
    112, 104, 102, 99,  99,  95,  88,  84,  84,  87,  89,  88,  85,  86,  89,  91,  91,  94,  101, 110};
const std::vector<double> kWwwTest = {121, 135, 145, 149, 156, 165, 171, 175, 177, 182,
                                      193, 204, 208, 210, 215, 222, 228, 226, 222, 220};
const std::vector<double> kWwwDrift = {
    110.27848101265823, 110.55696202531645, 110.83544303797468, 111.11392405063292, 111.39240506329114,
    111.67088607594937, 111.94936708860759, 112.22784810126582, 112.50632911392405, 112.78481012658227,
    113.0632911392405,  113.34177215189874, 113.62025316455696, 113.89873417721519, 114.17721518987341,
    114.45569620253164, 114.73417721518987, 115.01265822784809, 115.29113924050633, 115.56962025316456};
constexpr double kWwwDriftMase = 17.977639751552793;
constexpr double kWwwDriftSmape = 47.159314006731911;
constexpr double kWwwNaiveMase = 18.695031055900618;
constexpr double kWwwNaiveSmape = 49.55029216660278;

double value_of(std::optional<double> v) {
  REQUIRE(v.has_value());
  return *v;
}

}  // namespace

TEST_CASE("accuracy: seasonal series (AirPassengers, m = 12) matches R's accuracy()") {
  CHECK(value_of(mase(kAirTrain, kAirTest, kAirArima, 12)) == doctest::Approx(kAirArimaMase).epsilon(1e-12));
  CHECK(value_of(smape(kAirTest, kAirArima)) == doctest::Approx(kAirArimaSmape).epsilon(1e-12));

  std::vector<double> sn = snaive(kAirTrain, 12, 24);
  CHECK(sn == kAirSnaive);
  CHECK(value_of(mase(kAirTrain, kAirTest, sn, 12)) == doctest::Approx(kAirSnaiveMase).epsilon(1e-12));
  CHECK(value_of(mase_snaive(kAirTrain, kAirTest, 12)) == doctest::Approx(kAirSnaiveMase).epsilon(1e-12));
  CHECK(value_of(smape(kAirTest, sn)) == doctest::Approx(kAirSnaiveSmape).epsilon(1e-12));
}

TEST_CASE("accuracy: non-seasonal series (WWWusage, m = 1) matches R's accuracy()") {
  CHECK(value_of(mase(kWwwTrain, kWwwTest, kWwwDrift, 1)) == doctest::Approx(kWwwDriftMase).epsilon(1e-12));
  CHECK(value_of(smape(kWwwTest, kWwwDrift)) == doctest::Approx(kWwwDriftSmape).epsilon(1e-12));

  std::vector<double> naive = snaive(kWwwTrain, 1, 20);
  CHECK(naive == std::vector<double>(20, 110.0));
  CHECK(value_of(mase_snaive(kWwwTrain, kWwwTest, 1)) == doctest::Approx(kWwwNaiveMase).epsilon(1e-12));
  CHECK(value_of(smape(kWwwTest, naive)) == doctest::Approx(kWwwNaiveSmape).epsilon(1e-12));
  // m = 0 means the same as m = 1.
  CHECK(value_of(mase_snaive(kWwwTrain, kWwwTest, 0)) == doctest::Approx(kWwwNaiveMase).epsilon(1e-12));
}

TEST_CASE("accuracy: a training part shorter than one season falls back to lag 1 and the naive forecast") {
  const std::vector<double> train = {1, 4, 2, 6};  // one-step |diffs| 3, 2, 4: scale 3
  CHECK(value_of(mase_scale(train, 24)) == doctest::Approx(3.0));
  CHECK(snaive(train, 24, 3) == std::vector<double>{6, 6, 6});
  const std::vector<double> actual = {9, 3};
  // errors |9-6| = 3 and |3-6| = 3: mean 3, over scale 3.
  CHECK(value_of(mase_snaive(train, actual, 24)) == doctest::Approx(1.0));

  // Exactly m values: still fewer than m + 1, so lag 1 for the scale, but a
  // whole season to repeat for the forecast.
  const std::vector<double> season = {1, 5, 2};
  CHECK(value_of(mase_scale(season, 3)) == doctest::Approx(3.5));
  CHECK(snaive(season, 3, 5) == std::vector<double>{1, 5, 2, 1, 5});
  // m + 1 values: one lag-m difference |7 - 1| = 6.
  const std::vector<double> season_plus = {1, 5, 2, 7};
  CHECK(value_of(mase_scale(season_plus, 3)) == doctest::Approx(6.0));
}

TEST_CASE("accuracy: MASE is undefined for a zero scale, too little training, or mismatched lengths") {
  const std::vector<double> flat = {5, 5, 5, 5, 5, 5};
  const std::vector<double> actual = {5, 6};
  const std::vector<double> forecast = {5, 5};
  CHECK_FALSE(mase_scale(flat, 1).has_value());
  CHECK_FALSE(mase(flat, actual, forecast, 1).has_value());
  CHECK_FALSE(mase_snaive(flat, actual, 2).has_value());
  // A repeating season has zero seasonal differences but not zero one-step ones.
  const std::vector<double> repeating = {1, 2, 1, 2, 1, 2};
  CHECK_FALSE(mase_scale(repeating, 2).has_value());
  CHECK(value_of(mase_scale(repeating, 1)) == doctest::Approx(1.0));

  const std::vector<double> one = {3};
  CHECK_FALSE(mase_scale(one, 1).has_value());
  CHECK_FALSE(mase_scale({}, 1).has_value());

  const std::vector<double> train = {1, 2, 3};
  const std::vector<double> three = {1, 2, 3};
  CHECK_FALSE(mase(train, actual, three, 1).has_value());
  CHECK_FALSE(mase(train, {}, {}, 1).has_value());
}

TEST_CASE("accuracy: sMAPE counts points where both values are 0 as perfect") {
  const std::vector<double> actual = {0, 0, 10, 0};
  const std::vector<double> forecast = {0, 5, 10, 0};
  // Terms: 0, |0-5|/5 = 1, 0, 0 -> 200 * 1/4.
  CHECK(value_of(smape(actual, forecast)) == doctest::Approx(50.0));
  const std::vector<double> zeros(4, 0.0);
  CHECK(value_of(smape(zeros, zeros)) == 0.0);
  // Opposite signs reach the maximum of 200.
  const std::vector<double> a = {1};
  const std::vector<double> f = {-1};
  CHECK(value_of(smape(a, f)) == doctest::Approx(200.0));
  CHECK_FALSE(smape(a, zeros).has_value());
  CHECK_FALSE(smape({}, {}).has_value());
}

TEST_CASE("accuracy: snaive of an empty training part is empty") {
  CHECK(snaive({}, 24, 5).empty());
  const std::vector<double> actual = {1, 2};
  CHECK_FALSE(mase_snaive({}, actual, 24).has_value());
  CHECK(snaive(kAirTrain, 12, 0).empty());
}
