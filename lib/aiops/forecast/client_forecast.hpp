#pragma once
// One client's forecast for the update window, as the priority scoring
// (priority.hpp) and the CLI consume it: totals over the window of the
// predicted operations and bytes, with the upper ends of the 80% and 95%
// prediction intervals of those totals, and which model produced them.

#include <string>

#include "aiops/forecast/io_mix.hpp"

namespace aiops::forecast {

struct WindowTotal {
  double mean = 0;     // expected total over the window, >= 0
  double upper80 = 0;  // upper end of the 80% interval of the total
  double upper95 = 0;  // upper end of the 95% interval of the total
};

struct ClientForecast {
  std::string client;  // name as in the trace
  std::string model;   // e.g. "ARIMA(1,0,1)(0,1,1)[24]", or "constant" for a fallback
  bool fallback = false;       // a simple model replaced ARIMA
  std::string fallback_reason;  // why, when fallback
  WindowTotal ops;
  WindowTotal bytes;
  IoMix mix;
};

}  // namespace aiops::forecast
