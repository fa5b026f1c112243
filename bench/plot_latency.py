#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Latency distributions of bench/run.sh's whole-start benchmarks, as SVG.

    bench/plot_latency.py SAMPLES OUT.svg

SAMPLES holds one sample per line, tab-separated: group (init or tool),
config, system, microseconds (what pipeline_bench and tool_bench append
with NSENTER_BENCH_SAMPLES=SAMPLES). One panel per group, one row per
config and system: a whisker from p10 to p90, a box from p25 to p75, a
line at the median, and the median printed beside it. Plain SVG, no
plotting library.
"""
import collections
import html
import sys


def quantile(values, q):
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def main(samples_path, out_path):
    rows = collections.OrderedDict()  # (group, config) -> {system: [us]}
    with open(samples_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            group, config, system, us = parts
            rows.setdefault((group, config), collections.OrderedDict()).setdefault(system, []).append(float(us))
    if not rows:
        sys.exit("plot_latency: no samples in " + samples_path)

    row_h, label_w, plot_w, margin = 18, 330, 560, 20
    groups = collections.OrderedDict()
    for (group, config), systems in rows.items():
        groups.setdefault(group, []).append((config, systems))
    titles = {"init": "an init started as runc's parent starts one, ending in exec of /bin/true",
              "tool": "whole commands: nsrun against util-linux (and a floor of bare system calls)"}

    out = []
    y = margin
    for group, configs in groups.items():
        hi = max(quantile(v, 0.9) for _, systems in configs for v in systems.values())
        scale = plot_w / (hi * 1.1)
        out.append(f'<text x="{margin}" y="{y + 12}" font-weight="bold">{html.escape(titles.get(group, group))}</text>')
        y += 24
        for config, systems in configs:
            out.append(f'<text x="{margin}" y="{y + 12}" font-style="italic">{html.escape(config)}</text>')
            y += row_h
            for system, values in systems.items():
                p10, p25, p50, p75, p90 = (quantile(values, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9))
                x = lambda v: label_w + v * scale  # noqa: E731
                mid = y + row_h / 2
                out.append(f'<text x="{margin + 16}" y="{y + 13}">{html.escape(system)}</text>')
                out.append(f'<line x1="{x(p10):.1f}" y1="{mid}" x2="{x(p90):.1f}" y2="{mid}" stroke="#555"/>')
                out.append(f'<rect x="{x(p25):.1f}" y="{y + 3}" width="{max(x(p75) - x(p25), 1):.1f}" '
                           f'height="{row_h - 6}" fill="#9cc3e6" stroke="#345"/>')
                out.append(f'<line x1="{x(p50):.1f}" y1="{y + 2}" x2="{x(p50):.1f}" y2="{y + row_h - 2}" '
                           f'stroke="#c00" stroke-width="2"/>')
                out.append(f'<text x="{x(p90) + 6:.1f}" y="{y + 13}" font-size="11">{p50:.0f} us</text>')
                y += row_h
        # An axis in microseconds.
        step = 500 if hi > 2000 else 250
        out.append(f'<line x1="{label_w}" y1="{y + 4}" x2="{label_w + plot_w}" y2="{y + 4}" stroke="#000"/>')
        tick = 0
        while label_w + tick * scale <= label_w + plot_w:
            tx = label_w + tick * scale
            out.append(f'<line x1="{tx:.1f}" y1="{y + 4}" x2="{tx:.1f}" y2="{y + 8}" stroke="#000"/>')
            out.append(f'<text x="{tx:.1f}" y="{y + 20}" font-size="10" text-anchor="middle">{tick}</text>')
            tick += step
        out.append(f'<text x="{label_w + plot_w}" y="{y + 34}" font-size="10" text-anchor="end">'
                   'microseconds: box p25-p75, red line median, whisker p10-p90</text>')
        y += 50

    width, height = label_w + plot_w + 80, y + margin
    with open(out_path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(out))
        f.write("\n</svg>\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
