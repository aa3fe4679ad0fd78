#pragma once
// Boost.Asio, as aiops includes it. Boost 1.74's Asio uses std::exchange in
// its C++20 coroutine support without including <utility>; including it
// first keeps every translation unit compiling.

#include <utility>

#include <boost/asio.hpp>
