"""Draw the app icons (run: .venv/bin/python pwa/icons/make_icons.py). Needs Pillow.

icon-*.png: rounded navy tile, for "any"; maskable-*.png: full-bleed navy with the
mark inside the central 80% safe zone, for Android adaptive icons. favicon-48.png: the
page's tab icon, 64 colours (under 1 KB, so a first visit on 2G does not pay for a
192 px icon it only shows at 16-48 px).
"""
from pathlib import Path

from PIL import Image, ImageDraw

NAVY = (11, 61, 110, 255)
WHITE = (255, 255, 255, 255)
GOLD = (242, 183, 5, 255)
HERE = Path(__file__).resolve().parent
SS = 4  # supersampling for smooth edges


def mark(draw: ImageDraw.ImageDraw, cx: float, cy: float, s: float) -> None:
    """A house with a check badge, centred on (cx, cy), about s wide."""
    w = s * 0.74
    roof_top = cy - s * 0.40
    eave = cy - s * 0.06
    left, right = cx - w / 2, cx + w / 2
    body_l, body_r = cx - w * 0.36, cx + w * 0.36
    bottom = cy + s * 0.36
    line = max(2, int(s * 0.075))
    draw.line([(left, eave + line * 0.4), (cx, roof_top), (right, eave + line * 0.4)], fill=WHITE, width=line, joint='curve')
    draw.rectangle([body_l, eave, body_r, bottom], outline=WHITE, width=line)
    door_w = w * 0.18
    draw.rectangle([cx - door_w / 2, bottom - s * 0.22, cx + door_w / 2, bottom], fill=WHITE)
    # check badge
    r = s * 0.19
    bx, by = cx + w * 0.40, cy + s * 0.28
    draw.ellipse([bx - r, by - r, bx + r, by + r], fill=GOLD, outline=NAVY, width=max(2, int(s * 0.03)))
    cw = max(2, int(s * 0.05))
    draw.line([(bx - r * 0.48, by + r * 0.02), (bx - r * 0.1, by + r * 0.4), (bx + r * 0.52, by - r * 0.38)], fill=NAVY, width=cw, joint='curve')


def icon(size: int, maskable: bool) -> Image.Image:
    big = size * SS
    img = Image.new('RGBA', (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle([0, 0, big, big], fill=NAVY)
        mark(d, big * 0.47, big * 0.5, big * 0.62)   # inside the 80% safe circle
    else:
        d.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 0.22, fill=NAVY)
        mark(d, big * 0.46, big * 0.5, big * 0.78)
    return img.resize((size, size), Image.LANCZOS)


if __name__ == '__main__':
    for size in (192, 512):
        icon(size, False).save(HERE / f'icon-{size}.png', optimize=True)
        icon(size, True).save(HERE / f'maskable-{size}.png', optimize=True)
    icon(48, False).quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(HERE / 'favicon-48.png', optimize=True)
    print('icons written to', HERE)
