#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Render a terminal screen captured by `tmux capture-pane -p -e` (text with
SGR escape sequences) to a PNG, one character cell at a time, with colours.

    ansi2png.py COLS LINES IN.txt OUT.png [TITLE]

Needs Debian's python3-pil and fonts-dejavu-core. Handles what tmux writes:
SGR 0/1/2/3/4/7 and their resets, the 8 + 8 colours, 256 colours and
24-bit colours. Block elements (U+2580..U+259F) are drawn as rectangles so
that bars and sparklines join without gaps.
"""
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
PAD = 14
TITLE_H = 28
BG = (0x1d, 0x1f, 0x21)
FG = (0xd0, 0xd3, 0xd0)
# Tango, the 16 base colours
PALETTE = [
    (0x2e, 0x34, 0x36), (0xcc, 0x00, 0x00), (0x4e, 0x9a, 0x06), (0xc4, 0xa0, 0x00),
    (0x34, 0x65, 0xa4), (0x75, 0x50, 0x7b), (0x06, 0x98, 0x9a), (0xd3, 0xd7, 0xcf),
    (0x55, 0x57, 0x53), (0xef, 0x29, 0x29), (0x8a, 0xe2, 0x34), (0xfc, 0xe9, 0x4f),
    (0x72, 0x9f, 0xcf), (0xad, 0x7f, 0xa8), (0x34, 0xe2, 0xe2), (0xee, 0xee, 0xec),
]


def color256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Attr:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        a = Attr()
        a.__dict__.update(self.__dict__)
        return a

    def sgr(self, params):
        p = [int(x) if x else 0 for x in re.split("[;:]", params)] if params else [0]
        i = 0
        while i < len(p):
            c = p[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = PALETTE[c - 30]
            elif 40 <= c <= 47:
                self.bg = PALETTE[c - 40]
            elif 90 <= c <= 97:
                self.fg = PALETTE[c - 90 + 8]
            elif 100 <= c <= 107:
                self.bg = PALETTE[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(p):
                if p[i + 1] == 5 and i + 2 < len(p):
                    col = color256(p[i + 2])
                    i += 2
                elif p[i + 1] == 2 and i + 4 < len(p):
                    col = tuple(p[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1


TOKEN = re.compile(r"\x1b\[([0-9;:]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b.|(.)", re.S)


def parse(text, cols, lines):
    """-> grid[lines][cols] of (char, Attr)"""
    grid = [[(" ", Attr()) for _ in range(cols)] for _ in range(lines)]
    attr = Attr()
    for y, line in enumerate(text.split("\n")[:lines]):
        x = 0
        for m in TOKEN.finditer(line):
            if m.group(3) is not None:
                ch = m.group(3)
                w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
                if unicodedata.combining(ch) or x >= cols:
                    continue
                grid[y][x] = (ch, attr.copy())
                if w == 2 and x + 1 < cols:
                    grid[y][x + 1] = ("", attr.copy())
                x += w
            elif m.group(2) == "m":
                attr.sgr(m.group(1))
        # tmux leaves attributes on at the end of a line: they go on
    return grid


def blend(a, b, t):
    return tuple(int(a[i] * (1 - t) + b[i] * t) for i in range(3))


def render(grid, cols, lines, out, title):
    reg = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    cw = round(reg.getlength("M"))
    asc, desc = reg.getmetrics()
    ch_h = asc + desc
    top = PAD + (TITLE_H if title else 0)
    img = Image.new("RGB", (cols * cw + 2 * PAD, lines * ch_h + top + PAD), BG)
    d = ImageDraw.Draw(img)
    if title:
        d.rectangle([0, 0, img.width, TITLE_H], fill=(0x30, 0x33, 0x36))
        for i, c in enumerate([(0xed, 0x6a, 0x5e), (0xf5, 0xbf, 0x4f), (0x62, 0xc5, 0x54)]):
            cx = PAD + 6 + i * 20
            d.ellipse([cx - 6, TITLE_H // 2 - 6, cx + 6, TITLE_H // 2 + 6], fill=c)
        tw = reg.getlength(title)
        d.text(((img.width - tw) / 2, (TITLE_H - ch_h) / 2), title, font=reg, fill=(0xc0, 0xc0, 0xc0))
    for y in range(lines):
        for x in range(cols):
            ch, a = grid[y][x]
            fg = a.fg or FG
            bg = a.bg or BG
            if a.reverse:
                fg, bg = (a.bg or BG), (a.fg or FG)
            if a.dim:
                fg = blend(fg, bg, 0.45)
            x0, y0 = PAD + x * cw, top + y * ch_h
            if bg != BG:
                d.rectangle([x0, y0, x0 + cw - 1, y0 + ch_h - 1], fill=bg)
            if not ch or ch == " ":
                continue
            o = ord(ch)
            if 0x2581 <= o <= 0x2588:  # lower blocks: 1/8 .. 8/8 (a 2-pixel gap above a full one)
                h = round((ch_h - 2) * (o - 0x2580) / 8)
                d.rectangle([x0, y0 + ch_h - h, x0 + cw - 1, y0 + ch_h - 1], fill=fg)
                continue
            if o == 0x2580:  # upper half
                d.rectangle([x0, y0, x0 + cw - 1, y0 + ch_h // 2 - 1], fill=fg)
                continue
            d.text((x0, y0), ch, font=bold if a.bold else reg, fill=fg)
            if a.underline:
                d.line([x0, y0 + asc + 1, x0 + cw - 1, y0 + asc + 1], fill=fg)
    img.save(out, optimize=True)


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    cols, lines = int(sys.argv[1]), int(sys.argv[2])
    with open(sys.argv[3], encoding="utf-8", errors="replace") as f:
        text = f.read()
    render(parse(text, cols, lines), cols, lines, sys.argv[4], sys.argv[5] if len(sys.argv) == 6 else "")


if __name__ == "__main__":
    main()
