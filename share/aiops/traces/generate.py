#!/usr/bin/env python3
"""Synthetic block-storage I/O traces for `aiops forecast`.

Writes the load of N clients over D days in one of the trace formats that
`aiops forecast --trace` reads. Every client has one of six behaviours (the
i-th client gets kind i mod 6, in this order):

  database   small random I/O, ~70% reads, 8 KiB; busy in business hours,
             quieter at weekends, a small nightly maintenance bump, rare spikes
  backup     large sequential writes (1 MiB) at night, a longer full backup on
             Sunday night, idle the rest of the time
  analytics  large sequential reads (512 KiB) in business hours on weekdays,
             idle at night and at weekends, rare spikes
  vdi        virtual desktops: a boot storm on weekday mornings (about
             07:20-09:10), steady during the working day, low at night
  streaming  steady sequential reads (256 KiB), a little more in the evening
             and at weekends, never idle
  general    a mild daily cycle broken by random bursts (4-10x for 0.5-3 h)
             and idle periods (3-12 h)

Times of day are UTC; each client's day is shifted by up to +-90 minutes and
its load scaled by a random factor, so no two clients of a kind are alike.
The output depends only on the options (same --seed, same bytes).

Formats (--format):
  worker  the worker's own history: header
          timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential
          then one line per client and interval with any I/O (idle intervals
          have no line), timestamp in Unix seconds, interval_s with 3 decimals
  series  header timestamp,client,value, then one line per client and
          interval (zeros included), value = operations in the interval
  native  header timestamp,client,op,offset,length,latency_us, then one line
          per request (timestamp Unix seconds with microseconds, op read or
          write), in time order
  msr     SNIA MSR Cambridge: Timestamp,Hostname,DiskNumber,Type,Offset,Size,
          ResponseTime without header, one line per request in time order,
          Timestamp as Windows FILETIME, Hostname the client name, DiskNumber 0

The per-request formats write one line per operation, so they use a smaller
default --scale (0.001, a few hundred requests per client and hour) than the
aggregated ones (1.0: up to a few hundred operations per second per client).

Examples:
  generate.py --clients 6 --days 28 --interval 1h --format worker --seed 1 --out sample.csv
  generate.py --clients 10000 --days 7 --interval 1m --format series --out big.csv
"""

import argparse
import datetime
import math
import random
import re
import sys

KINDS = ["database", "backup", "analytics", "vdi", "streaming", "general"]

# read fraction, mean read size, mean write size, sequential fraction
MIX = {
    "database": (0.70, 8192, 8192, 0.05),
    "backup": (0.03, 65536, 1048576, 0.95),
    "analytics": (0.95, 524288, 65536, 0.85),
    "vdi": (0.75, 16384, 32768, 0.20),
    "streaming": (0.98, 262144, 65536, 0.92),
    "general": (0.60, 32768, 32768, 0.30),
}

MINUTES_PER_WEEK = 7 * 24 * 60
# 1970-01-01 was a Thursday: minute 0 of the epoch is minute 3 days into a
# Monday-based week.
EPOCH_MINUTE_OF_WEEK = 3 * 24 * 60
FILETIME_UNIX_EPOCH = 116444736000000000
VOLUME_BLOCKS = (64 << 30) // 4096


def bump(h, center, width):
    """Smooth 0..1 bump around `center` (hours), zero beyond +-width."""
    d = abs(h - center)
    return 0.5 + 0.5 * math.cos(math.pi * d / width) if d < width else 0.0


def window(h, begin, end, ramp=0.25):
    """1 between begin and end (hours) with linear ramps of `ramp` hours."""
    return max(0.0, min(1.0, (h - begin) / ramp, (end - h) / ramp))


def rate(kind, h, dow):
    """Operations per second of `kind` at hour `h` (0..24) of weekday `dow` (0 = Monday)."""
    weekday = dow < 5
    if kind == "database":
        return 25 + (170 if weekday else 60) * bump(h, 13.5, 7.5) + 30 * bump(h, 2.5, 1.0)
    if kind == "backup":
        if dow == 6:
            return 420 * window(h, 0.5, 6.5)
        return 260 * window(h, 1.0, 4.0)
    if kind == "analytics":
        return 160 * window(h, 8.0, 18.5) + 40 * window(h, 20.0, 21.0) if weekday else 0.0
    if kind == "vdi":
        if not weekday:
            return 12.0
        return 15 + 110 * window(h, 8.0, 17.5) + 650 * bump(h, 8.25, 0.9)
    if kind == "streaming":
        return (90 + 40 * bump(h, 20.5, 3.5)) * (1.15 if dow >= 5 else 1.0)
    if kind == "general":
        return (20 + 40 * bump(h, 14.0, 6.0)) * (1.0 if weekday else 0.7)
    raise ValueError(kind)


def weekly_tables(interval_s):
    """Per kind: mean rate x interval_s over [m, m + interval) for every start minute m of the week."""
    span = max(1, round(interval_s / 60))
    tables = {}
    for kind in KINDS:
        minute = [rate(kind, (m % 1440) / 60.0 + 1 / 120.0, m // 1440) for m in range(MINUTES_PER_WEEK)]
        prefix = [0.0]
        for v in minute + minute[: min(span, MINUTES_PER_WEEK)]:
            prefix.append(prefix[-1] + v)
        if span <= MINUTES_PER_WEEK:
            tables[kind] = [(prefix[m + span] - prefix[m]) / span * interval_s for m in range(MINUTES_PER_WEEK)]
        else:  # intervals longer than a week: the weekly mean
            mean = prefix[MINUTES_PER_WEEK] / MINUTES_PER_WEEK
            tables[kind] = [mean * interval_s] * MINUTES_PER_WEEK
    return tables


def episodes(rng, per_day, min_h, max_h, factor, total_s):
    """Poisson episodes over the run: (start_s, end_s, multiplier)."""
    out = []
    if per_day <= 0:
        return out
    t = rng.expovariate(per_day / 86400.0)
    while t < total_s:
        out.append((t, t + rng.uniform(min_h, max_h) * 3600, factor(rng)))
        t += rng.expovariate(per_day / 86400.0)
    return out


def change_points(events, n_steps, interval_s):
    """Piecewise-constant multiplier per step as sorted (step, multiplier) changes.

    A step is inside an event when its midpoint is; overlapping events multiply.
    """
    bounds = {0}
    spans = []
    for begin, end, factor in events:
        s0 = max(0, math.ceil(begin / interval_s - 0.5))
        s1 = min(n_steps, math.ceil(end / interval_s - 0.5))
        if s1 > s0:
            spans.append((s0, s1, factor))
            bounds.update((s0, s1))
    steps = sorted(b for b in bounds if b < n_steps)
    changes = []
    for s in steps:
        m = 1.0
        for s0, s1, factor in spans:
            if s0 <= s < s1:
                m *= factor
        if not changes or changes[-1][1] != m:
            changes.append((s, m))
    return changes


class Client:
    def __init__(self, index, count, seed, n_steps, interval_s, scale):
        self.kind = KINDS[index % len(KINDS)]
        per_kind = (count + len(KINDS) - 1) // len(KINDS)
        self.name = "%s-%0*d" % (self.kind, max(2, len(str(per_kind))), index // len(KINDS) + 1)
        rng = random.Random(seed * 1_000_003 + index)
        self.rng = rng
        self.shift = rng.randint(-90, 90)
        self.scale = scale * math.exp(rng.gauss(0.0, 0.35))
        rf, rsize, wsize, seq = MIX[self.kind]
        self.read_frac = min(1.0, max(0.0, rf + rng.uniform(-0.04, 0.04)))
        self.read_size = rsize
        self.write_size = wsize
        self.seq_frac = seq
        total_s = n_steps * interval_s
        if self.kind == "general":
            events = episodes(rng, 0.8, 3, 12, lambda r: 0.0, total_s)
            events += episodes(rng, 1.2, 0.5, 3, lambda r: r.uniform(4, 10), total_s)
        elif self.kind in ("database", "analytics", "vdi"):
            events = episodes(rng, 0.15, 0.5, 2, lambda r: r.uniform(1.8, 3.0), total_s)
        else:
            events = []
        self.changes = change_points(events, n_steps, interval_s)
        self.next_change = 0
        self.multiplier = 1.0
        self.next_step = self.changes[0][0] if self.changes else n_steps
        self.end_offset = rng.randrange(VOLUME_BLOCKS) * 4096

    def multiplier_at(self, step):
        """The load multiplier of `step`; steps must be asked for in increasing order."""
        if step >= self.next_step:
            while self.next_change < len(self.changes) and self.changes[self.next_change][0] <= step:
                self.multiplier = self.changes[self.next_change][1]
                self.next_change += 1
            nxt = self.next_change
            self.next_step = self.changes[nxt][0] if nxt < len(self.changes) else float("inf")
        return self.multiplier


def parse_interval(text):
    m = re.fullmatch(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or not m:
        raise argparse.ArgumentTypeError("bad interval %r: expected e.g. 1h, 15m, 30s, 1h30m" % text)
    w, d, h, mi, s = (int(g or 0) for g in m.groups())
    seconds = (((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s
    if seconds <= 0:
        raise argparse.ArgumentTypeError("interval must be at least 1s")
    return seconds


def parse_start(text):
    try:
        t = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("bad --start %r: expected ISO 8601 like 2026-11-02T00:00:00Z" % text)
    if t.tzinfo is None:
        raise argparse.ArgumentTypeError("--start %r has no time zone; add Z or an offset such as +01:00" % text)
    return int(t.timestamp())


def write_aggregated(out, clients, fmt, start, interval_s, n_steps, tables):
    """worker and series: one line per client and interval, time-major."""
    noise = [math.exp(random.Random(7).gauss(0.0, 0.12)) for _ in range(4096)]
    if fmt == "worker":
        out.write("timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n")
    else:
        out.write("timestamp,client,value\n")
    length = "%.3f" % interval_s
    # Hoisted per client: the hot loop runs once per line.
    rows = [(c, c.rng.random, tables[c.kind], c.shift, c.scale, c.read_frac,
             c.read_size & ~511, c.write_size & ~511, c.seq_frac, c.name) for c in clients]
    for step in range(n_steps):
        t = start + step * interval_s
        mow = (t // 60 + EPOCH_MINUTE_OF_WEEK) % MINUTES_PER_WEEK
        lines = []
        add = lines.append
        if fmt == "worker":
            prefix = "%d,%s," % (t, length)
            for c, rnd, table, shift, scale, rf, rsize, wsize, seqf, name in rows:
                m = c.multiplier if step < c.next_step else c.multiplier_at(step)
                if m == 0.0:
                    continue
                lam = table[(mow + shift) % MINUTES_PER_WEEK] * scale * m * noise[int(rnd() * 4096)]
                n = int(lam + rnd())
                if n <= 0:
                    continue
                reads = min(n, int(n * rf + rnd()))
                writes = n - reads
                jitter = 0.9 + 0.2 * rnd()
                add("%s%s,%d,%d,%d,%d,%d\n" % (prefix, name, reads, writes, int(reads * rsize * jitter) & ~511,
                                                int(writes * wsize * jitter) & ~511, min(n, int(n * seqf + rnd()))))
        else:
            prefix = "%d," % t
            for c, rnd, table, shift, scale, _rf, _rs, _ws, _sq, name in rows:
                m = c.multiplier if step < c.next_step else c.multiplier_at(step)
                n = 0
                if m != 0.0:
                    n = int(table[(mow + shift) % MINUTES_PER_WEEK] * scale * m * noise[int(rnd() * 4096)] + rnd())
                add("%s%s,%d\n" % (prefix, name, n))
        out.write("".join(lines))


def write_requests(out, clients, fmt, start, interval_s, n_steps, tables):
    """native and msr: one line per request, in time order."""
    noise = [math.exp(random.Random(7).gauss(0.0, 0.12)) for _ in range(4096)]
    if fmt == "native":
        out.write("timestamp,client,op,offset,length,latency_us\n")
    interval_us = interval_s * 1_000_000
    for step in range(n_steps):
        t = start + step * interval_s
        mow = (t // 60 + EPOCH_MINUTE_OF_WEEK) % MINUTES_PER_WEEK
        requests = []
        for c in clients:
            m = c.multiplier_at(step)
            if m == 0.0:
                continue
            rng = c.rng
            lam = tables[c.kind][(mow + c.shift) % MINUTES_PER_WEEK] * c.scale * m * noise[int(rng.random() * 4096)]
            n = int(lam + rng.random())
            base_us = t * 1_000_000
            for at in sorted(base_us + int(rng.random() * interval_us) for _ in range(n)):
                write = rng.random() >= c.read_frac
                size = (c.write_size if write else c.read_size)
                if size <= 16384:
                    size = size * rng.choice((1, 1, 1, 2)) // rng.choice((1, 1, 2))
                if rng.random() < c.seq_frac:
                    offset = c.end_offset
                else:
                    offset = rng.randrange(VOLUME_BLOCKS) * 4096
                c.end_offset = offset + size
                latency_us = int(rng.lognormvariate(math.log(300 + size / 2048), 0.6))
                requests.append((at, c.name, write, offset, size, latency_us))
        requests.sort(key=lambda r: r[0])
        if fmt == "native":
            lines = ["%d.%06d,%s,%s,%d,%d,%d\n" % (at // 1_000_000, at % 1_000_000, name, "write" if w else "read",
                                                   off, size, lat)
                     for at, name, w, off, size, lat in requests]
        else:
            lines = ["%d,%s,0,%s,%d,%d,%d\n" % (FILETIME_UNIX_EPOCH + at * 10, name, "Write" if w else "Read",
                                                off, size, lat * 10)
                     for at, name, w, off, size, lat in requests]
        out.write("".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=6, help="number of clients (default 6, one of each kind)")
    parser.add_argument("--days", type=float, default=28, help="length of the trace in days (default 28)")
    parser.add_argument("--interval", type=parse_interval, default=3600,
                        help="aggregation interval, whole seconds: 1h, 15m, 1m, 30s (default 1h)")
    parser.add_argument("--start", type=parse_start, default=parse_start("2026-11-02T00:00:00Z"),
                        help="ISO 8601 start with zone (default 2026-11-02T00:00:00Z, a Monday)")
    parser.add_argument("--format", choices=["worker", "series", "native", "msr"], default="worker",
                        help="output format (default worker)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--scale", type=float, default=None,
                        help="multiplies every client's load (default 1 for worker/series, 0.001 for native/msr)")
    parser.add_argument("--out", default="-", help="output file (default stdout)")
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    n_steps = int(round(args.days * 86400 / args.interval))
    if n_steps < 1:
        parser.error("--days is shorter than one --interval")
    scale = args.scale if args.scale is not None else (0.001 if args.format in ("native", "msr") else 1.0)
    if scale < 0:
        parser.error("--scale must be >= 0")
    tables = weekly_tables(args.interval)
    clients = [Client(i, args.clients, args.seed, n_steps, args.interval, scale) for i in range(args.clients)]
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="ascii", newline="\n", buffering=1 << 20)
    try:
        if args.format in ("worker", "series"):
            write_aggregated(out, clients, args.format, args.start, args.interval, n_steps, tables)
        else:
            write_requests(out, clients, args.format, args.start, args.interval, n_steps, tables)
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
