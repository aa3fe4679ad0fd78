# R side of the forecasting benchmark: R's forecast::auto.arima on the same
# series `aiops forecast --backtest` is run on, for time and accuracy.
#
# Usage:
#   Rscript tests/bench/forecast_r.R --input SERIES.csv --period M --holdout H
#                                    [--cores N] --out RESULT.json
#
# Input: a series CSV with the header line `timestamp,client,value`, one row
# per client and interval; every client has the same timestamps in the same
# order (checked), values are numbers. Clients keep their order of first
# appearance.
#
# For each client, with y its n values and H the holdout:
#   train = y[1..n-H], test = y[n-H+1..n]
#   fit   = auto.arima(ts(train, frequency = M))   (all defaults)
#   f     = forecast(fit, h = H)$mean
#   naive = snaive(ts(train, frequency = M), h = H)$mean
# Only auto.arima + forecast are timed, for all series together (reading the
# CSV, the seasonal naive forecast and the error measures are not): with
# lapply when --cores is 1 (the default), with parallel::mclapply over N
# forked workers, one series per task (mc.preschedule = FALSE, since series
# differ widely in fitting time), when --cores N > 1. R's BLAS here is the
# single-threaded reference BLAS, so --cores 1 is one core.
#
# Error measures, which the C++ side (aiops forecast --backtest) computes the
# same way:
#   MASE  = mean(|test - f|) / scale, scale = mean(|train[t] - train[t-M]|)
#           over t = M+1..n-H (the in-sample MAE of the seasonal naive
#           forecast with lag M; lag 1 when M = 1), as
#           forecast::accuracy(fc, test) does when test is a ts of
#           frequency M (checked on R datasets). mase_snaive is the same
#           with naive in place of f. When scale is 0 (e.g. a constant
#           training series) MASE is not defined and is written as null.
#   sMAPE = 200 * mean over the H points of |a - f| / (|a| + |f|), a the
#           actual value; a point where a and f are both 0 counts as 0.
#           Between 0 and 200.
#
# Output (JSON, written with base R only since jsonlite is not installed):
#   {"tool":"R forecast 8.20","cores":N,"period":M,"holdout":H,"seconds":T,
#    "series":K,"mean_mase":..,"mean_mase_snaive":..,"mean_smape":..,
#    "mean_smape_snaive":..,
#    "clients":[{"client":"..","model":"ARIMA(p,d,q)(P,D,Q)[m] ..",
#                "mase":..,"smape":..,"mase_snaive":..,"smape_snaive":..}]}
# model is R's own model string (forecast:::arima.string, as print(fit)
# shows it: the seasonal part is left out when P = D = Q = 0, followed by
# "with drift" / "with non-zero mean" / "with zero mean" where R prints it).
# The means are over the clients whose measure is defined (not null).
# A client whose auto.arima fails (it should not) gets model "error: ..."
# and null measures; the run still succeeds and says so on stderr.

suppressPackageStartupMessages({
  library(forecast)
  library(parallel)
})

fail <- function(...) {
  cat("forecast_r.R: ", ..., "\n", file = stderr(), sep = "")
  quit(save = "no", status = 2)
}

usage <- "usage: Rscript tests/bench/forecast_r.R --input SERIES.csv --period M --holdout H [--cores N] --out RESULT.json"

parse_args <- function(args) {
  opts <- list(cores = "1")
  i <- 1
  while (i <= length(args)) {
    a <- args[i]
    if (a %in% c("-h", "--help")) {
      cat(usage, "\n")
      quit(save = "no", status = 0)
    }
    if (!startsWith(a, "--")) fail("unexpected argument '", a, "'\n", usage)
    if (grepl("=", a, fixed = TRUE)) {
      key <- sub("=.*$", "", substring(a, 3))
      val <- sub("^[^=]*=", "", a)
      i <- i + 1
    } else {
      if (i == length(args)) fail("option ", a, " needs a value\n", usage)
      key <- substring(a, 3)
      val <- args[i + 1]
      i <- i + 2
    }
    if (!key %in% c("input", "period", "holdout", "cores", "out")) {
      fail("unknown option --", key, "\n", usage)
    }
    opts[[key]] <- val
  }
  for (k in c("input", "period", "holdout", "out")) {
    if (is.null(opts[[k]])) fail("missing --", k, "\n", usage)
  }
  positive_int <- function(k) {
    v <- suppressWarnings(as.integer(opts[[k]]))
    if (is.na(v) || v < 1 || as.character(v) != opts[[k]]) {
      fail("--", k, " must be a positive integer, got '", opts[[k]], "'")
    }
    v
  }
  opts$period <- positive_int("period")
  opts$holdout <- positive_int("holdout")
  opts$cores <- positive_int("cores")
  opts
}

read_series <- function(path) {
  if (!file.exists(path)) fail(path, ": no such file")
  header <- readLines(path, n = 1)
  if (length(header) == 0 || gsub("[[:space:]\"]", "", header) != "timestamp,client,value") {
    fail(path, ":1: expected the header 'timestamp,client,value'")
  }
  d <- tryCatch(
    read.csv(path, colClasses = c("character", "character", "character"),
             strip.white = TRUE),
    error = function(e) fail(path, ": ", conditionMessage(e)))
  if (nrow(d) == 0) fail(path, ": no data rows")
  value <- suppressWarnings(as.numeric(d$value))
  bad <- which(is.na(value))
  if (length(bad) > 0) {
    fail(path, ":", bad[1] + 1, ":3: value '", d$value[bad[1]], "' is not a number")
  }
  clients <- unique(d$client)
  rows <- split(seq_len(nrow(d)), factor(d$client, levels = clients))
  stamps <- d$timestamp[rows[[1]]]
  for (c in clients) {
    if (!identical(d$timestamp[rows[[c]]], stamps)) {
      fail(path, ": client '", c, "' does not have the same timestamps as '",
           clients[1], "'")
    }
  }
  lapply(rows, function(r) value[r])
}

# Seasonal-naive scaled error, as forecast::accuracy computes it.
mase <- function(train, test, f, m) {
  scale <- mean(abs(diff(train, lag = m)))
  if (!is.finite(scale) || scale == 0) return(NA_real_)
  mean(abs(test - f)) / scale
}

smape <- function(test, f) {
  den <- abs(test) + abs(f)
  r <- ifelse(den == 0, 0, abs(test - f) / den)
  200 * mean(r)
}

fit_one <- function(train, m, h) {
  tryCatch({
    fit <- auto.arima(ts(train, frequency = m))
    list(model = forecast:::arima.string(fit),
         mean = as.numeric(forecast(fit, h = h)$mean))
  }, error = function(e) list(model = paste("error:", conditionMessage(e)), mean = NULL))
}

json_string <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  s <- gsub("\r", "\\r", s, fixed = TRUE)
  s <- gsub("\t", "\\t", s, fixed = TRUE)
  # Remaining control characters as \u00XX.
  chars <- utf8ToInt(enc2utf8(s))
  if (any(chars < 32)) {
    s <- paste(vapply(chars, function(ch) {
      if (ch < 32) sprintf("\\u%04x", ch) else intToUtf8(ch)
    }, ""), collapse = "")
  }
  paste0("\"", s, "\"")
}
json_number <- function(x) if (is.na(x) || !is.finite(x)) "null" else sprintf("%.10g", x)
mean_defined <- function(x) if (all(is.na(x))) NA_real_ else mean(x, na.rm = TRUE)

opts <- parse_args(commandArgs(trailingOnly = TRUE))
series <- read_series(opts$input)
m <- opts$period
h <- opts$holdout
n <- length(series[[1]])
if (n - h < 2) fail(opts$input, ": ", n, " intervals leave no training data with --holdout ", h)

trains <- lapply(series, function(y) y[seq_len(n - h)])
tests <- lapply(series, function(y) y[(n - h + 1):n])

started <- proc.time()[["elapsed"]]
fits <- if (opts$cores > 1) {
  mclapply(trains, fit_one, m = m, h = h, mc.cores = opts$cores, mc.preschedule = FALSE)
} else {
  lapply(trains, fit_one, m = m, h = h)
}
seconds <- proc.time()[["elapsed"]] - started

rows <- character(length(series))
results <- matrix(NA_real_, nrow = length(series), ncol = 4,
                  dimnames = list(NULL, c("mase", "smape", "mase_snaive", "smape_snaive")))
for (i in seq_along(series)) {
  fit <- fits[[i]]
  if (inherits(fit, "try-error") || is.null(fit$mean)) {
    msg <- if (inherits(fit, "try-error")) paste("error:", as.character(fit)) else fit$model
    cat("forecast_r.R: client '", names(series)[i], "': ", msg, "\n", file = stderr(), sep = "")
    fit <- list(model = msg, mean = NULL)
  }
  train <- trains[[i]]
  test <- tests[[i]]
  naive <- as.numeric(snaive(ts(train, frequency = m), h = h)$mean)
  if (!is.null(fit$mean)) {
    results[i, "mase"] <- mase(train, test, fit$mean, m)
    results[i, "smape"] <- smape(test, fit$mean)
  }
  results[i, "mase_snaive"] <- mase(train, test, naive, m)
  results[i, "smape_snaive"] <- smape(test, naive)
  rows[i] <- paste0("{\"client\":", json_string(names(series)[i]),
                    ",\"model\":", json_string(fit$model),
                    ",\"mase\":", json_number(results[i, "mase"]),
                    ",\"smape\":", json_number(results[i, "smape"]),
                    ",\"mase_snaive\":", json_number(results[i, "mase_snaive"]),
                    ",\"smape_snaive\":", json_number(results[i, "smape_snaive"]), "}")
}

json <- paste0(
  "{\"tool\":", json_string(paste("R forecast", as.character(packageVersion("forecast")))),
  ",\"cores\":", opts$cores,
  ",\"period\":", m,
  ",\"holdout\":", h,
  ",\"seconds\":", json_number(seconds),
  ",\"series\":", length(series),
  ",\"mean_mase\":", json_number(mean_defined(results[, "mase"])),
  ",\"mean_mase_snaive\":", json_number(mean_defined(results[, "mase_snaive"])),
  ",\"mean_smape\":", json_number(mean_defined(results[, "smape"])),
  ",\"mean_smape_snaive\":", json_number(mean_defined(results[, "smape_snaive"])),
  ",\"clients\":[\n", paste(rows, collapse = ",\n"), "\n]}\n")
writeLines(json, opts$out, sep = "")
cat(sprintf("forecast_r.R: %d series, %.2f s fit+forecast on %d core(s), mean MASE %.4f (snaive %.4f) -> %s\n",
            length(series), seconds, opts$cores, mean_defined(results[, "mase"]),
            mean_defined(results[, "mase_snaive"]), opts$out), file = stderr())
