#include "aiops/forecast/fourier.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using aiops::forecast::FourierSeason;
using aiops::forecast::FourierTerms;
using aiops::forecast::fourier_future;
using aiops::forecast::fourier_history;
using aiops::forecast::fourier_terms;
using aiops::forecast::max_harmonics;

// Reference values from R 4.2.2, forecast 8.20:
//
//   library(forecast)
//   emit <- function(m) for (i in seq_len(nrow(m)))
//     cat("{", paste(sprintf("%.17g", m[i,]), collapse=", "), "},\n")
//   x <- ts(1:50, frequency=24)
//   colnames(fourier(x, K=3))
//   emit(fourier(x, K=3)[c(1,2,7,24,50),])          # kR24History
//   emit(fourier(x, K=3, h=10)[c(1,5,10),])         # kR24Future
//   y <- msts(1:200, seasonal.periods=c(24,168))
//   colnames(fourier(y, K=c(2,3)))
//   emit(fourier(y, K=c(2,3))[c(1,100,200),])       # kRMstsHistory
//   emit(fourier(y, K=c(2,3), h=5)[c(1,5),])        # kRMstsFuture
//   z <- msts(1:30, seasonal.periods=c(4,12))
//   colnames(fourier(z, K=c(2,6)))
//   emit(fourier(z, K=c(2,6))[1:3,])                # kRDuplicates
//   colnames(fourier(msts(1:10, seasonal.periods=c(24,168)), K=c(2,8)))
//
// R computes sinpi(2*k/m * t), whose phase carries a rounding error that
// grows with t (about 1e-14 at t = 200); we reduce the phase exactly, so the
// comparison allows 1e-12.

namespace {

constexpr double kTol = 1e-12;

const std::vector<std::string> kR24Names = {"S1-24", "C1-24", "S2-24", "C2-24", "S3-24", "C3-24"};
const std::vector<std::size_t> kR24HistoryRows = {1, 2, 7, 24, 50};
const std::vector<std::vector<double>> kR24History = {
    {0.25881904510252074, 0.96592582628906831, 0.49999999999999994, 0.86602540378443871, 0.70710678118654746,
     0.70710678118654757},
    {0.49999999999999994, 0.86602540378443871, 0.8660254037844386, 0.50000000000000011, 1, 0},
    {0.96592582628906842, -0.25881904510252041, -0.49999999999999956, -0.86602540378443904, -0.70710678118654746,
     0.70710678118654735},
    {0, 1, 0, 1, 0, 1},
    {0.49999999999999839, 0.8660254037844396, 0.86602540378443682, 0.50000000000000322, 1, 0},
};
const std::vector<std::size_t> kR24FutureRows = {1, 5, 10};
const std::vector<std::vector<double>> kR24Future = {
    {0.70710678118654746, 0.70710678118654757, 1, 0, 0.70710678118654757, -0.70710678118654746},
    {0.96592582628906853, -0.25881904510251974, -0.49999999999999845, -0.86602540378443971, -0.70710678118654746,
     0.70710678118654735},
    {0, -1, 0, 1, 0, -1},
};

const std::vector<std::string> kRMstsNames = {"S1-24",  "C1-24",  "S2-24",  "C2-24",  "S1-168",
                                              "C1-168", "S2-168", "C2-168", "S3-168", "C3-168"};
const std::vector<std::size_t> kRMstsHistoryRows = {1, 100, 200};
const std::vector<std::vector<double>> kRMstsHistory = {
    {0.25881904510252074, 0.96592582628906831, 0.49999999999999994, 0.86602540378443871, 0.037391194276325618,
     0.99930070478839861, 0.07473009358642424, 0.99720379718118013, 0.11196447610330786, 0.9937122098932426},
    {0.86602540378443682, 0.50000000000000322, 0.86602540378444226, -0.49999999999999367, -0.56332005806362229,
     -0.82623877431599491, 0.93087374864420414, 0.36534102436639521, -0.97492791218182384, 0.22252093395631334},
    {0.86602540378444226, -0.49999999999999367, -0.86602540378443116, -0.50000000000001266, 0.93087374864420414,
     0.36534102436639521, 0.68017273777091969, -0.73305187182982612, -0.43388373911755662, -0.90096886790241992},
};
const std::vector<std::size_t> kRMstsFutureRows = {1, 5};
const std::vector<std::vector<double>> kRMstsFuture = {
    {0.70710678118654757, -0.70710678118654746, -1, 0, 0.94388333030836746, 0.33027906195516732, 0.62348980185873393,
     -0.78183148246802947, -0.53203207651533513, -0.84672419922828523},
    {-0.25881904510251713, -0.96592582628906931, 0.49999999999999351, 0.86602540378444237, 0.98256647323328805,
     0.18591160716291535, 0.36534102436639648, -0.93087374864420369, -0.84672419922828379, -0.53203207651533746},
};

// Periods 4 and 12: k = 3 and 6 of the 12 duplicate k = 1 and 2 of the 4,
// and 2k == m drops the sine of k = 2 of the 4 (S6-12 would be dropped too).
const std::vector<std::string> kRDuplicatesNames = {"S1-4",  "C1-4",  "C2-4",  "S1-12", "C1-12", "S2-12",
                                                    "C2-12", "S4-12", "C4-12", "S5-12", "C5-12"};
const std::vector<std::vector<double>> kRDuplicates = {
    {1, 0, -1, 0.49999999999999994, 0.86602540378443871, 0.8660254037844386, 0.50000000000000011,
     0.86602540378443871, -0.49999999999999978, 0.49999999999999994, -0.86602540378443871},
    {0, -1, 1, 0.8660254037844386, 0.50000000000000011, 0.86602540378443871, -0.49999999999999978,
     -0.86602540378443849, -0.50000000000000044, -0.86602540378443849, 0.50000000000000011},
    {-1, 0, -1, 1, 0, 0, -1, 0, 1, 1, 0},
};

FourierTerms terms_of(aiops::Result<FourierTerms> r) {
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(r).value();
}

void check_rows(const FourierTerms& t, const std::vector<std::size_t>& rows,
                const std::vector<std::vector<double>>& expected) {
  REQUIRE(rows.size() == expected.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    REQUIRE(expected[r].size() == t.x.n_cols);
    for (std::size_t c = 0; c < t.x.n_cols; ++c) {
      INFO("row " << rows[r] << " column " << t.names[c]);
      CHECK(std::abs(t.x(rows[r] - 1, c) - expected[r][c]) <= kTol);
    }
  }
}

}  // namespace

TEST_CASE("fourier: one season of 24, history and future, match R") {
  const std::vector<FourierSeason> seasons = {{24, 3}};
  FourierTerms hist = terms_of(fourier_history(50, seasons));
  CHECK(hist.x.n_rows == 50);
  CHECK(hist.names == kR24Names);
  check_rows(hist, kR24HistoryRows, kR24History);

  FourierTerms fut = terms_of(fourier_future(50, 10, seasons));
  CHECK(fut.x.n_rows == 10);
  CHECK(fut.names == kR24Names);
  check_rows(fut, kR24FutureRows, kR24Future);

  // The future is the history continued: times 51..60 from either call agree.
  FourierTerms longer = terms_of(fourier_history(60, seasons));
  CHECK(arma::approx_equal(longer.x.rows(50, 59), fut.x, "absdiff", 1e-15));
}

TEST_CASE("fourier: two seasons (24 and 168) match R's msts layout") {
  const std::vector<FourierSeason> seasons = {{24, 2}, {168, 3}};
  FourierTerms hist = terms_of(fourier_history(200, seasons));
  CHECK(hist.x.n_rows == 200);
  CHECK(hist.names == kRMstsNames);
  check_rows(hist, kRMstsHistoryRows, kRMstsHistory);

  FourierTerms fut = terms_of(fourier_future(200, 5, seasons));
  CHECK(fut.names == kRMstsNames);
  check_rows(fut, kRMstsFutureRows, kRMstsFuture);
}

TEST_CASE("fourier: duplicated frequencies and the sine of a half period are left out as in R") {
  const std::vector<FourierSeason> seasons = {{4, 2}, {12, 6}};
  FourierTerms t = terms_of(fourier_history(30, seasons));
  CHECK(t.names == kRDuplicatesNames);
  check_rows(t, {1, 2, 3}, kRDuplicates);

  // K = 8 of 168 reaches 7/168 = 1/24, which the daily season already has.
  const std::vector<FourierSeason> day_week = {{24, 2}, {168, 8}};
  FourierTerms dw = terms_of(fourier_history(10, day_week));
  const std::vector<std::string> expected = {"S1-24",  "C1-24",  "S2-24",  "C2-24",  "S1-168", "C1-168",
                                             "S2-168", "C2-168", "S3-168", "C3-168", "S4-168", "C4-168",
                                             "S5-168", "C5-168", "S6-168", "C6-168", "S8-168", "C8-168"};
  CHECK(dw.names == expected);
  CHECK(dw.x.n_cols == expected.size());
}

TEST_CASE("fourier: the largest K of an even period ends with a lone alternating cosine") {
  const std::vector<FourierSeason> seasons = {{24, 12}};
  FourierTerms t = terms_of(fourier_history(48, seasons));
  REQUIRE(t.x.n_cols == 23);
  CHECK(t.names.back() == "C12-24");
  CHECK(t.names[t.names.size() - 2] == "C11-24");
  for (std::size_t i = 0; i < 48; ++i) CHECK(t.x(i, 22) == (i % 2 == 0 ? -1.0 : 1.0));
}

TEST_CASE("fourier: exact phase reduction keeps far-away times exact") {
  // t = 1440 * 1000 + 360 is a quarter of a day after a whole number of days.
  const std::vector<FourierSeason> seasons = {{1440, 1}};
  FourierTerms t = terms_of(fourier_terms(1440 * 1000 + 360, 1, seasons));
  CHECK(t.x(0, 0) == 1.0);
  CHECK(t.x(0, 1) == 0.0);
}

TEST_CASE("fourier: non-integer periods are named by the rounded period") {
  const std::vector<FourierSeason> seasons = {{52.18, 2}};
  FourierTerms t = terms_of(fourier_history(3, seasons));
  CHECK(t.names == std::vector<std::string>{"S1-52", "C1-52", "S2-52", "C2-52"});
  CHECK(t.x(2, 2) == doctest::Approx(std::sin(2 * std::numbers::pi * 2 * 3 / 52.18)).epsilon(1e-14));
}

TEST_CASE("fourier: K = 0 and an empty time range give empty matrices") {
  const std::vector<FourierSeason> none = {{24, 0}};
  FourierTerms t = terms_of(fourier_history(10, none));
  CHECK(t.x.n_rows == 10);
  CHECK(t.x.n_cols == 0);
  CHECK(t.names.empty());

  const std::vector<FourierSeason> one = {{24, 1}};
  FourierTerms e = terms_of(fourier_future(10, 0, one));
  CHECK(e.x.n_rows == 0);
  CHECK(e.names.size() == 2);
}

TEST_CASE("fourier: K beyond period/2 and bad periods are refused with the season named") {
  const std::vector<FourierSeason> too_many = {{24, 2}, {7, 4}};
  auto r = fourier_history(10, too_many);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == aiops::Errc::invalid_argument);
  CHECK(r.error().message().find("season 2") != std::string::npos);
  CHECK(r.error().message().find("K = 4") != std::string::npos);

  const std::vector<FourierSeason> negative = {{24, -1}};
  CHECK_FALSE(fourier_history(10, negative).ok());
  const std::vector<FourierSeason> zero_period = {{0, 0}};
  CHECK_FALSE(fourier_history(10, zero_period).ok());
  const std::vector<FourierSeason> nan_period = {{std::nan(""), 0}};
  CHECK_FALSE(fourier_history(10, nan_period).ok());
}

TEST_CASE("fourier: max_harmonics is floor(period/2)") {
  CHECK(max_harmonics(24) == 12);
  CHECK(max_harmonics(7) == 3);
  CHECK(max_harmonics(1440) == 720);
  CHECK(max_harmonics(52.18) == 26);
  CHECK(max_harmonics(2) == 1);
  CHECK(max_harmonics(1.5) == 0);
  CHECK(max_harmonics(1) == 0);
  CHECK(max_harmonics(0) == 0);
  CHECK(max_harmonics(-5) == 0);
  CHECK(max_harmonics(std::nan("")) == 0);
}
